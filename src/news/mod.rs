//! The news column: posts (and meeting reports) readable by anyone, with an Atom feed.

pub mod schema;
pub mod service;
