//! Community plans: each community's goals and forms of activity per year, public, with history.

pub mod schema;
pub mod service;
