//! Topic subscriptions, email digests and one-click unsubscribe.

pub mod digests;
pub mod schema;
pub mod service;
pub mod token;
pub mod windows;
