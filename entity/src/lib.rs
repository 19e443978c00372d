//! SeaORM entities of the Digimentor database.
//!
//! This crate holds the generated-shape entity definitions and nothing else: behaviour lives in
//! the service crate, so that regenerating an entity never loses code.

pub mod access_token;
pub mod event;
pub mod membership;
pub mod organization;
pub mod topic;
pub mod user;

pub mod prelude {
    pub use super::access_token::Entity as AccessToken;
    pub use super::event::Entity as Event;
    pub use super::membership::Entity as Membership;
    pub use super::organization::Entity as Organization;
    pub use super::topic::Entity as Topic;
    pub use super::user::Entity as User;
}
