//! RFC 3339 timestamps from milliseconds since the epoch (WebAssembly has no clock or
//! time zone database; UTC is what the store keeps). The calendar arithmetic and
//! Germany's summer-time rule are `lotse_model::calendar`'s.

use lotse_model::calendar::{civil_from_days, days_from_civil, utc_ms_to_berlin};

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
    let utc_ms =
        ((days_from_civil(year, month as u32, day as u32) * 24 + hour) * 60 + minute) * 60_000;
    let (local_day, minutes) = utc_ms_to_berlin(utc_ms);
    let (y, m, d) = civil_from_days(local_day);
    Some(format!(
        "{d:02}.{m:02}.{y}, {:02}:{:02} Uhr",
        minutes / 60,
        minutes % 60
    ))
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
