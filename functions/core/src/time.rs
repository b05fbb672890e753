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
}
