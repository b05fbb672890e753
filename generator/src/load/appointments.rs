//! The appointment keys (SPEC section 2, docs/content-format.md "Appointments"): an
//! office's bookable hours in portal.toml, a service's `appointment = { duration = N }`
//! and region.toml's `[appointments]`. What is wrong within one file is reported here;
//! whether a service's office can take its appointments is a rule across files
//! (`check/appointments.rs`).

use lotse_model::appointment::{
    opening_problems, parse_clock, parse_day_name, OfficeHours, Opening, DAY_NAMES, GRID_MINUTES,
};
use lotse_model::calendar::parse_date;

use super::fields::{Fields, Located};
use crate::diagnostics::Loc;

/// The longest appointment: a day.
const MAX_DURATION_MINUTES: i64 = 24 * 60;
/// The farthest booking horizon: a year.
const MAX_WEEKS: i64 = 52;

/// A service's `appointment` as written, located at the table.
#[derive(Clone, Debug, PartialEq)]
pub struct AppointmentDraft {
    /// Minutes; `None` when missing or invalid (reported).
    pub duration: Option<Located<u32>>,
}

/// `appointment = { duration = N }` of a service's front matter.
pub fn parse_service_appointment(mut f: Fields<'_, '_, '_>) -> Located<AppointmentDraft> {
    let loc = f.loc().clone();
    let diags = f.diags();
    if !f.has("duration") {
        diags.error(
            loc.clone(),
            "missing required key `duration` in appointment: its length in minutes, e.g. `appointment = { duration = 30 }`",
        );
    }
    let duration = f.integer("duration").and_then(|d| {
        let message = if d.value <= 0 {
            format!(
                "`duration` must be more than 0 minutes, found `{}`",
                d.value
            )
        } else if d.value > MAX_DURATION_MINUTES {
            format!(
                "`duration` must be at most {MAX_DURATION_MINUTES} minutes (a day), found `{}`",
                d.value
            )
        } else if d.value % i64::from(GRID_MINUTES) != 0 {
            format!(
                "`duration` must be a multiple of {GRID_MINUTES} minutes, found `{}`",
                d.value
            )
        } else {
            return Some(Located {
                value: d.value as u32,
                loc: d.loc,
            });
        };
        diags.error(d.loc, message);
        None
    });
    f.finish();
    Located {
        value: AppointmentDraft { duration },
        loc,
    }
}

/// An office's `capacity`, `closed` and `[[offices.opening]]`, read from its
/// `[[offices]]` table (which the caller finishes). Invalid entries are reported and
/// left out.
pub fn parse_office_hours(f: &mut Fields<'_, '_, '_>) -> OfficeHours {
    let diags = f.diags();
    let mut hours = OfficeHours::default();
    if let Some(capacity) = f.integer("capacity") {
        match u32::try_from(capacity.value) {
            Ok(n) if n >= 1 => hours.capacity = n,
            _ => diags.error(
                capacity.loc,
                format!(
                    "`capacity` is how many citizens the office serves at once and must be at least 1, found `{}`",
                    capacity.value
                ),
            ),
        }
    }
    for day in f.str_list("closed").unwrap_or_default() {
        if parse_date(&day.value).is_some() {
            hours.closed.push(day.value);
        } else {
            diags.error(
                day.loc,
                format!(
                    "closed day `{}` is not a date; write `YYYY-MM-DD`, e.g. `2026-12-24`",
                    day.value
                ),
            );
        }
    }
    let mut valid: Vec<(Opening, Loc)> = Vec::new();
    for entry in f.tables("opening", "[[offices.opening]]") {
        let Some((opening, at)) = parse_opening(entry) else {
            continue;
        };
        let own = opening_problems(std::slice::from_ref(&opening));
        for problem in &own {
            diags.error(at.clone(), problem.clone());
        }
        if !own.is_empty() {
            continue;
        }
        // Openings that are fine on their own may still overlap an earlier one: that
        // is reported at the later one.
        for (earlier, _) in &valid {
            for problem in opening_problems(&[earlier.clone(), opening.clone()]) {
                diags.error(at.clone(), problem);
            }
        }
        valid.push((opening, at));
    }
    hours.opening = valid.into_iter().map(|(o, _)| o).collect();
    hours
}

/// One `[[offices.opening]]`, located at its `from`; `None` when a key is missing or
/// invalid (reported).
fn parse_opening(mut f: Fields<'_, '_, '_>) -> Option<(Opening, Loc)> {
    let diags = f.diags();
    if !f.has("days") {
        diags.error(
            f.loc().clone(),
            "missing required key `days` in [[offices.opening]]: the weekdays, e.g. `days = [\"Mo\", \"Di\"]`",
        );
    }
    let days = f.str_list("days");
    let from = f.required_str("from");
    let to = f.required_str("to");
    let table = f.loc().clone();
    f.finish();

    let mut valid = true;
    let mut numbers = Vec::new();
    if let Some(days) = &days {
        if days.is_empty() {
            diags.error(
                table.clone(),
                "`days` needs at least one weekday: Mo, Di, Mi, Do, Fr, Sa, So",
            );
            valid = false;
        }
        for day in days {
            match parse_day_name(&day.value) {
                Some(n) if !numbers.contains(&n) => numbers.push(n),
                Some(_) => {}
                None => {
                    diags.error(
                        day.loc.clone(),
                        format!("unknown day `{}`; use {}", day.value, DAY_NAMES.join(", ")),
                    );
                    valid = false;
                }
            }
        }
    }
    numbers.sort_unstable();
    let clock = |key: &str, time: &Option<Located<String>>| {
        let time = time.as_ref()?;
        let minutes = parse_clock(&time.value);
        if minutes.is_none() {
            diags.error(
                time.loc.clone(),
                format!(
                    "`{key}` must be a time as `HH:MM` (24 hours, two digits each), e.g. `08:00`, found `{}`",
                    time.value
                ),
            );
        }
        minutes
    };
    let (start, end) = (clock("from", &from), clock("to", &to));
    let (Some(start), Some(end), Some(_), true) = (start, end, days, valid) else {
        return None;
    };
    let at = from.map_or(table, |f| f.loc);
    Some((
        Opening {
            days: numbers,
            from: start,
            to: end,
        },
        at,
    ))
}

/// region.toml's `[appointments]`: how many weeks ahead citizens can book.
pub fn parse_region_appointments(mut f: Fields<'_, '_, '_>) -> Option<u32> {
    let weeks = f.integer("weeks").and_then(|w| {
        if (1..=MAX_WEEKS).contains(&w.value) {
            Some(w.value as u32)
        } else {
            f.diags().error(
                w.loc,
                format!(
                    "`weeks` is how far ahead citizens can book and must be from 1 to {MAX_WEEKS}, found `{}`",
                    w.value
                ),
            );
            None
        }
    });
    f.finish();
    weeks
}
