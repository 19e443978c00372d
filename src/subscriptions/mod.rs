//! Topic subscriptions, digest settings and one-click unsubscribe (the digests themselves are
//! sent by `notify::digests`).

pub mod schema;
pub mod service;
pub mod token;
pub mod windows;
