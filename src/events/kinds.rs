//! The names of event kinds, in one place.

pub const ORGANIZATION_CREATED: &str = "organization.created";
pub const USER_CREATED: &str = "user.created";
pub const USER_PASSWORD_CHANGED: &str = "user.password_changed";
/// A token was revoked by logging out (`object_id` is the token).
pub const USER_LOGGED_OUT: &str = "user.logged_out";
pub const MEMBERSHIP_ADDED: &str = "membership.added";
pub const MEMBERSHIP_REMOVED: &str = "membership.removed";
pub const TOPIC_CREATED: &str = "topic.created";

pub const INQUIRY_CREATED: &str = "inquiry.created";
pub const INQUIRY_PUBLISHED: &str = "inquiry.published";
pub const INQUIRY_CLOSED: &str = "inquiry.closed";
pub const INQUIRY_ANSWERED: &str = "inquiry.answered";
pub const INQUIRY_DECLINED: &str = "inquiry.declined";
pub const INQUIRY_MESSAGE_POSTED: &str = "inquiry.message_posted";

pub const QUESTION_SUBMITTED: &str = "question.submitted";
pub const QUESTION_FORWARDED: &str = "question.forwarded";
pub const QUESTION_ANSWERED: &str = "question.answered";
pub const QUESTION_CLOSED: &str = "question.closed";

pub const NEWS_PUBLISHED: &str = "news.published";
pub const NEWS_UPDATED: &str = "news.updated";
pub const NEWS_UNPUBLISHED: &str = "news.unpublished";

pub const TIP_CREATED: &str = "tip.created";
pub const TIP_UPDATED: &str = "tip.updated";

pub const COMMUNITY_PLAN_SET: &str = "community_plan.set";

pub const MEETING_SCHEDULED: &str = "meeting.scheduled";
pub const MEETING_UPDATED: &str = "meeting.updated";

/// Kinds that topic subscribers hear about (immediately or in digests). Each carries the topics
/// of the thing it is about.
pub const FOLLOWED_BY_TOPIC: &[&str] = &[
    INQUIRY_PUBLISHED,
    INQUIRY_ANSWERED,
    NEWS_PUBLISHED,
    TIP_CREATED,
    MEETING_SCHEDULED,
];
