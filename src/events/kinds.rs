//! The names of event kinds, in one place.

pub const ORGANIZATION_CREATED: &str = "organization.created";
pub const USER_CREATED: &str = "user.created";
pub const MEMBERSHIP_ADDED: &str = "membership.added";
pub const MEMBERSHIP_REMOVED: &str = "membership.removed";
pub const TOPIC_CREATED: &str = "topic.created";
