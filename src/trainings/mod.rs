//! Trainings and community events: organised by a community (its mentors), a service unit (its
//! contacts), management (its leads) or the network (admins), with a capacity, registration,
//! a waiting list that moves up by itself, reminders, and calendars.

pub mod ical;
pub mod schema;
pub mod service;
