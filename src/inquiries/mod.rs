//! Inquiries: management and service units ask communities; mentors answer on behalf of their
//! community, one slot per community, with a follow-up thread per slot.

pub mod access;
pub mod loaders;
pub mod schema;
pub mod service;
pub mod snapshots;
