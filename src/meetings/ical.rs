//! iCalendar (RFC 5545) for meetings, in the `Europe/Helsinki` time zone, with stable UIDs and a
//! SEQUENCE that rises with every change.

use chrono::{DateTime, Utc};
use entity::meeting;

/// Europe/Helsinki with its EU daylight-saving rules.
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Helsinki\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0300\r\nTZNAME:EEST\r\nDTSTART:19700329T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0200\r\nTZNAME:EET\r\nDTSTART:19701025T040000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n";

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Helsinki)
        .format("%Y%m%dT%H%M%S")
        .to_string()
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

/// The stable UID of a meeting.
pub fn uid(meeting: &meeting::Model, domain: &str) -> String {
    format!("meeting-{}@{domain}", meeting.id)
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
    meeting: &meeting::Model,
    domain: &str,
    link: &str,
    organizer: Option<&str>,
    attendee: Option<Attendee<'_>>,
) -> String {
    let mut lines = vec![
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", uid(meeting, domain)),
        format!("SEQUENCE:{}", meeting.sequence),
        format!("DTSTAMP:{}", utc(meeting.updated_at)),
        format!("LAST-MODIFIED:{}", utc(meeting.updated_at)),
        format!("DTSTART;TZID=Europe/Helsinki:{}", local(meeting.starts_at)),
        format!("DTEND;TZID=Europe/Helsinki:{}", local(meeting.ends_at)),
        format!("SUMMARY:{}", text(&meeting.title)),
        format!("DESCRIPTION:{}", text(&meeting.agenda)),
        format!("URL:{link}"),
    ];
    let location = match (&meeting.place, &meeting.online_url) {
        (Some(place), Some(url)) => Some(format!("{place} / {url}")),
        (Some(place), None) => Some(place.clone()),
        (None, Some(url)) => Some(url.clone()),
        (None, None) => None,
    };
    if let Some(location) = location {
        lines.push(format!("LOCATION:{}", text(&location)));
    }
    if meeting.cancelled_at.is_some() {
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

/// The calendar feed of meetings (`METHOD:PUBLISH`); a cancelled meeting stays in it with
/// `STATUS:CANCELLED`, so subscribed calendars drop it.
pub fn calendar(
    meetings: &[meeting::Model],
    domain: &str,
    link: impl Fn(&meeting::Model) -> String,
) -> String {
    let mut out = head("PUBLISH");
    for meeting in meetings {
        out.push_str(&event(meeting, domain, &link(meeting), None, None));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// An invitation to one meeting for one attendee (RFC 5546 `METHOD:REQUEST`), or, when the
/// meeting is cancelled, its cancellation (`METHOD:CANCEL`, `STATUS:CANCELLED`, the raised
/// SEQUENCE): one VEVENT under the meeting's UID, with its `ORGANIZER` (the service's
/// address). A series is one invitation per meeting.
pub fn invitation(
    meeting: &meeting::Model,
    domain: &str,
    link: &str,
    organizer: &str,
    attendee: Attendee<'_>,
) -> String {
    let method = if meeting.cancelled_at.is_some() {
        "CANCEL"
    } else {
        "REQUEST"
    };
    let mut out = head(method);
    out.push_str(&event(
        meeting,
        domain,
        link,
        Some(organizer),
        Some(attendee),
    ));
    out.push_str("END:VCALENDAR\r\n");
    out
}

fn head(method: &str) -> String {
    let mut out = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Digimentor//Meetings//EN\r\nCALSCALE:GREGORIAN\r\n",
    );
    out.push_str(&format!("METHOD:{method}\r\n"));
    out.push_str(&fold("X-WR-CALNAME:Digimentor network meetings"));
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
