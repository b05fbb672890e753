//! Days, German local time and NRW's public holidays, without a time zone database
//! (WebAssembly has none): Europe/Berlin's rule since 1996 is summer time (UTC+2) from
//! 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October,
//! else UTC+1.

/// A calendar day as days since 1970-01-01 (negative before).
pub type DayNumber = i64;

/// Howard Hinnant's civil-to-days algorithm.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> DayNumber {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm: (year, month, day).
pub fn civil_from_days(days: DayNumber) -> (i64, u32, u32) {
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

/// The weekday of a day, Monday = 0 … Sunday = 6.
pub fn weekday(day: DayNumber) -> u32 {
    // 1970-01-01 was a Thursday.
    (day + 3).rem_euclid(7) as u32
}

/// `YYYY-MM-DD` as a day, if it is a real date.
pub fn parse_date(text: &str) -> Option<DayNumber> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)? as u32, number(8..10)? as u32);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// A day as `YYYY-MM-DD`.
pub fn format_date(day: DayNumber) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The last Sunday of a month with 31 days (March, October).
fn last_sunday(year: i64, month: u32) -> DayNumber {
    let last = days_from_civil(year, month, 31);
    last - (i64::from(weekday(last)) + 1) % 7
}

const MINUTE_MS: i64 = 60_000;
const DAY_MINUTES: i64 = 24 * 60;

/// Germany's offset from UTC at an instant (ms since the epoch), in minutes: 60 or 120.
pub fn berlin_offset_minutes(utc_ms: i64) -> i64 {
    let utc_minutes = utc_ms.div_euclid(MINUTE_MS);
    let (year, _, _) = civil_from_days(utc_minutes.div_euclid(DAY_MINUTES));
    let summer_start = (last_sunday(year, 3) * 24 + 1) * 60;
    let summer_end = (last_sunday(year, 10) * 24 + 1) * 60;
    if (summer_start..summer_end).contains(&utc_minutes) {
        120
    } else {
        60
    }
}

/// The instant of a German wall-clock time (`minutes` after local midnight of `day`).
/// `None` for the hour that does not exist when the clocks go forward (02:00–02:59 on
/// the last Sunday of March); of the hour that happens twice in October, the first.
pub fn berlin_to_utc_ms(day: DayNumber, minutes: i64) -> Option<i64> {
    let local = (day * DAY_MINUTES + minutes) * MINUTE_MS;
    [120, 60].into_iter().find_map(|offset| {
        let utc = local - offset * MINUTE_MS;
        (berlin_offset_minutes(utc) == offset).then_some(utc)
    })
}

/// The German day and wall-clock minutes of an instant.
pub fn utc_ms_to_berlin(utc_ms: i64) -> (DayNumber, i64) {
    let local = utc_ms.div_euclid(MINUTE_MS) + berlin_offset_minutes(utc_ms);
    (local.div_euclid(DAY_MINUTES), local.rem_euclid(DAY_MINUTES))
}

/// RFC 3339 with the German offset: `2027-03-29T09:00:00+02:00`.
pub fn rfc3339_berlin(utc_ms: i64) -> String {
    let offset = berlin_offset_minutes(utc_ms);
    let (day, minutes) = utc_ms_to_berlin(utc_ms);
    format!(
        "{}T{:02}:{:02}:00+{:02}:00",
        format_date(day),
        minutes / 60,
        minutes % 60,
        offset / 60
    )
}

/// An RFC 3339 time with a `Z` or `±HH:MM` offset (seconds required, fractions not
/// allowed), as ms since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let day = parse_date(text.get(0..10)?)?;
    let rest = text.get(10..)?;
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix('t'))?;
    let two = |s: &str| -> Option<i64> {
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (hour, minute, second) = (
        two(rest.get(0..2)?)?,
        two(rest.get(3..5)?)?,
        two(rest.get(6..8)?)?,
    );
    if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let zone = rest.get(8..)?;
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            if zone.len() != 6 || zone.get(3..4)? != ":" {
                return None;
            }
            let (h, m) = (two(zone.get(1..3)?)?, two(zone.get(4..6)?)?);
            if h > 14 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let local = ((day * 24 + hour) * 60 + minute) * 60 + second;
    Some((local - offset * 60) * 1000)
}

/// Easter Sunday (Gregorian, the anonymous algorithm of 1876).
pub fn easter_sunday(year: i64) -> DayNumber {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    days_from_civil(year, month as u32, day as u32)
}

/// The name of the public holiday in North Rhine-Westphalia on `day`, if it is one
/// (Feiertagsgesetz NW § 2: the federal ones, Fronleichnam and Allerheiligen).
pub fn nrw_holiday(day: DayNumber) -> Option<&'static str> {
    let (year, month, date) = civil_from_days(day);
    let fixed = match (month, date) {
        (1, 1) => Some("Neujahr"),
        (5, 1) => Some("Tag der Arbeit"),
        (10, 3) => Some("Tag der Deutschen Einheit"),
        (11, 1) => Some("Allerheiligen"),
        (12, 25) => Some("1. Weihnachtstag"),
        (12, 26) => Some("2. Weihnachtstag"),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    match day - easter_sunday(year) {
        -2 => Some("Karfreitag"),
        1 => Some("Ostermontag"),
        39 => Some("Christi Himmelfahrt"),
        50 => Some("Pfingstmontag"),
        60 => Some("Fronleichnam"),
        _ => None,
    }
}

/// A day offices are open at all: Monday to Friday and no public holiday.
pub fn is_working_day(day: DayNumber) -> bool {
    weekday(day) < 5 && nrw_holiday(day).is_none()
}

const WEEKDAYS: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// A day in words: `Montag, 29. März 2027`.
pub fn date_in_words(day: DayNumber) -> String {
    let (y, m, d) = civil_from_days(day);
    format!(
        "{}, {d}. {} {y}",
        WEEKDAYS[weekday(day) as usize],
        MONTHS[m as usize - 1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> DayNumber {
        parse_date(text).unwrap()
    }

    #[test]
    fn dates_parse_strictly_and_round_trip() {
        assert_eq!(format_date(day("2028-02-29")), "2028-02-29");
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-1-01",
            "27-01-01",
            "2027-01-00",
            "2027/01/01",
            "2027-01-+1",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(weekday(day("2026-12-01")), 1, "a Tuesday");
        for n in [-1000, 0, 10_957, 20_000, 24_000] {
            let (y, m, d) = civil_from_days(n);
            assert_eq!(days_from_civil(y, m, d), n);
        }
    }

    #[test]
    fn local_time_follows_the_daylight_saving_changes_of_2027() {
        let spring = day("2027-03-28");
        assert_eq!(
            berlin_to_utc_ms(spring, 60),
            parse_rfc3339("2027-03-28T00:00:00Z")
        );
        assert_eq!(berlin_to_utc_ms(spring, 150), None, "02:30 does not exist");
        assert_eq!(
            berlin_to_utc_ms(spring, 180),
            parse_rfc3339("2027-03-28T01:00:00Z")
        );
        let autumn = day("2027-10-31");
        // 02:30 happens twice; the first is in summer time.
        assert_eq!(
            berlin_to_utc_ms(autumn, 150),
            parse_rfc3339("2027-10-31T00:30:00Z")
        );
        assert_eq!(
            berlin_to_utc_ms(autumn, 180),
            parse_rfc3339("2027-10-31T02:00:00Z")
        );
        let nine = |d: &str| rfc3339_berlin(berlin_to_utc_ms(day(d), 9 * 60).unwrap());
        assert_eq!(nine("2027-03-26"), "2027-03-26T09:00:00+01:00");
        assert_eq!(nine("2027-03-29"), "2027-03-29T09:00:00+02:00");
        assert_eq!(nine("2027-10-29"), "2027-10-29T09:00:00+02:00");
        assert_eq!(nine("2027-11-01"), "2027-11-01T09:00:00+01:00");
        assert_eq!(
            parse_rfc3339("2027-03-29T09:00:00+02:00"),
            parse_rfc3339("2027-03-29T07:00:00Z")
        );
        for bad in [
            "2027-03-29 09:00:00+02:00",
            "2027-03-29T09:00+02:00",
            "2027-03-29T25:00:00Z",
            "2027-03-29T09:00:00+0200",
            "morgen",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn nrw_holidays_come_from_easter_and_the_calendar() {
        assert_eq!(format_date(easter_sunday(2027)), "2027-03-28");
        assert_eq!(format_date(easter_sunday(2026)), "2026-04-05");
        assert_eq!(format_date(easter_sunday(2000)), "2000-04-23");
        for (date, name) in [
            ("2027-03-26", "Karfreitag"),
            ("2027-03-29", "Ostermontag"),
            ("2027-05-06", "Christi Himmelfahrt"),
            ("2027-05-17", "Pfingstmontag"),
            ("2027-05-27", "Fronleichnam"),
            ("2027-10-03", "Tag der Deutschen Einheit"),
            ("2027-11-01", "Allerheiligen"),
            ("2026-12-25", "1. Weihnachtstag"),
        ] {
            assert_eq!(nrw_holiday(day(date)), Some(name), "{date}");
        }
        assert_eq!(
            nrw_holiday(day("2027-10-31")),
            None,
            "Reformationstag is no holiday in NRW"
        );
        assert!(!is_working_day(day("2027-03-29")));
        assert!(!is_working_day(day("2026-12-05")), "a Saturday");
        assert!(is_working_day(day("2026-12-01")));
        assert_eq!(date_in_words(day("2027-03-29")), "Montag, 29. März 2027");
    }
}
