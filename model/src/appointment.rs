//! Appointments at an office (SPEC sections 2 and 8): its bookable hours, how many
//! citizens it serves at once, the days it is shut, and the slots a service of a given
//! length has in them, in German local time whatever the machine's zone.
//!
//! Slots are laid out from each opening's start in steps of the service's duration and
//! end by the opening's end. Times are on a grid of [`GRID_MINUTES`]: a booking holds the
//! office's seat for each grid unit it covers, which is how bookings of services with
//! different durations at one office never exceed its capacity.

use serde::{Deserialize, Serialize};

use crate::calendar::{
    berlin_to_utc_ms, is_working_day, nrw_holiday, parse_date, utc_ms_to_berlin, weekday, DayNumber,
};

/// Every opening time and duration is a multiple of this many minutes.
pub const GRID_MINUTES: u32 = 5;
/// How far ahead citizens can book unless region.toml says otherwise.
pub const DEFAULT_HORIZON_WEEKS: u32 = 8;
/// The German day names of `[[offices.opening]] days`, Monday first.
pub const DAY_NAMES: [&str; 7] = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"];

/// One `[[offices.opening]]`: on these weekdays from `from` to `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// Monday = 0 … Sunday = 6.
    pub days: Vec<u32>,
    /// Minutes after midnight, local time.
    pub from: u32,
    pub to: u32,
}

/// When an office can be visited by appointment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeHours {
    pub opening: Vec<Opening>,
    /// Citizens served at once (SPEC default 1).
    pub capacity: u32,
    /// Days it is shut, `YYYY-MM-DD` (NRW's public holidays are shut anyway).
    pub closed: Vec<String>,
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours {
            opening: Vec::new(),
            capacity: 1,
            closed: Vec::new(),
        }
    }
}

/// What the functions need to offer and book the slots of one service (published with
/// its form schema).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentPlan {
    /// Minutes.
    pub duration: u32,
    pub hours: OfficeHours,
    /// Bookable up to this many weeks ahead (region.toml `[appointments] weeks`).
    pub horizon_weeks: u32,
}

/// A service that can be booked, as `lotse build` publishes it for the functions
/// (`appointments/<portal>/<service>.json`, see [`appointment_path`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookableService {
    pub portal: String,
    /// The portal's name (`Stadt Bottrop`), for the pages and the calendar entry.
    pub portal_name: String,
    pub service: String,
    pub title: String,
    pub office: String,
    pub office_name: String,
    /// Where to go: the office's address, for the confirmation and the `.ics` LOCATION.
    pub office_address: Option<String>,
    /// The office's X25519 public key: the citizen's name and address are sealed to it.
    pub public_key: String,
    /// The trust level a booking needs (as the service's `login`); `none` by default.
    #[serde(default)]
    pub login: crate::TrustLevel,
    pub plan: AppointmentPlan,
}

/// The asset of a bookable service. `appointments/` holds nothing else.
pub fn appointment_path(portal: &str, service: &str) -> String {
    format!("appointments/{portal}/{service}.json")
}

/// A service's `appointment = { duration = N }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAppointment {
    /// Minutes, a multiple of [`GRID_MINUTES`].
    pub duration: u32,
}

/// A slot: start and end, ms since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Slot {
    /// The starts of the grid units it covers (ms), the seat rows a booking holds.
    pub fn units(&self) -> Vec<i64> {
        let step = i64::from(GRID_MINUTES) * 60_000;
        (0..)
            .map(|i| self.start_ms + i * step)
            .take_while(|unit| *unit < self.end_ms)
            .collect()
    }
}

/// Why a start cannot be booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotError {
    /// No slot of this service starts then.
    NotASlot,
    /// Before the first bookable day.
    TooSoon,
    /// After the last bookable day.
    TooFar,
    /// The office is shut that day.
    Closed,
}

/// `"Mo"` … `"So"` as a weekday number.
pub fn parse_day_name(name: &str) -> Option<u32> {
    DAY_NAMES.iter().position(|d| *d == name).map(|i| i as u32)
}

/// `"HH:MM"` (24 hours) as minutes after midnight; `"24:00"` is the end of the day.
pub fn parse_clock(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) => Some(24 * 60),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

/// Minutes after midnight as `HH:MM`.
pub fn format_clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// What is wrong with an office's openings, in German, for `lotse check`: inverted or
/// empty hours, times off the grid, and openings of one day that overlap.
pub fn opening_problems(openings: &[Opening]) -> Vec<String> {
    let mut problems = Vec::new();
    for o in openings {
        if o.from >= o.to {
            problems.push(format!(
                "opening from {} to {} does not end after it starts",
                format_clock(o.from),
                format_clock(o.to)
            ));
        }
        if o.from % GRID_MINUTES != 0 || o.to % GRID_MINUTES != 0 {
            problems.push(format!(
                "opening times must be multiples of {GRID_MINUTES} minutes, found {}–{}",
                format_clock(o.from),
                format_clock(o.to)
            ));
        }
    }
    for day in 0..7 {
        let mut spans: Vec<(u32, u32)> = openings
            .iter()
            .filter(|o| o.days.contains(&day) && o.from < o.to)
            .map(|o| (o.from, o.to))
            .collect();
        spans.sort();
        for pair in spans.windows(2) {
            if pair[1].0 < pair[0].1 {
                problems.push(format!(
                    "openings on {} overlap: {}–{} and {}–{}",
                    DAY_NAMES[day as usize],
                    format_clock(pair[0].0),
                    format_clock(pair[0].1),
                    format_clock(pair[1].0),
                    format_clock(pair[1].1)
                ));
            }
        }
    }
    problems
}

/// The longest single opening, in minutes (a service longer than it has no slot).
pub fn longest_opening(openings: &[Opening]) -> u32 {
    openings
        .iter()
        .map(|o| o.to.saturating_sub(o.from))
        .max()
        .unwrap_or(0)
}

impl AppointmentPlan {
    /// Whether the office is shut on `day` (a listed closed day or a public holiday).
    pub fn is_closed(&self, day: DayNumber) -> bool {
        nrw_holiday(day).is_some() || self.hours.closed.iter().any(|d| parse_date(d) == Some(day))
    }

    /// Every slot of `day`, in order; none on a closed day. A slot whose start or end
    /// does not exist on the clock, or that would not last its duration because the
    /// clocks change in it (at night, on the last Sundays of March and October), is left
    /// out.
    pub fn day_slots(&self, day: DayNumber) -> Vec<Slot> {
        if self.duration == 0 || self.is_closed(day) {
            return Vec::new();
        }
        let mut slots = Vec::new();
        for opening in self
            .hours
            .opening
            .iter()
            .filter(|o| o.days.contains(&weekday(day)))
        {
            let mut start = opening.from;
            while start + self.duration <= opening.to {
                let begin = berlin_to_utc_ms(day, i64::from(start));
                let end = berlin_to_utc_ms(day, i64::from(start + self.duration));
                if let (Some(start_ms), Some(end_ms)) = (begin, end) {
                    if end_ms - start_ms == i64::from(self.duration) * 60_000 {
                        slots.push(Slot { start_ms, end_ms });
                    }
                }
                start += self.duration;
            }
        }
        slots.sort();
        slots.dedup();
        slots
    }

    /// The days a citizen can book at `now_ms`: from the next working day after today
    /// (German local) to `horizon_weeks` weeks after today, both included.
    pub fn bookable_days(&self, now_ms: i64) -> (DayNumber, DayNumber) {
        let (today, _) = utc_ms_to_berlin(now_ms);
        let mut first = today + 1;
        while !is_working_day(first) {
            first += 1;
        }
        (first, today + 7 * i64::from(self.horizon_weeks))
    }

    /// The slot starting at `start_ms`, if a citizen can book it at `now_ms`.
    pub fn slot_at(&self, start_ms: i64, now_ms: i64) -> Result<Slot, SlotError> {
        let (day, _) = utc_ms_to_berlin(start_ms);
        let (first, last) = self.bookable_days(now_ms);
        if day < first {
            return Err(SlotError::TooSoon);
        }
        if day > last {
            return Err(SlotError::TooFar);
        }
        if self.is_closed(day) {
            return Err(SlotError::Closed);
        }
        self.day_slots(day)
            .into_iter()
            .find(|slot| slot.start_ms == start_ms)
            .ok_or(SlotError::NotASlot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{parse_rfc3339, rfc3339_berlin};
    use proptest::prelude::*;

    fn plan() -> AppointmentPlan {
        AppointmentPlan {
            duration: 30,
            hours: OfficeHours {
                opening: vec![
                    Opening {
                        days: vec![0, 1, 2, 3, 4],
                        from: 8 * 60,
                        to: 12 * 60,
                    },
                    Opening {
                        days: vec![3],
                        from: 14 * 60,
                        to: 18 * 60,
                    },
                ],
                capacity: 2,
                closed: vec!["2027-03-30".into()],
            },
            horizon_weeks: 8,
        }
    }

    fn day(text: &str) -> DayNumber {
        parse_date(text).unwrap()
    }

    fn starts(slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|s| rfc3339_berlin(s.start_ms)).collect()
    }

    #[test]
    fn clock_and_day_names() {
        assert_eq!(parse_clock("08:30"), Some(510));
        assert_eq!(parse_clock("24:00"), Some(1440));
        for bad in ["8:30", "08:60", "24:01", "25:00", "0830", "ab:cd"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        assert_eq!(parse_day_name("Do"), Some(3));
        assert_eq!(parse_day_name("Thu"), None);
    }

    #[test]
    fn slots_follow_the_opening_hours_in_local_time_across_the_changes() {
        let p = plan();
        // Friday before the spring change: +01:00; the Thursday after: +02:00.
        let friday = p.day_slots(day("2027-03-19"));
        assert_eq!(friday.len(), 8);
        assert_eq!(starts(&friday)[0], "2027-03-19T08:00:00+01:00");
        assert_eq!(starts(&friday)[7], "2027-03-19T11:30:00+01:00");
        let thursday = p.day_slots(day("2027-04-01"));
        assert_eq!(thursday.len(), 16);
        assert_eq!(starts(&thursday)[0], "2027-04-01T08:00:00+02:00");
        assert_eq!(starts(&thursday)[15], "2027-04-01T17:30:00+02:00");
        // Karfreitag and Ostermontag 2027 are shut without being listed, and so is the
        // listed Tuesday.
        for shut in ["2027-03-26", "2027-03-29", "2027-03-30"] {
            assert!(p.day_slots(day(shut)).is_empty(), "{shut}");
        }
        // The Sunday of each change has no opening; a Sunday opening across the night
        // skips the hour that does not exist.
        let night = AppointmentPlan {
            duration: 30,
            hours: OfficeHours {
                opening: vec![Opening {
                    days: vec![6],
                    from: 60,
                    to: 4 * 60,
                }],
                ..OfficeHours::default()
            },
            horizon_weeks: 8,
        };
        assert_eq!(
            starts(&night.day_slots(day("2027-03-28"))),
            // 01:30–02:00 would end at a time the clock skips.
            vec![
                "2027-03-28T01:00:00+01:00",
                "2027-03-28T03:00:00+02:00",
                "2027-03-28T03:30:00+02:00"
            ]
        );
        // In October 02:00–03:00 comes twice: the slots are the first ones, each 30 minutes.
        let october = night.day_slots(day("2027-10-31"));
        assert!(october.iter().all(|s| s.end_ms - s.start_ms == 30 * 60_000));
        assert_eq!(starts(&october)[0], "2027-10-31T01:00:00+02:00");
    }

    #[test]
    fn booking_starts_the_next_working_day_and_ends_after_the_horizon() {
        let p = plan();
        // Thursday 2027-03-25, 10:00: Friday is Karfreitag, Monday Ostermontag, Tuesday
        // is listed closed (but a working day): the first bookable day is that Tuesday,
        // shut, so the first slot is on Wednesday.
        let now = parse_rfc3339("2027-03-25T09:00:00Z").unwrap();
        let (first, last) = p.bookable_days(now);
        assert_eq!(crate::calendar::format_date(first), "2027-03-30");
        assert_eq!(crate::calendar::format_date(last), "2027-05-20");
        let at = |s: &str| parse_rfc3339(s).unwrap();
        assert_eq!(
            p.slot_at(at("2027-03-26T09:00:00+01:00"), now),
            Err(SlotError::TooSoon)
        );
        assert_eq!(
            p.slot_at(at("2027-03-30T09:00:00+02:00"), now),
            Err(SlotError::Closed)
        );
        assert_eq!(
            p.slot_at(at("2027-03-31T09:15:00+02:00"), now),
            Err(SlotError::NotASlot)
        );
        assert_eq!(
            p.slot_at(at("2027-03-31T12:00:00+02:00"), now),
            Err(SlotError::NotASlot)
        );
        assert_eq!(
            p.slot_at(at("2027-05-21T09:00:00+02:00"), now),
            Err(SlotError::TooFar)
        );
        let ok = p.slot_at(at("2027-03-31T09:30:00+02:00"), now).unwrap();
        assert_eq!(ok.end_ms - ok.start_ms, 30 * 60_000);
        assert_eq!(ok.units().len(), 6);
    }

    #[test]
    fn checks_name_inverted_overlapping_and_off_grid_hours() {
        let problems = opening_problems(&[
            Opening {
                days: vec![0],
                from: 600,
                to: 540,
            },
            Opening {
                days: vec![1],
                from: 480,
                to: 720,
            },
            Opening {
                days: vec![1, 2],
                from: 700,
                to: 800,
            },
            Opening {
                days: vec![3],
                from: 482,
                to: 600,
            },
        ]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("does not end after it starts"));
        assert!(problems[1].contains("multiples of 5"));
        assert!(problems[2].contains("on Di overlap: 08:00–12:00 and 11:40–13:20"));
        assert_eq!(longest_opening(&plan().hours.opening), 240);
    }

    proptest! {
        /// Slots never leave their opening hours, never overlap, never fall on a closed
        /// day or a holiday, and always last the duration, on any day of 2026–2030.
        #[test]
        fn slots_stay_inside_the_openings(
            offset in 0i64..(5 * 366),
            duration in prop::sample::select(vec![5u32, 10, 15, 20, 25, 30, 45, 60, 90]),
            from in 0u32..(20 * 12),
            length in 1u32..(12 * 12),
        ) {
            let from = from * 5;
            let to = (from + length * 5).min(24 * 60);
            let day = parse_date("2026-01-01").unwrap() + offset;
            let p = AppointmentPlan {
                duration,
                hours: OfficeHours {
                    opening: vec![Opening { days: (0..7).collect(), from, to }],
                    capacity: 1,
                    closed: vec![crate::calendar::format_date(day + 1)],
                },
                horizon_weeks: 8,
            };
            let slots = p.day_slots(day);
            if nrw_holiday(day).is_some() {
                prop_assert!(slots.is_empty());
            }
            prop_assert!(p.day_slots(day + 1).is_empty(), "the closed day");
            for (i, slot) in slots.iter().enumerate() {
                let (d, start) = utc_ms_to_berlin(slot.start_ms);
                let (d_end, end) = utc_ms_to_berlin(slot.end_ms);
                prop_assert_eq!(d, day);
                prop_assert!(start >= i64::from(from));
                prop_assert!(d_end == day && end <= i64::from(to) || end == 0 && to == 24 * 60);
                prop_assert_eq!(slot.end_ms - slot.start_ms, i64::from(duration) * 60_000);
                if let Some(next) = slots.get(i + 1) {
                    prop_assert!(next.start_ms >= slot.end_ms);
                }
            }
        }
    }
}
