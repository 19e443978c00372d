//! Times as their reader writes them, in the reader's zone: `to 10.12.2026 klo 19.01`,
//! `tor 10 dec 2026 kl. 19.01`, `Thu 10 Dec 2026, 19:01`.

use chrono::{DateTime, Utc};
use entity::user::Locale;

/// A moment with its weekday, date and time in `zone`, as `locale` writes it.
pub fn reader_time(at: DateTime<Utc>, zone: chrono_tz::Tz, locale: Locale) -> String {
    let (pattern, locale) = match locale {
        Locale::Fi => ("%a %-d.%-m.%Y klo %-H.%M", chrono::Locale::fi_FI),
        Locale::Sv => ("%a %-d %b %Y kl. %H.%M", chrono::Locale::sv_SE),
        Locale::En => ("%a %-d %b %Y, %H:%M", chrono::Locale::en_GB),
    };
    at.with_timezone(&zone)
        .format_localized(pattern, locale)
        .to_string()
}

/// A day in `zone`, as `locale` writes it.
pub fn reader_day(at: DateTime<Utc>, zone: chrono_tz::Tz, locale: Locale) -> String {
    let (pattern, locale) = match locale {
        Locale::Fi => ("%-d.%-m.%Y", chrono::Locale::fi_FI),
        Locale::Sv => ("%-d %b %Y", chrono::Locale::sv_SE),
        Locale::En => ("%-d %b %Y", chrono::Locale::en_GB),
    };
    at.with_timezone(&zone)
        .format_localized(pattern, locale)
        .to_string()
}

/// A stored IANA zone name, or Helsinki when it is not one.
pub fn zone_or_helsinki(zone: &str) -> chrono_tz::Tz {
    zone.parse().unwrap_or(chrono_tz::Europe::Helsinki)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_writes_the_time_its_own_way_in_the_readers_zone() {
        let at: DateTime<Utc> = "2026-12-10T17:01:00Z".parse().unwrap();
        let hel = chrono_tz::Europe::Helsinki;
        assert_eq!(reader_time(at, hel, Locale::Fi), "to 10.12.2026 klo 19.01");
        assert_eq!(
            reader_time(at, hel, Locale::Sv),
            "tor 10 dec 2026 kl. 19.01"
        );
        assert_eq!(reader_time(at, hel, Locale::En), "Thu 10 Dec 2026, 19:01");
        assert_eq!(reader_day(at, hel, Locale::Fi), "10.12.2026");
        let ny = chrono_tz::America::New_York;
        assert_eq!(reader_time(at, ny, Locale::En), "Thu 10 Dec 2026, 12:01");
        assert_eq!(zone_or_helsinki("Mars/Base"), hel);
    }
}
