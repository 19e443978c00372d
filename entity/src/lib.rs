//! SeaORM entities of the Digimentor database.
//!
//! This crate holds the generated-shape entity definitions and nothing else: behaviour lives in
//! the service crate, so that regenerating an entity never loses code.

pub mod access_token;
pub mod agenda_item;
pub mod agenda_item_topic;
pub mod agenda_support;
pub mod announcement;
pub mod announcement_target;
pub mod announcement_topic;
pub mod app_secret;
pub mod audit_entry;
pub mod community_plan;
pub mod community_plan_revision;
pub mod delivery;
pub mod digest_state;
pub mod event;
pub mod idempotency_key;
pub mod inbound_mail;
pub mod inquiry;
pub mod inquiry_answer_revision;
pub mod inquiry_message;
pub mod inquiry_target;
pub mod inquiry_topic;
pub mod login_failure;
pub mod meeting;
pub mod meeting_topic;
pub mod membership;
pub mod news_post;
pub mod news_topic;
pub mod organization;
pub mod partner_network;
pub mod project;
pub mod project_member;
pub mod project_topic;
pub mod project_update;
pub mod question;
pub mod question_topic;
pub mod sign_in_link;
pub mod tip;
pub mod tip_topic;
pub mod topic;
pub mod topic_subscription;
pub mod training;
pub mod training_registration;
pub mod training_topic;
pub mod user;

pub mod prelude {
    pub use super::access_token::Entity as AccessToken;
    pub use super::delivery::Entity as Delivery;
    pub use super::event::Entity as Event;
    pub use super::inquiry::Entity as Inquiry;
    pub use super::inquiry_answer_revision::Entity as InquiryAnswerRevision;
    pub use super::inquiry_message::Entity as InquiryMessage;
    pub use super::inquiry_target::Entity as InquiryTarget;
    pub use super::inquiry_topic::Entity as InquiryTopic;
    pub use super::membership::Entity as Membership;
    pub use super::organization::Entity as Organization;
    pub use super::question::Entity as Question;
    pub use super::question_topic::Entity as QuestionTopic;
    pub use super::topic::Entity as Topic;
    pub use super::topic_subscription::Entity as TopicSubscription;
    pub use super::user::Entity as User;
}
