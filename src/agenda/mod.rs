//! The network's own agenda: mentors propose items for the next network meeting, others support
//! them, the chair (an admin) places them on a meeting's agenda, and the meeting's report
//! records the items it handled.

pub mod schema;
pub mod service;
