//! The iCalendar form of trainings (see [`crate::values::ical`]): times in the organiser's zone.

use entity::training;

use crate::values::ical::{self, Attendee, CalendarItem};

/// The name calendars show for the training feed.
pub const NAME: &str = "Digimentor trainings";

/// The stable UID of a training.
pub fn uid(training: &training::Model, domain: &str) -> String {
    format!("training-{}@{domain}", training.id)
}

/// A training as a calendar event; `online` says whether its online link is shown (to those
/// with a place and to its organisers).
pub fn item<'a>(
    training: &'a training::Model,
    domain: &str,
    link: String,
    online: bool,
) -> CalendarItem<'a> {
    CalendarItem {
        uid: uid(training, domain),
        sequence: training.sequence,
        updated_at: training.updated_at,
        starts_at: training.starts_at,
        ends_at: training.ends_at,
        zone: crate::values::time::zone_or_helsinki(&training.time_zone),
        title: &training.title,
        description: &training.description,
        place: training.place.as_deref(),
        online_url: training.online_url.as_deref().filter(|_| online),
        cancelled: training.cancelled_at.is_some(),
        link,
    }
}

/// The public feed of trainings (without online links, which are for those with a place).
pub fn calendar(
    trainings: &[training::Model],
    domain: &str,
    link: impl Fn(&training::Model) -> String,
) -> String {
    let items: Vec<CalendarItem<'_>> = trainings
        .iter()
        .map(|t| item(t, domain, link(t), false))
        .collect();
    ical::calendar(NAME, &items)
}

/// An invitation for one person with a place (`METHOD:REQUEST`), or its cancellation
/// (`METHOD:CANCEL`) when the training is cancelled or `withdrawn` (the person gave up their
/// place).
pub fn invitation(
    training: &training::Model,
    domain: &str,
    link: &str,
    organizer: &str,
    attendee: Attendee<'_>,
    withdrawn: bool,
) -> String {
    ical::invitation(
        NAME,
        &item(training, domain, link.to_owned(), !withdrawn),
        organizer,
        attendee,
        withdrawn,
    )
}
