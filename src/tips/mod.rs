//! The tips bank: good practices, full-text searchable, readable by anyone.

pub mod schema;
pub mod search;
pub mod service;
