//! RFC 3339 timestamps from milliseconds since the epoch (WebAssembly has no clock or
//! time zone database; UTC is what the store keeps).

pub fn rfc3339(now_ms: u64) -> String {
    let secs = now_ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// [`rfc3339`] with milliseconds, `2026-12-01T10:00:00.123Z`: message times, so that
/// "new since the last visit" holds within a second too.
pub fn rfc3339_ms(now_ms: u64) -> String {
    let seconds = rfc3339(now_ms);
    format!("{}.{:03}Z", &seconds[..seconds.len() - 1], now_ms % 1000)
}

/// An RFC 3339 UTC time of this module (`2026-12-01T10:00:00Z`, milliseconds optional)
/// as German local time for citizens' pages: `01.12.2026, 11:00 Uhr`. Europe/Berlin's
/// rule since 1996: summer time (UTC+2) from 01:00 UTC on the last Sunday of March to
/// 01:00 UTC on the last Sunday of October, else UTC+1.
pub fn german_local(at: &str) -> Option<String> {
    let number = |range: std::ops::Range<usize>| at.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute) = (number(11..13)?, number(14..16)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let utc_minutes = (days_from_civil(year, month as u32, day as u32) * 24 + hour) * 60 + minute;
    let summer_start = (last_sunday(year, 3) * 24 + 1) * 60;
    let summer_end = (last_sunday(year, 10) * 24 + 1) * 60;
    let offset = if (summer_start..summer_end).contains(&utc_minutes) {
        120
    } else {
        60
    };
    let local = utc_minutes + offset;
    let (y, m, d) = civil_from_days(local.div_euclid(24 * 60));
    let minutes = local.rem_euclid(24 * 60);
    Some(format!(
        "{d:02}.{m:02}.{y}, {:02}:{:02} Uhr",
        minutes / 60,
        minutes % 60
    ))
}

/// The day number (days since 1970-01-01) of the last Sunday of a month (March or
/// October: 31 days).
fn last_sunday(year: i64, month: u32) -> i64 {
    let last = days_from_civil(year, month, 31);
    // 1970-01-01 was a Thursday: day 0 has weekday 4 (Sunday = 0).
    last - (last + 4).rem_euclid(7)
}

/// Howard Hinnant's civil-to-days algorithm.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_462_200_123), "2026-11-23T19:30:00Z");
        assert_eq!(rfc3339_ms(1_795_462_200_123), "2026-11-23T19:30:00.123Z");
        assert_eq!(rfc3339_ms(1_795_462_200_003), "2026-11-23T19:30:00.003Z");
    }

    #[test]
    fn german_local_time_follows_summer_time() {
        let local = |at| german_local(at).unwrap();
        assert_eq!(local("2026-12-01T10:00:00.123Z"), "01.12.2026, 11:00 Uhr");
        assert_eq!(local("2026-07-01T22:30:00Z"), "02.07.2026, 00:30 Uhr");
        // 2027: summer time from 28 March 01:00 UTC to 31 October 01:00 UTC.
        assert_eq!(local("2027-03-28T00:59:00Z"), "28.03.2027, 01:59 Uhr");
        assert_eq!(local("2027-03-28T01:00:00Z"), "28.03.2027, 03:00 Uhr");
        assert_eq!(local("2027-10-31T00:59:00Z"), "31.10.2027, 02:59 Uhr");
        assert_eq!(local("2027-10-31T01:00:00Z"), "31.10.2027, 02:00 Uhr");
        assert_eq!(local("2026-12-31T23:30:00Z"), "01.01.2027, 00:30 Uhr");
        assert_eq!(german_local("gestern"), None);
        for days in [0, 10_957, 20_000, 24_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
