//! Questions: staff bring questions up to their community's mentors, who answer them or forward
//! them to the right service unit, whose contacts answer.

pub mod access;
pub mod schema;
pub mod service;
