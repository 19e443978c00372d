//! Network meetings: scheduling (also as a monthly series), the public list, an iCalendar feed,
//! invitations with `.ics` attachments to every mentor, and meeting reports.

pub mod ical;
pub mod loaders;
pub mod schema;
pub mod service;
