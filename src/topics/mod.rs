//! The network's digitalisation themes that content carries and people subscribe to.

pub mod loaders;
pub mod schema;
pub mod service;
