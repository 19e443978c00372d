//! The network's people and organizations: organizations, users, memberships, the contacts page.

pub mod loaders;
pub mod privacy;
pub mod schema;
pub mod service;
pub mod staff;
