//! iCalendar (RFC 5545, RFC 5546) for anything with a time and a place: network meetings and
//! trainings. Times in `Europe/Helsinki` carry its VTIMEZONE; other zones are written in UTC,
//! which every calendar converts. UIDs are stable and SEQUENCE rises with every change.

use chrono::{DateTime, Utc};

/// Europe/Helsinki with its EU daylight-saving rules.
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Helsinki\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0300\r\nTZNAME:EEST\r\nDTSTART:19700329T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0200\r\nTZNAME:EET\r\nDTSTART:19701025T040000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// One event of a calendar.
#[derive(Debug, Clone)]
pub struct CalendarItem<'a> {
    /// Stable across every version (`meeting-<id>@domain`).
    pub uid: String,
    pub sequence: i32,
    pub updated_at: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The zone its times are stated in.
    pub zone: chrono_tz::Tz,
    pub title: &'a str,
    pub description: &'a str,
    pub place: Option<&'a str>,
    pub online_url: Option<&'a str>,
    pub cancelled: bool,
    /// Its page.
    pub link: String,
}

/// A time property: local with the Helsinki VTIMEZONE, UTC for any other zone.
fn when(name: &str, at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    if zone == chrono_tz::Europe::Helsinki {
        format!(
            "{name};TZID=Europe/Helsinki:{}",
            at.with_timezone(&zone).format("%Y%m%dT%H%M%S")
        )
    } else {
        format!("{name}:{}", utc(at))
    }
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes TEXT values (RFC 5545 §3.3.11): every form of line break becomes `\n`, and other
/// control characters (which no calendar shows, and which could end a line) are dropped.
fn text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'], "\\n")
        .chars()
        .filter(|c| *c == '\t' || !c.is_control())
        .collect()
}

/// Folds a content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for ch in line.chars() {
        let len = ch.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += len;
    }
    out.push_str("\r\n");
    out
}

/// Who an invitation or a cancellation is sent to (RFC 5546 names them as `ATTENDEE`).
#[derive(Debug, Clone, Copy)]
pub struct Attendee<'a> {
    pub name: &'a str,
    pub email: &'a str,
}

/// A parameter value (RFC 5545 §3.2): quoted, without the quote, control characters or line
/// breaks that could end it.
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}'))
        .collect();
    format!("\"{clean}\"")
}

fn event(
    item: &CalendarItem<'_>,
    organizer: Option<&str>,
    attendee: Option<Attendee<'_>>,
) -> String {
    let mut lines = vec![
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", item.uid),
        format!("SEQUENCE:{}", item.sequence),
        format!("DTSTAMP:{}", utc(item.updated_at)),
        format!("LAST-MODIFIED:{}", utc(item.updated_at)),
        when("DTSTART", item.starts_at, item.zone),
        when("DTEND", item.ends_at, item.zone),
        format!("SUMMARY:{}", text(item.title)),
        format!("DESCRIPTION:{}", text(item.description)),
        format!("URL:{}", item.link),
    ];
    let location = match (item.place, item.online_url) {
        (Some(place), Some(url)) => Some(format!("{place} / {url}")),
        (Some(place), None) => Some(place.to_owned()),
        (None, Some(url)) => Some(url.to_owned()),
        (None, None) => None,
    };
    if let Some(location) = location {
        lines.push(format!("LOCATION:{}", text(&location)));
    }
    if item.cancelled {
        lines.push("STATUS:CANCELLED".to_owned());
    }
    if let Some(organizer) = organizer {
        lines.push(format!(
            "ORGANIZER;CN=Digimentor:mailto:{}",
            text(organizer)
        ));
    }
    if let Some(attendee) = attendee {
        lines.push(format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:{}",
            param(attendee.name),
            text(attendee.email)
        ));
    }
    lines.push("END:VEVENT".to_owned());
    lines.iter().map(|l| fold(l)).collect()
}

/// A calendar feed named `name` (`METHOD:PUBLISH`); a cancelled event stays in it with
/// `STATUS:CANCELLED`, so subscribed calendars drop it.
pub fn calendar(name: &str, items: &[CalendarItem<'_>]) -> String {
    let mut out = head(name, "PUBLISH");
    for item in items {
        out.push_str(&event(item, None, None));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// An invitation to one event for one attendee (RFC 5546 `METHOD:REQUEST`), or, when it is
/// cancelled (or `withdrawn` for this attendee), its cancellation (`METHOD:CANCEL`,
/// `STATUS:CANCELLED`): one VEVENT under the event's UID, with its `ORGANIZER` (the
/// service's address).
pub fn invitation(
    name: &str,
    item: &CalendarItem<'_>,
    organizer: &str,
    attendee: Attendee<'_>,
    withdrawn: bool,
) -> String {
    let mut item = item.clone();
    item.cancelled |= withdrawn;
    let method = if item.cancelled { "CANCEL" } else { "REQUEST" };
    let mut out = head(name, method);
    out.push_str(&event(&item, Some(organizer), Some(attendee)));
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn head(name: &str, method: &str) -> String {
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Digimentor//Calendar//EN\r\nCALSCALE:GREGORIAN\r\n",
    );
    out.push_str(&format!("METHOD:{method}\r\n"));
    out.push_str(&fold(&format!("X-WR-CALNAME:{}", text(name))));
    out.push_str("X-WR-TIMEZONE:Europe/Helsinki\r\n");
    out.push_str(VTIMEZONE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_without_splitting_characters() {
        let folded = fold(&format!("SUMMARY:{}", "ä".repeat(60)));
        for line in folded.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(
            folded.replace("\r\n ", ""),
            format!("SUMMARY:{}\r\n", "ä".repeat(60))
        );
        assert_eq!(text("a;b,c\nd\\"), "a\\;b\\,c\\nd\\\\");
        assert_eq!(text("M\rBEGIN:VALARM"), "M\\nBEGIN:VALARM");
        assert_eq!(text("a\u{2028}b\u{85}c\u{1b}d\u{0}"), "a\\nb\\ncd");
    }

    proptest::proptest! {
        /// Whatever a person's name holds, the ATTENDEE parameter stays one quoted value on
        /// its line: no quote, no control character, no line separator inside.
        #[test]
        fn a_name_stays_inside_its_parameter(name in "\\PC*|[\\x00-\\x1f\"\\u{85}\\u{2028}\\u{2029};:,a-z]{0,40}") {
            let quoted = param(&name);
            let inner = &quoted[1..quoted.len() - 1];
            proptest::prop_assert!(quoted.starts_with('"') && quoted.ends_with('"'));
            proptest::prop_assert!(!inner.contains('"'));
            let breaks = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
            proptest::prop_assert!(!inner.chars().any(breaks), "{:?}", inner);
        }

        /// Whatever a meeting's text holds, its escaped form is one line with no control
        /// character but tab, so it cannot start a property or a component of its own.
        #[test]
        fn escaped_text_is_always_one_line(value in "\\PC*|[\\x00-\\x1f\\u{85}\\u{2028}\\u{2029}a-z:]{0,40}") {
            let escaped = text(&value);
            proptest::prop_assert!(escaped.chars().all(|c| c == '\t' || !c.is_control()));
            let separators = ['\u{2028}', '\u{2029}'];
            proptest::prop_assert!(!escaped.contains(separators), "{:?}", escaped);
        }
    }
}
