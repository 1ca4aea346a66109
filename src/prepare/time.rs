//! Times as the integration schema wants them: UTC, `yyyy-MM-ddTHH:mm:ssZ`.
//!
//! Producers and envelopes write times in many ways (RFC 3339 with offsets and fractions,
//! epoch seconds, epoch milliseconds); the mapping normalises them here, and the schema check
//! asks here whether a time is a real calendar time (no 30 February). The calendar arithmetic
//! is Howard Hinnant's `days_from_civil` / `civil_from_days`, exact over the proleptic
//! Gregorian calendar, so no time crate is needed for a handful of integer operations.

use serde_json::Value;

/// Below this, an epoch number is read as seconds; from it on, as milliseconds. 10^11 seconds
/// is the year 5138 and 10^11 milliseconds is March 1973: no audit event is either.
const MILLISECONDS_FROM: f64 = 1e11;

/// Whether `value` is `yyyy-MM-ddTHH:mm:ssZ` naming a real calendar time (days in the month,
/// leap years, seconds 00-59).
///
/// ```
/// use cloudtrail_lake_forwarder::prepare::time::is_schema_time;
/// assert!(is_schema_time("2024-02-29T23:59:59Z"));
/// assert!(!is_schema_time("2023-02-29T00:00:00Z"));
/// assert!(!is_schema_time("2024-02-30T00:00:00Z"));
/// ```
pub fn is_schema_time(value: &str) -> bool {
    let b = value.as_bytes();
    let shape = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    if !shape {
        return false;
    }
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(b, 0..4),
        digits(b, 5..7),
        digits(b, 8..10),
        digits(b, 11..13),
        digits(b, 14..16),
        digits(b, 17..19),
    ) else {
        return false;
    };
    (1..=12).contains(&month)
        && (1..=days_in_month(i64::from(year), month)).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 59
}

/// A time from a payload or an envelope in the schema's form: an RFC 3339 string (any offset,
/// any fraction, which is dropped), or epoch seconds or milliseconds as a number or a string of
/// digits. `None` when it is none of these or falls outside the years 0000-9999.
///
/// ```
/// use cloudtrail_lake_forwarder::prepare::time::normalise;
/// use serde_json::json;
/// assert_eq!(normalise(&json!("2026-11-26T05:30:00.123+01:30")).as_deref(), Some("2026-11-26T04:00:00Z"));
/// assert_eq!(normalise(&json!(1764129600000u64)).as_deref(), Some("2025-11-26T04:00:00Z"));
/// assert_eq!(normalise(&json!("yesterday")), None);
/// ```
pub fn normalise(value: &Value) -> Option<String> {
    match value {
        Value::Number(number) => from_epoch(number.as_f64()?),
        Value::String(text) => normalise_text(text.trim()),
        _ => None,
    }
}

fn normalise_text(text: &str) -> Option<String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return from_epoch(text.parse().ok()?);
    }
    from_rfc3339(text)
}

/// Epoch seconds or milliseconds (told apart by size) in the schema's form.
pub fn from_epoch(epoch: f64) -> Option<String> {
    if !epoch.is_finite() {
        return None;
    }
    let seconds = if epoch.abs() >= MILLISECONDS_FROM { epoch / 1000.0 } else { epoch };
    // Anything within 0000-9999 fits an i64 comfortably; the bound is checked below.
    if seconds.abs() > 1e12 {
        return None;
    }
    format_epoch_seconds(seconds.floor() as i64)
}

/// Epoch milliseconds, as CloudWatch Logs and SQS write them, in the schema's form.
pub fn from_epoch_ms(ms: i64) -> Option<String> {
    format_epoch_seconds(ms.div_euclid(1000))
}

fn format_epoch_seconds(seconds: i64) -> Option<String> {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    ))
}

/// `yyyy-MM-dd(T|t| )HH:mm:ss[.fraction](Z|z|±HH:mm)`.
fn from_rfc3339(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = i64::from(digits(b, 0..4)?);
    let (month, day) = (digits(b, 5..7)?, digits(b, 8..10)?);
    let (hour, minute, second) = (digits(b, 11..13)?, digits(b, 14..16)?, digits(b, 17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        // `:60` is refused here as in the schema: read as the next minute's `:00` it would
        // give an event a time its producer did not write.
        || second > 59
    {
        return None;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset_minutes = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let offset = [*h1, *h2, b':', *m1, *m2];
            let (hours, minutes) = (digits(&offset, 0..2)?, digits(&offset, 3..5)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let minutes = i64::from(hours * 60 + minutes);
            if *sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second)
        - offset_minutes * 60;
    format_epoch_seconds(seconds)
}

fn digits(b: &[u8], range: std::ops::Range<usize>) -> Option<u32> {
    b.get(range)?.iter().try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a day counted from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn rfc3339_times_are_brought_to_utc_without_fractions() {
        let cases = [
            ("2026-11-26T04:00:00Z", "2026-11-26T04:00:00Z"),
            ("2026-11-26T04:00:00.999999Z", "2026-11-26T04:00:00Z"),
            ("2026-11-26t04:00:00z", "2026-11-26T04:00:00Z"),
            ("2026-11-26 04:00:00+00:00", "2026-11-26T04:00:00Z"),
            ("2026-11-26T01:00:00-03:00", "2026-11-26T04:00:00Z"),
            ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"),
            ("2024-02-29T23:00:00-01:00", "2024-03-01T00:00:00Z"),
            // As the audit logs write them: Google Cloud's nanoseconds, Azure's seven digits and
            // +00:00, a third party's local time.
            ("2024-05-01T12:00:00.123456789Z", "2024-05-01T12:00:00Z"),
            ("2019-01-21T22:14:26.9792776Z", "2019-01-21T22:14:26Z"),
            ("2022-01-22T18:15:02.5168093+00:00", "2022-01-22T18:15:02Z"),
            ("2024-05-01T01:30:00.5+02:00", "2024-04-30T23:30:00Z"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise(&json!(input)).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn epoch_seconds_and_milliseconds_are_told_apart_by_size() {
        assert_eq!(normalise(&json!(0)).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(normalise(&json!(1_764_129_600)).as_deref(), Some("2025-11-26T04:00:00Z"));
        assert_eq!(normalise(&json!(1_764_129_600_999u64)).as_deref(), Some("2025-11-26T04:00:00Z"));
        assert_eq!(normalise(&json!(1_764_129_600.5)).as_deref(), Some("2025-11-26T04:00:00Z"));
        assert_eq!(normalise(&json!("1764129600000")).as_deref(), Some("2025-11-26T04:00:00Z"));
        assert_eq!(from_epoch_ms(951_782_400_000).as_deref(), Some("2000-02-29T00:00:00Z"));
    }

    #[test]
    fn what_is_not_a_time_is_none() {
        for value in [
            json!("2023-02-29T00:00:00Z"),
            json!("2026-13-01T00:00:00Z"),
            json!("2026-11-26T24:00:00Z"),
            json!("2026-11-26T04:00:00"),
            json!("2026-11-26T04:00:00+0100"),
            json!("2026-11-26T04:00:00.Z"),
            json!("26/11/2026"),
            json!(""),
            json!(1e300),
            json!(-1e20),
            json!(true),
            json!(null),
        ] {
            assert_eq!(normalise(&value), None, "{value}");
        }
    }

    #[test]
    fn schema_times_must_be_real_calendar_days() {
        assert!(is_schema_time("2000-02-29T00:00:00Z"));
        for bad in [
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-11-26T04:00:00+00:00",
        ] {
            assert!(!is_schema_time(bad), "{bad}");
        }
    }

    #[test]
    fn seconds_run_from_00_to_59_only() {
        assert!(is_schema_time("2026-11-26T04:00:59Z"));
        for bad in ["2026-11-26T04:00:60Z", "2026-12-31T23:59:60Z", "2026-11-26T04:00:61Z"] {
            assert!(!is_schema_time(bad), "{bad}");
            assert_eq!(normalise(&json!(bad)), None, "{bad}");
        }
        assert_eq!(normalise(&json!("2026-11-26T05:00:60+01:00")), None);
        assert_eq!(normalise(&json!("2026-11-26T04:00:60.5Z")), None);
    }

    proptest! {
        #[test]
        fn days_and_dates_convert_both_ways(days in -719_468i64..2_932_896) {
            let (year, month, day) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(year, month, day), days);
            prop_assert!((1..=days_in_month(year, month)).contains(&day));
        }

        #[test]
        fn every_formatted_epoch_is_a_schema_time(seconds in 0i64..253_402_300_799) {
            let text = format_epoch_seconds(seconds).unwrap();
            prop_assert!(is_schema_time(&text), "{}", text);
            prop_assert_eq!(normalise(&json!(text)), Some(text.clone()));
        }

        #[test]
        fn any_text_normalises_without_panicking(text in any::<String>()) {
            if let Some(time) = normalise(&json!(text)) {
                prop_assert!(is_schema_time(&time));
            }
        }
    }
}
