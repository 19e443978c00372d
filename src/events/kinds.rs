//! Every kind of event, in one exhaustive enum: adding a kind does not compile until its emails
//! are decided (`notify::rules::emails_for`) and whether topic subscribers follow it
//! ([`EventKind::followed_by_topic`]); its audience is decided where it is appended, since
//! [`NewEvent`](super::service::NewEvent) requires one. The log stores [`EventKind::as_str`].

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    OrganizationCreated,
    /// An organization's names changed.
    OrganizationUpdated,
    UserCreated,
    UserPasswordChanged,
    /// A token was revoked by logging out (`object_id` is the token).
    UserLoggedOut,
    /// An admin (or the staff import) deactivated the account: sessions end, emails stop.
    UserDeactivated,
    UserReactivated,
    /// Someone the service did not know signed in with single sign-on and was made a staff
    /// member of the community their identity names (`object_id` is the membership).
    UserJoined,
    /// A name, language or time zone changed (by the person, or the staff import).
    UserUpdated,
    MembershipAdded,
    MembershipRemoved,
    TopicCreated,
    /// A topic's names changed.
    TopicUpdated,
    /// A topic was merged into this one (`subject_id`); the other is gone.
    TopicMerged,
    InquiryCreated,
    /// A draft was changed by its organization.
    InquiryDraftUpdated,
    InquiryPublished,
    InquiryClosed,
    InquiryAnswered,
    InquiryDeclined,
    InquiryMessagePosted,
    QuestionSubmitted,
    QuestionForwarded,
    QuestionAnswered,
    QuestionClosed,
    /// The service unit decided about a wish or a view.
    QuestionDecided,
    NewsPublished,
    NewsUpdated,
    NewsUnpublished,
    TipCreated,
    TipUpdated,
    CommunityPlanSet,
    MeetingScheduled,
    MeetingUpdated,
    MeetingCancelled,
    PartnerCreated,
    PartnerUpdated,
    AgendaItemProposed,
    AgendaItemSupported,
    AgendaItemUnsupported,
    /// An item was placed on a meeting's agenda (`object_id` is the meeting).
    AgendaItemPlaced,
    /// A meeting's agenda items were set (the subject is the meeting).
    AgendaSet,
    AnnouncementPublished,
    /// A community's mentors relayed an announcement (`object_id` is the community).
    AnnouncementRelayed,
    TrainingScheduled,
    TrainingUpdated,
    TrainingCancelled,
    /// Someone registered for a training (`object_id` is the registration).
    TrainingRegistered,
    /// Someone cancelled their registration (`object_id` is the registration).
    TrainingUnregistered,
    /// A place freed up and the first in line got it (`object_id` is the registration).
    TrainingPromoted,
    ProjectCreated,
    ProjectUpdated,
    /// Someone joined or was added to a project (`object_id` is the person).
    ProjectMemberJoined,
    /// Someone left or was taken off a project (`object_id` is the person).
    ProjectMemberLeft,
    /// A progress update was posted (`object_id` is the update).
    ProjectProgressPosted,
    /// An update's outcome became a tip (`object_id` is the update).
    ProjectOutcomePromoted,
}

impl EventKind {
    pub const ALL: [Self; 56] = [
        Self::OrganizationCreated,
        Self::OrganizationUpdated,
        Self::UserCreated,
        Self::UserPasswordChanged,
        Self::UserLoggedOut,
        Self::UserDeactivated,
        Self::UserReactivated,
        Self::UserJoined,
        Self::UserUpdated,
        Self::MembershipAdded,
        Self::MembershipRemoved,
        Self::TopicCreated,
        Self::TopicUpdated,
        Self::TopicMerged,
        Self::InquiryCreated,
        Self::InquiryDraftUpdated,
        Self::InquiryPublished,
        Self::InquiryClosed,
        Self::InquiryAnswered,
        Self::InquiryDeclined,
        Self::InquiryMessagePosted,
        Self::QuestionSubmitted,
        Self::QuestionForwarded,
        Self::QuestionAnswered,
        Self::QuestionClosed,
        Self::QuestionDecided,
        Self::NewsPublished,
        Self::NewsUpdated,
        Self::NewsUnpublished,
        Self::TipCreated,
        Self::TipUpdated,
        Self::CommunityPlanSet,
        Self::MeetingScheduled,
        Self::MeetingUpdated,
        Self::MeetingCancelled,
        Self::PartnerCreated,
        Self::PartnerUpdated,
        Self::AgendaItemProposed,
        Self::AgendaItemSupported,
        Self::AgendaItemUnsupported,
        Self::AgendaItemPlaced,
        Self::AgendaSet,
        Self::AnnouncementPublished,
        Self::AnnouncementRelayed,
        Self::TrainingScheduled,
        Self::TrainingUpdated,
        Self::TrainingCancelled,
        Self::TrainingRegistered,
        Self::TrainingUnregistered,
        Self::TrainingPromoted,
        Self::ProjectCreated,
        Self::ProjectUpdated,
        Self::ProjectMemberJoined,
        Self::ProjectMemberLeft,
        Self::ProjectProgressPosted,
        Self::ProjectOutcomePromoted,
    ];

    /// The name stored in the log and shown in the API (`inquiry.published`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OrganizationCreated => "organization.created",
            Self::OrganizationUpdated => "organization.updated",
            Self::UserCreated => "user.created",
            Self::UserDeactivated => "user.deactivated",
            Self::UserReactivated => "user.reactivated",
            Self::UserJoined => "user.joined",
            Self::UserUpdated => "user.updated",
            Self::UserPasswordChanged => "user.password_changed",
            Self::UserLoggedOut => "user.logged_out",
            Self::MembershipAdded => "membership.added",
            Self::MembershipRemoved => "membership.removed",
            Self::TopicCreated => "topic.created",
            Self::TopicUpdated => "topic.updated",
            Self::TopicMerged => "topic.merged",
            Self::InquiryCreated => "inquiry.created",
            Self::InquiryDraftUpdated => "inquiry.draft_updated",
            Self::InquiryPublished => "inquiry.published",
            Self::InquiryClosed => "inquiry.closed",
            Self::InquiryAnswered => "inquiry.answered",
            Self::InquiryDeclined => "inquiry.declined",
            Self::InquiryMessagePosted => "inquiry.message_posted",
            Self::QuestionSubmitted => "question.submitted",
            Self::QuestionForwarded => "question.forwarded",
            Self::QuestionAnswered => "question.answered",
            Self::QuestionClosed => "question.closed",
            Self::QuestionDecided => "question.decided",
            Self::NewsPublished => "news.published",
            Self::NewsUpdated => "news.updated",
            Self::NewsUnpublished => "news.unpublished",
            Self::TipCreated => "tip.created",
            Self::TipUpdated => "tip.updated",
            Self::CommunityPlanSet => "community_plan.set",
            Self::MeetingScheduled => "meeting.scheduled",
            Self::MeetingUpdated => "meeting.updated",
            Self::MeetingCancelled => "meeting.cancelled",
            Self::PartnerCreated => "partner.created",
            Self::PartnerUpdated => "partner.updated",
            Self::AgendaItemProposed => "agenda.item_proposed",
            Self::AgendaItemSupported => "agenda.item_supported",
            Self::AgendaItemUnsupported => "agenda.item_unsupported",
            Self::AgendaItemPlaced => "agenda.item_placed",
            Self::AgendaSet => "agenda.set",
            Self::AnnouncementPublished => "announcement.published",
            Self::AnnouncementRelayed => "announcement.relayed",
            Self::TrainingScheduled => "training.scheduled",
            Self::TrainingUpdated => "training.updated",
            Self::TrainingCancelled => "training.cancelled",
            Self::TrainingRegistered => "training.registered",
            Self::TrainingUnregistered => "training.unregistered",
            Self::TrainingPromoted => "training.promoted",
            Self::ProjectCreated => "project.created",
            Self::ProjectUpdated => "project.updated",
            Self::ProjectMemberJoined => "project.member_joined",
            Self::ProjectMemberLeft => "project.member_left",
            Self::ProjectProgressPosted => "project.progress_posted",
            Self::ProjectOutcomePromoted => "project.outcome_promoted",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether topic subscribers hear about it (immediately or in digests). Each such event
    /// carries the topics of the thing it is about.
    pub const fn followed_by_topic(self) -> bool {
        match self {
            Self::InquiryPublished
            | Self::InquiryAnswered
            | Self::NewsPublished
            | Self::TipCreated
            | Self::MeetingScheduled
            | Self::MeetingUpdated
            | Self::MeetingCancelled
            | Self::TrainingScheduled
            | Self::TrainingUpdated
            | Self::TrainingCancelled
            | Self::ProjectCreated
            | Self::ProjectProgressPosted
            | Self::AnnouncementPublished
            | Self::AgendaItemProposed => true,
            Self::OrganizationCreated
            | Self::OrganizationUpdated
            | Self::UserCreated
            | Self::UserPasswordChanged
            | Self::UserLoggedOut
            | Self::UserDeactivated
            | Self::UserReactivated
            | Self::UserJoined
            | Self::UserUpdated
            | Self::MembershipAdded
            | Self::MembershipRemoved
            | Self::TopicCreated
            | Self::TopicUpdated
            | Self::TopicMerged
            | Self::InquiryCreated
            | Self::InquiryDraftUpdated
            | Self::InquiryClosed
            | Self::InquiryDeclined
            | Self::InquiryMessagePosted
            | Self::QuestionSubmitted
            | Self::QuestionForwarded
            | Self::QuestionAnswered
            | Self::QuestionClosed
            | Self::QuestionDecided
            | Self::NewsUpdated
            | Self::NewsUnpublished
            | Self::TipUpdated
            | Self::CommunityPlanSet
            | Self::PartnerCreated
            | Self::PartnerUpdated
            | Self::AgendaItemSupported
            | Self::AgendaItemUnsupported
            | Self::AgendaItemPlaced
            | Self::AgendaSet
            | Self::AnnouncementRelayed
            | Self::TrainingRegistered
            | Self::TrainingUnregistered
            | Self::TrainingPromoted
            | Self::ProjectUpdated
            | Self::ProjectMemberJoined
            | Self::ProjectMemberLeft
            | Self::ProjectOutcomePromoted => false,
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// The stored names, for comparing with an event row's `kind`.
pub const ORGANIZATION_CREATED: &str = EventKind::OrganizationCreated.as_str();
pub const USER_CREATED: &str = EventKind::UserCreated.as_str();
pub const USER_PASSWORD_CHANGED: &str = EventKind::UserPasswordChanged.as_str();
pub const USER_LOGGED_OUT: &str = EventKind::UserLoggedOut.as_str();
pub const USER_DEACTIVATED: &str = EventKind::UserDeactivated.as_str();
pub const MEMBERSHIP_ADDED: &str = EventKind::MembershipAdded.as_str();
pub const MEMBERSHIP_REMOVED: &str = EventKind::MembershipRemoved.as_str();
pub const TOPIC_CREATED: &str = EventKind::TopicCreated.as_str();
pub const INQUIRY_CREATED: &str = EventKind::InquiryCreated.as_str();
pub const INQUIRY_DRAFT_UPDATED: &str = EventKind::InquiryDraftUpdated.as_str();
pub const INQUIRY_PUBLISHED: &str = EventKind::InquiryPublished.as_str();
pub const INQUIRY_CLOSED: &str = EventKind::InquiryClosed.as_str();
pub const INQUIRY_ANSWERED: &str = EventKind::InquiryAnswered.as_str();
pub const INQUIRY_DECLINED: &str = EventKind::InquiryDeclined.as_str();
pub const INQUIRY_MESSAGE_POSTED: &str = EventKind::InquiryMessagePosted.as_str();
pub const QUESTION_SUBMITTED: &str = EventKind::QuestionSubmitted.as_str();
pub const QUESTION_FORWARDED: &str = EventKind::QuestionForwarded.as_str();
pub const QUESTION_ANSWERED: &str = EventKind::QuestionAnswered.as_str();
pub const QUESTION_CLOSED: &str = EventKind::QuestionClosed.as_str();
pub const NEWS_PUBLISHED: &str = EventKind::NewsPublished.as_str();
pub const NEWS_UPDATED: &str = EventKind::NewsUpdated.as_str();
pub const NEWS_UNPUBLISHED: &str = EventKind::NewsUnpublished.as_str();
pub const TIP_CREATED: &str = EventKind::TipCreated.as_str();
pub const TIP_UPDATED: &str = EventKind::TipUpdated.as_str();
pub const COMMUNITY_PLAN_SET: &str = EventKind::CommunityPlanSet.as_str();
pub const MEETING_SCHEDULED: &str = EventKind::MeetingScheduled.as_str();
pub const MEETING_UPDATED: &str = EventKind::MeetingUpdated.as_str();
pub const MEETING_CANCELLED: &str = EventKind::MeetingCancelled.as_str();
pub const AGENDA_ITEM_PLACED: &str = EventKind::AgendaItemPlaced.as_str();
pub const ANNOUNCEMENT_PUBLISHED: &str = EventKind::AnnouncementPublished.as_str();
pub const AGENDA_ITEM_PROPOSED: &str = EventKind::AgendaItemProposed.as_str();
pub const ANNOUNCEMENT_RELAYED: &str = EventKind::AnnouncementRelayed.as_str();
pub const TRAINING_SCHEDULED: &str = EventKind::TrainingScheduled.as_str();
pub const TRAINING_UPDATED: &str = EventKind::TrainingUpdated.as_str();
pub const TRAINING_CANCELLED: &str = EventKind::TrainingCancelled.as_str();
pub const TRAINING_REGISTERED: &str = EventKind::TrainingRegistered.as_str();
pub const TRAINING_UNREGISTERED: &str = EventKind::TrainingUnregistered.as_str();
pub const TRAINING_PROMOTED: &str = EventKind::TrainingPromoted.as_str();
pub const PROJECT_CREATED: &str = EventKind::ProjectCreated.as_str();
pub const PROJECT_MEMBER_JOINED: &str = EventKind::ProjectMemberJoined.as_str();
pub const PROJECT_PROGRESS_POSTED: &str = EventKind::ProjectProgressPosted.as_str();
pub const PROJECT_OUTCOME_PROMOTED: &str = EventKind::ProjectOutcomePromoted.as_str();

/// The names of the kinds that topic subscribers follow.
pub fn followed_by_topic() -> Vec<&'static str> {
    EventKind::ALL
        .into_iter()
        .filter(|k| k.followed_by_topic())
        .map(EventKind::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        let names: std::collections::HashSet<_> =
            EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len());
    }
}
