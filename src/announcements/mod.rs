//! Announcements to staff through the mentors: a service unit or management addresses chosen
//! communities, whose mentors relay it to their staff and mark it relayed; the sender sees the
//! coverage ("relayed by 9 of 12").

pub mod schema;
pub mod service;
