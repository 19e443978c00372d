//! The iCalendar form of network meetings (see [`crate::values::ical`]), in `Europe/Helsinki`.

use entity::meeting;

pub use crate::values::ical::Attendee;
use crate::values::ical::{self, CalendarItem};

/// The name calendars show for the meeting feed.
const NAME: &str = "Digimentor network meetings";

/// The stable UID of a meeting.
pub fn uid(meeting: &meeting::Model, domain: &str) -> String {
    format!("meeting-{}@{domain}", meeting.id)
}

fn item<'a>(meeting: &'a meeting::Model, domain: &str, link: String) -> CalendarItem<'a> {
    CalendarItem {
        uid: uid(meeting, domain),
        sequence: meeting.sequence,
        updated_at: meeting.updated_at,
        starts_at: meeting.starts_at,
        ends_at: meeting.ends_at,
        zone: chrono_tz::Europe::Helsinki,
        title: &meeting.title,
        description: &meeting.agenda,
        place: meeting.place.as_deref(),
        online_url: meeting.online_url.as_deref(),
        cancelled: meeting.cancelled_at.is_some(),
        link,
    }
}

/// The calendar feed of meetings (`METHOD:PUBLISH`); a cancelled meeting stays in it with
/// `STATUS:CANCELLED`, so subscribed calendars drop it.
pub fn calendar(
    meetings: &[meeting::Model],
    domain: &str,
    link: impl Fn(&meeting::Model) -> String,
) -> String {
    let items: Vec<CalendarItem<'_>> = meetings.iter().map(|m| item(m, domain, link(m))).collect();
    ical::calendar(NAME, &items)
}

/// An invitation to one meeting for one attendee (`METHOD:REQUEST`), or, when the meeting is
/// cancelled, its cancellation (`METHOD:CANCEL`). A series is one invitation per meeting.
pub fn invitation(
    meeting: &meeting::Model,
    domain: &str,
    link: &str,
    organizer: &str,
    attendee: Attendee<'_>,
) -> String {
    ical::invitation(
        NAME,
        &item(meeting, domain, link.to_owned()),
        organizer,
        attendee,
        false,
    )
}
