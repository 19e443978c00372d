//! Development projects and groups of a community: a goal linked to the community's yearly
//! plan, coordinating mentors, members (staff join or are added), a status with dates,
//! progress updates whose outcomes the mentors promote to the tips bank, topics; public by
//! default or internal to the community; one list across the network.

pub mod schema;
pub mod service;
