//! RFC 3339 timestamps (for "verify as of" options).

use crate::TeeError;

/// Parses an RFC 3339 timestamp into Unix seconds (UTC).
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS`, optional fraction `.d+` (truncated), then `Z` or a numeric
/// offset `±HH:MM`; `t`, `z` and a space instead of `T` are accepted as RFC 3339 allows. Leap
/// seconds (`:60`) and instants before 1970 are rejected.
pub fn parse_rfc3339(input: &str) -> Result<u64, TeeError> {
    let err = |reason: &'static str| TeeError::InvalidTimestamp {
        input: input.chars().take(64).collect(),
        reason,
    };
    let b = input.as_bytes();
    let digits = |start: usize, len: usize| -> Result<i64, TeeError> {
        let field = b.get(start..start + len).ok_or_else(|| err("too short"))?;
        field.iter().try_fold(0i64, |acc, c| {
            if c.is_ascii_digit() {
                Ok(acc * 10 + i64::from(c - b'0'))
            } else {
                Err(err("expected a digit"))
            }
        })
    };
    let expect = |pos: usize, allowed: &[u8], reason: &'static str| -> Result<(), TeeError> {
        match b.get(pos) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err(err(reason)),
        }
    };

    let year = digits(0, 4)?;
    expect(4, b"-", "expected '-' after the year")?;
    let month = digits(5, 2)?;
    expect(7, b"-", "expected '-' after the month")?;
    let day = digits(8, 2)?;
    expect(10, b"Tt ", "expected 'T' between date and time")?;
    let hour = digits(11, 2)?;
    expect(13, b":", "expected ':' after the hour")?;
    let minute = digits(14, 2)?;
    expect(16, b":", "expected ':' after the minutes")?;
    let second = digits(17, 2)?;

    if !(1..=12).contains(&month) {
        return Err(err("month out of range"));
    }
    if !(1..=days_in_month(year, month)).contains(&day) {
        return Err(err("day out of range"));
    }
    if hour > 23 || minute > 59 {
        return Err(err("time out of range"));
    }
    if second == 60 {
        return Err(err("leap seconds are not supported"));
    }
    if second > 59 {
        return Err(err("seconds out of range"));
    }

    let mut pos = 19;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == start {
            return Err(err("empty fraction"));
        }
    }
    let offset_secs = match b.get(pos) {
        Some(b'Z' | b'z') => {
            pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let hours = digits(pos + 1, 2)?;
            expect(pos + 3, b":", "expected ':' in the offset")?;
            let minutes = digits(pos + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return Err(err("offset out of range"));
            }
            let secs = hours * 3600 + minutes * 60;
            pos += 6;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return Err(err("expected 'Z' or an offset")),
    };
    if pos != b.len() {
        return Err(err("trailing characters"));
    }

    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(local - offset_secs).map_err(|_| err("before 1970-01-01T00:00:00Z"))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(
            parse_rfc3339("2025-07-01T00:00:00Z").unwrap(),
            1_751_328_000
        );
        assert_eq!(
            parse_rfc3339("2026-01-01T00:00:00Z").unwrap(),
            1_767_225_600
        );
        assert_eq!(
            parse_rfc3339("2025-01-01T00:00:00Z").unwrap(),
            1_735_689_600
        );
        assert_eq!(parse_rfc3339("2000-02-29T12:34:56Z").unwrap(), 951_827_696);
        assert_eq!(parse_rfc3339("2038-01-19T03:14:08Z").unwrap(), 1 << 31);
        assert_eq!(
            parse_rfc3339("2025-06-19T10:16:03.999Z").unwrap(),
            parse_rfc3339("2025-06-19T10:16:03Z").unwrap()
        );
        assert_eq!(
            parse_rfc3339("2025-07-01T02:00:00+02:00").unwrap(),
            1_751_328_000
        );
        assert_eq!(
            parse_rfc3339("2025-06-30t19:30:00-04:30").unwrap(),
            1_751_328_000
        );
        assert_eq!(
            parse_rfc3339("2025-07-01 00:00:00z").unwrap(),
            1_751_328_000
        );
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00").unwrap(), 0);
    }

    #[test]
    fn matches_a_day_by_day_count() {
        // Every first of month from 1970 to 2100 against a running day count.
        let mut days = 0i64;
        for year in 1970..2100 {
            for month in 1..=12 {
                let s = format!("{year:04}-{month:02}-01T00:00:00Z");
                assert_eq!(parse_rfc3339(&s).unwrap(), (days * 86_400) as u64, "{s}");
                days += days_in_month(year, month);
            }
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2025",
            "2025-07-01",
            "2025-07-01T00:00:00",
            "2025-07-01T00:00Z",
            "2025/07/01T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-00-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-07-01T24:00:00Z",
            "2025-07-01T00:60:00Z",
            "2025-07-01T00:00:60Z",
            "2025-07-01T00:00:00.Z",
            "2025-07-01T00:00:00+0100",
            "2025-07-01T00:00:00+24:00",
            "2025-07-01T00:00:00Zjunk",
            "2025-07-01T00:00:00 Z",
            "+025-07-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:00:00+00:01",
            "２０２５-07-01T00:00:00Z",
        ] {
            assert!(
                matches!(parse_rfc3339(bad), Err(TeeError::InvalidTimestamp { .. })),
                "{bad:?} accepted"
            );
        }
        let err = parse_rfc3339("2025-07-01T00:00:60Z").unwrap_err();
        assert!(err.to_string().contains("leap"), "{err}");
    }
}
