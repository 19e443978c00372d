//! Digest windows in the recipient's own time zone, correct across daylight-saving changes.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use entity::topic_subscription::Frequency;

/// The UTC instant of `hour`:00 local time on `date`. In a spring-forward gap the hour does not
/// exist; the first instant after the gap is used.
fn local_instant(tz: Tz, date: NaiveDate, hour: u32) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
    match tz.from_local_datetime(&date.and_time(time)) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            let later = date.and_time(time) + Duration::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| Utc.from_utc_datetime(&later))
        }
    }
}

/// The latest digest boundary at or before `now`: the local digest hour today or yesterday
/// (daily), or on the chosen weekday (weekly; 0 = Monday).
pub fn last_boundary(
    now: DateTime<Utc>,
    tz: Tz,
    hour: u32,
    weekday: u32,
    frequency: Frequency,
) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let step = match frequency {
        Frequency::Weekly => 7,
        _ => 1,
    };
    let mut date = match frequency {
        Frequency::Weekly => {
            let back = (today.weekday().num_days_from_monday() + 7 - weekday.min(6)) % 7;
            today - Duration::days(i64::from(back))
        }
        _ => today,
    };
    loop {
        let boundary = local_instant(tz, date, hour);
        if boundary <= now {
            return boundary;
        }
        date -= Duration::days(step);
    }
}

/// The boundary one period before `boundary`, in local time (so a day across a DST change is
/// 23 or 25 hours long).
pub fn previous_boundary(
    boundary: DateTime<Utc>,
    tz: Tz,
    hour: u32,
    weekday: u32,
    frequency: Frequency,
) -> DateTime<Utc> {
    last_boundary(
        boundary - Duration::seconds(1),
        tz,
        hour,
        weekday,
        frequency,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    const HELSINKI: Tz = chrono_tz::Europe::Helsinki;

    #[test]
    fn daily_boundaries_follow_local_seven_across_dst() {
        // Winter: 07:00 EET is 05:00 UTC.
        assert_eq!(
            last_boundary(at("2027-01-15T06:00:00Z"), HELSINKI, 7, 0, Frequency::Daily),
            at("2027-01-15T05:00:00Z")
        );
        assert_eq!(
            last_boundary(at("2027-01-15T04:59:59Z"), HELSINKI, 7, 0, Frequency::Daily),
            at("2027-01-14T05:00:00Z")
        );
        // Spring forward on 28 March 2027: 07:00 EEST is 04:00 UTC; the window before is 23 h.
        let after = last_boundary(at("2027-03-28T12:00:00Z"), HELSINKI, 7, 0, Frequency::Daily);
        assert_eq!(after, at("2027-03-28T04:00:00Z"));
        let before = previous_boundary(after, HELSINKI, 7, 0, Frequency::Daily);
        assert_eq!(before, at("2027-03-27T05:00:00Z"));
        assert_eq!((after - before).num_hours(), 23);
        // Fall back on 31 October 2027: the window is 25 h.
        let after = last_boundary(at("2027-10-31T12:00:00Z"), HELSINKI, 7, 0, Frequency::Daily);
        assert_eq!(after, at("2027-10-31T05:00:00Z"));
        assert_eq!(
            (after - previous_boundary(after, HELSINKI, 7, 0, Frequency::Daily)).num_hours(),
            25
        );
    }

    #[test]
    fn an_hour_that_does_not_exist_moves_to_after_the_gap() {
        // 03:00 local does not exist in Helsinki on 28 March 2027 (03:00 → 04:00).
        let b = last_boundary(at("2027-03-28T12:00:00Z"), HELSINKI, 3, 0, Frequency::Daily);
        assert_eq!(b, at("2027-03-28T01:00:00Z"));
    }

    #[test]
    fn weekly_boundaries_fall_on_the_chosen_weekday() {
        // 2027-01-13 is a Wednesday; Monday digests at 07:00 came on the 11th.
        let b = last_boundary(
            at("2027-01-13T12:00:00Z"),
            HELSINKI,
            7,
            0,
            Frequency::Weekly,
        );
        assert_eq!(b, at("2027-01-11T05:00:00Z"));
        // Friday (4) digests: the previous Friday, the 8th.
        let b = last_boundary(
            at("2027-01-13T12:00:00Z"),
            HELSINKI,
            7,
            4,
            Frequency::Weekly,
        );
        assert_eq!(b, at("2027-01-08T05:00:00Z"));
        // On the weekday itself but before the hour: a week earlier.
        let b = last_boundary(
            at("2027-01-11T04:00:00Z"),
            HELSINKI,
            7,
            0,
            Frequency::Weekly,
        );
        assert_eq!(b, at("2027-01-04T05:00:00Z"));
    }

    #[test]
    fn other_zones_have_their_own_boundaries() {
        let ny: Tz = chrono_tz::America::New_York;
        // 07:00 EST is 12:00 UTC.
        assert_eq!(
            last_boundary(at("2027-01-15T13:00:00Z"), ny, 7, 0, Frequency::Daily),
            at("2027-01-15T12:00:00Z")
        );
        // US DST starts 14 March 2027: 07:00 EDT is 11:00 UTC.
        assert_eq!(
            last_boundary(at("2027-03-14T13:00:00Z"), ny, 7, 0, Frequency::Daily),
            at("2027-03-14T11:00:00Z")
        );
    }
}
