//! Appointments (SPEC section 8) over HTTP, on every runtime: the free slots against the
//! published opening hours (next working day first, closed days and NRW's public
//! holidays absent, RFC 3339 with the German offset), booking and the 409 of a full slot
//! with alternatives, concurrent bookings of one slot (exactly `capacity` succeed), the
//! refusals, cancelling (the slot is free at once), the calendar file parsed by a real
//! calendar library (`tests/ics/check.py`, Python's `icalendar`), the office's day with
//! the citizens' data sealed to its key, the office's cancellation with a message the
//! citizen reads, the plain HTML form without JavaScript, the mails through the outbox,
//! the rate limit, and the days the clocks change.
//!
//! The servers run on the real clock, so every expectation is computed from today: the
//! bookable window, and the slots from the office's hours as `lotse build` published
//! them (`/appointments/<portal>/<service>.json`), with NRW's public holidays listed here
//! independently of the functions' own calendar.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lotse_envelope::PrivateKey;
use lotse_model::appointment::BookableService;
use lotse_model::calendar::{civil_from_days, days_from_civil, format_date, parse_date, weekday};
use serde_json::{json, Value};

use super::server::{repo, OFFICE_TOKEN, OTHER_OFFICE_TOKEN};
use super::{Answer, Client};

pub const PORTAL: &str = "bottrop";
/// Bottrop's Bürgerbüro: 30 minutes, capacity 3 in the example region.
pub const SERVICE: &str = "personalausweis-beantragen";
/// The same office, 15 minutes: shares the Bürgerbüro's seats.
const SHORT_SERVICE: &str = "meldebescheinigung";
/// Bottrop's Standesamt: 45 minutes, capacity 1.
const STANDESAMT_SERVICE: &str = "eheschliessung-anmelden";
/// Needs a login at level high to apply online, none to book a visit.
const LOGIN_SERVICE: &str = "wohnsitz-anmelden";

const TAKEN_MESSAGE: &str = "Dieser Termin ist gerade vergeben worden.";
/// A word in every booking's name, searched for in the server's state.
const NAME_MARKER: &str = "Terminklartext";
const OFFICE_MESSAGE: &str = "Wegen einer Personalversammlung bleibt das Buergerbuero geschlossen.";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------- calendar (test's own)

/// NRW's public holidays of 2026 to 2028 (Feiertagsgesetz NW § 2), listed by hand so that
/// the functions' own holiday calendar is checked against something else.
const HOLIDAYS: &[&str] = &[
    "2026-01-01",
    "2026-04-03",
    "2026-04-06",
    "2026-05-01",
    "2026-05-14",
    "2026-05-25",
    "2026-06-04",
    "2026-10-03",
    "2026-11-01",
    "2026-12-25",
    "2026-12-26",
    "2027-01-01",
    "2027-03-26",
    "2027-03-29",
    "2027-05-01",
    "2027-05-06",
    "2027-05-17",
    "2027-05-27",
    "2027-10-03",
    "2027-11-01",
    "2027-12-25",
    "2027-12-26",
    "2028-01-01",
    "2028-04-14",
    "2028-04-17",
    "2028-05-01",
    "2028-05-25",
    "2028-06-05",
    "2028-06-15",
    "2028-10-03",
    "2028-11-01",
    "2028-12-25",
    "2028-12-26",
];

fn day(text: &str) -> i64 {
    parse_date(text).unwrap_or_else(|| panic!("not a date: {text}"))
}

fn is_holiday(d: i64) -> bool {
    let (year, _, _) = civil_from_days(d);
    assert!(
        (2026..=2028).contains(&year),
        "{}: extend the test's holiday list beyond 2028",
        format_date(d)
    );
    HOLIDAYS.iter().any(|h| day(h) == d)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The last Sunday of March or October of `year`.
fn last_sunday(year: i64, month: u32) -> i64 {
    let mut d = days_from_civil(year, month, 31);
    while weekday(d) != 6 {
        d -= 1;
    }
    d
}

/// Germany's offset in minutes at an instant: summer time from 01:00 UTC on the last
/// Sunday of March to 01:00 UTC on the last Sunday of October.
fn offset_at(utc_ms: i64) -> i64 {
    let (year, _, _) = civil_from_days(utc_ms.div_euclid(DAY_MS));
    let start = (last_sunday(year, 3) * 24 + 1) * 3_600_000;
    let end = (last_sunday(year, 10) * 24 + 1) * 3_600_000;
    if (start..end).contains(&utc_ms) {
        120
    } else {
        60
    }
}

/// The offset of a German day's office hours (no day the clocks change has any).
fn offset_of_day(d: i64) -> i64 {
    offset_at(d * DAY_MS + 12 * 3_600_000)
}

/// Today in Germany.
fn berlin_today() -> i64 {
    let now = now_ms();
    (now + offset_at(now) * 60_000).div_euclid(DAY_MS)
}

/// A German wall-clock time as RFC 3339 with its offset.
fn rfc(d: i64, minutes: i64) -> String {
    let offset = offset_of_day(d);
    format!(
        "{}T{:02}:{:02}:00+{:02}:00",
        format_date(d),
        minutes / 60,
        minutes % 60,
        offset / 60
    )
}

/// `2026-12-02T08:00:00+01:00` as (day, minutes after midnight, offset minutes); panics
/// on anything else (the functions promise this form).
fn parse_local(text: &str) -> (i64, i64, i64) {
    let bytes = text.as_bytes();
    assert!(
        text.len() == 25
            && bytes[10] == b'T'
            && &text[16..19] == ":00"
            && bytes[19] == b'+'
            && &text[22..] == ":00",
        "not RFC 3339 with a whole-hour German offset: {text}"
    );
    let num = |r: std::ops::Range<usize>| -> i64 { text[r].parse().unwrap() };
    (
        day(&text[..10]),
        num(11..13) * 60 + num(14..16),
        num(20..22) * 60,
    )
}

fn utc_ms_of(text: &str) -> i64 {
    let (d, minutes, offset) = parse_local(text);
    (d * 1440 + minutes - offset) * 60_000
}

/// The instant as the calendar library prints a UTC time: `2026-12-02T07:00:00+00:00`.
fn utc_iso(text: &str) -> String {
    let ms = utc_ms_of(text);
    let d = ms.div_euclid(DAY_MS);
    let minutes = ms.rem_euclid(DAY_MS) / 60_000;
    format!(
        "{}T{:02}:{:02}:00+00:00",
        format_date(d),
        minutes / 60,
        minutes % 60
    )
}

/// Moves a slot's start by `minutes` on its day.
fn shifted(start: &str, minutes: i64) -> String {
    let (d, m, _) = parse_local(start);
    rfc(d, m + minutes)
}

/// `Mittwoch, 2. Dezember 2026`.
fn in_words(d: i64) -> String {
    const DAYS: [&str; 7] = [
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
    let (y, m, dd) = civil_from_days(d);
    format!(
        "{}, {dd}. {} {y}",
        DAYS[weekday(d) as usize],
        MONTHS[m as usize - 1]
    )
}

fn clock(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

// ---------------------------------------------------------------- the published plan

/// A bookable service as `lotse build` published it.
pub struct Plan(pub BookableService);

impl Plan {
    pub fn fetch(client: &Client, portal: &str, service: &str) -> Plan {
        let path = format!("/appointments/{portal}/{service}.json");
        let answer = client.get(&path, &[]);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        Plan(serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{path}: {e}")))
    }

    fn duration(&self) -> i64 {
        i64::from(self.0.plan.duration)
    }

    fn capacity(&self) -> usize {
        self.0.plan.hours.capacity.max(1) as usize
    }

    fn closed(&self, d: i64) -> bool {
        is_holiday(d) || self.0.plan.hours.closed.iter().any(|c| day(c) == d)
    }

    fn opens_on(&self, d: i64) -> bool {
        self.0
            .plan
            .hours
            .opening
            .iter()
            .any(|o| o.days.contains(&weekday(d)))
    }

    /// The first bookable day and the last: the next working day (Monday to Friday, no
    /// public holiday) after today, and today plus the horizon's weeks.
    fn window(&self) -> (i64, i64) {
        let today = berlin_today();
        let mut first = today + 1;
        while weekday(first) >= 5 || is_holiday(first) {
            first += 1;
        }
        (first, today + 7 * i64::from(self.0.plan.horizon_weeks))
    }

    /// The slots of a day by the opening hours: from each opening's start in steps of the
    /// duration, ending by its end; none on a closed day.
    fn day_slots(&self, d: i64) -> Vec<(String, String)> {
        if self.closed(d) {
            return Vec::new();
        }
        let mut starts = BTreeSet::new();
        for opening in &self.0.plan.hours.opening {
            if !opening.days.contains(&weekday(d)) {
                continue;
            }
            let mut start = i64::from(opening.from);
            while start + self.duration() <= i64::from(opening.to) {
                starts.insert(start);
                start += self.duration();
            }
        }
        starts
            .into_iter()
            .map(|s| (rfc(d, s), rfc(d, s + self.duration())))
            .collect()
    }

    fn slots_between(&self, first: i64, last: i64) -> Vec<(String, String)> {
        (first..=last).flat_map(|d| self.day_slots(d)).collect()
    }

    /// The first day after the window that has opening hours (booking there is too far).
    fn beyond(&self) -> i64 {
        let (_, last) = self.window();
        (last + 1..last + 14).find(|d| self.opens_on(*d)).unwrap()
    }

    fn first_opening(&self, d: i64) -> i64 {
        self.0
            .plan
            .hours
            .opening
            .iter()
            .filter(|o| o.days.contains(&weekday(d)))
            .map(|o| i64::from(o.from))
            .min()
            .unwrap_or(8 * 60)
    }
}

// ---------------------------------------------------------------- HTTP helpers

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn slots_path(portal: &str, service: &str) -> String {
    format!("/api/appointments/{portal}/{service}/slots")
}

/// The free slots, as (start, end).
pub fn free(client: &Client, portal: &str, service: &str, query: &str) -> Vec<(String, String)> {
    let path = format!("{}?{query}", slots_path(portal, service));
    let answer = client.get(&path, &[]);
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "{path}"
    );
    answer.json()["slots"]
        .as_array()
        .unwrap_or_else(|| panic!("{path}: no slots: {}", answer.body))
        .iter()
        .map(|s| {
            (
                s["start"].as_str().unwrap().to_string(),
                s["end"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn starts(slots: &[(String, String)]) -> Vec<String> {
    slots.iter().map(|(s, _)| s.clone()).collect()
}

/// The free slots of the `n`-th day (counted from the first bookable day) that has any.
fn nth_day(client: &Client, service: &str, n: usize) -> (i64, Vec<String>) {
    let plan = Plan::fetch(client, PORTAL, service);
    let (first, last) = plan.window();
    let mut seen = 0;
    for d in first..=last {
        let slots = free(
            client,
            PORTAL,
            service,
            &format!("from={}&days=1", format_date(d)),
        );
        if !slots.is_empty() {
            if seen == n {
                return (d, starts(&slots));
            }
            seen += 1;
        }
    }
    panic!("{service}: fewer than {} days with free slots", n + 1);
}

pub fn booking(portal: &str, service: &str, start: &str, name: &str, email: &str) -> Value {
    json!({
        "portal": portal, "service": service, "start": start,
        "fields": {"name": name, "email": email},
    })
}

pub fn book(client: &Client, service: &str, start: &str, name: &str) -> Answer {
    client.post_json(
        "/api/appointments",
        &[],
        &booking(PORTAL, service, start, name, "erika.termin@example.org"),
    )
}

/// Books and checks the 201; (id, token).
pub fn booked(client: &Client, service: &str, start: &str, name: &str) -> (String, String) {
    booked_with(client, service, start, name, "erika.termin@example.org")
}

pub fn booked_with(
    client: &Client,
    service: &str,
    start: &str,
    name: &str,
    email: &str,
) -> (String, String) {
    let answer = client.post_json(
        "/api/appointments",
        &[],
        &booking(PORTAL, service, start, name, email),
    );
    assert_eq!(
        answer.status, 201,
        "booking {service} at {start}: {}",
        answer.body
    );
    let json = answer.json();
    let id = json["id"].as_str().unwrap().to_string();
    let token = json["token"].as_str().unwrap().to_string();
    assert!(
        id.len() == 9
            && id.as_bytes()[4] == b'-'
            && id
                .bytes()
                .filter(|b| *b != b'-')
                .all(|b| b.is_ascii_alphanumeric()),
        "id {id}"
    );
    assert!(token.len() >= 20, "token {token}");
    assert_eq!(json["start"], start, "{json}");
    (id, token)
}

fn appointment(client: &Client, id: &str, token: &str) -> Answer {
    client.get(
        &format!("/api/appointments/{id}"),
        &[("authorization", &bearer(token))],
    )
}

fn office_day(client: &Client, office_token: &str, office: &str, date: &str) -> Answer {
    client.get(
        &format!("/api/office/{PORTAL}/{office}/appointments?date={date}"),
        &[("authorization", &bearer(office_token))],
    )
}

fn office_cancel(client: &Client, office_token: &str, id: &str, message: &str) -> Answer {
    client.post_json(
        &format!("/api/office/appointments/{id}/cancel"),
        &[("authorization", &bearer(office_token))],
        &json!({ "message": message }),
    )
}

fn office_key() -> PrivateKey {
    let text =
        std::fs::read_to_string(repo().join("examples/office-keys/bottrop/buergerbuero.key"))
            .unwrap();
    PrivateKey::from_key_file(&text).unwrap()
}

/// Opens an entry of the office's day with the example office key.
fn open_entry(entry: &Value) -> Value {
    let envelope = lotse_envelope::Envelope::from_json(&entry["envelope"].to_string())
        .unwrap_or_else(|e| panic!("not an envelope ({e}): {entry}"));
    let plain = lotse_envelope::open(&office_key(), &envelope)
        .unwrap_or_else(|e| panic!("the office key does not open it ({e}): {entry}"));
    serde_json::from_slice(&plain).unwrap()
}

/// The calendar file of an appointment, fetched with `headers`, checked as text and
/// parsed by `tests/ics/check.py` (Python's `icalendar`).
fn ics(client: &Client, id: &str, headers: &[(&str, &str)]) -> Value {
    let answer = client.get(&format!("/api/appointments/{id}/ics"), headers);
    assert_eq!(answer.status, 200, "ics of {id}: {}", answer.body);
    assert_eq!(
        answer.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let disposition = answer.header("content-disposition").unwrap_or("");
    assert!(
        disposition.starts_with("attachment") && disposition.contains(&format!("termin-{id}.ics")),
        "{disposition}"
    );
    let text = &answer.body;
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(text.ends_with("END:VCALENDAR\r\n"), "{text}");
    for line in text.split("\r\n") {
        assert!(!line.contains('\n'), "a bare LF in {text:?}");
        assert!(line.len() <= 75, "a line of {} octets: {line}", line.len());
    }
    parse_ics(text)
}

pub fn parse_ics(text: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("termin.ics");
    std::fs::write(&file, text).unwrap();
    let out = Command::new("python3")
        .arg(repo().join("tests/ics/check.py"))
        .arg(&file)
        .env("PYTHONPATH", repo().join(".tools/pydeps"))
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => serde_json::from_slice(&out.stdout).unwrap(),
        Some(2) => panic!(
            "tests/ics/check.py cannot run: {stderr}\ninstall it: python3 -m pip install --target .tools/pydeps icalendar"
        ),
        _ => panic!("icalendar does not read the calendar file: {stderr}\n{text}"),
    }
}

/// The `Cookie` pair of an answer's `Set-Cookie` that starts with `prefix`.
fn cookie_from(answer: &Answer, prefix: &str) -> (String, String) {
    let header = answer
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.clone())
        .find(|v| v.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}… cookie: {:?}", answer.headers));
    (header.split(';').next().unwrap().to_string(), header)
}

fn post_form_with(
    client: &Client,
    path: &str,
    pairs: &[(&str, &str)],
    extra: &[(&str, &str)],
) -> Answer {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut headers = vec![
        ("content-type", "application/x-www-form-urlencoded"),
        ("accept", "text/html,application/xhtml+xml"),
    ];
    headers.extend_from_slice(extra);
    client.request("POST", path, &headers, Some(body.as_bytes()))
}

/// A browser's form post from a page of the site sent with `Referrer-Policy:
/// no-referrer` (the functions' pages): `Origin: null`, `Sec-Fetch-Site: same-origin`.
fn browser_form(client: &Client, path: &str, pairs: &[(&str, &str)]) -> Answer {
    post_form_with(
        client,
        path,
        pairs,
        &[("origin", "null"), ("sec-fetch-site", "same-origin")],
    )
}

// ---------------------------------------------------------------- cases

/// The slot lists of three services (two offices, three durations, Haltern am See's
/// Saturday mornings) are exactly what the published hours give over the whole window:
/// from the next working day, without weekends the office is shut, closed days and
/// public holidays, with the German offset of each day. Runs first, before anything is
/// booked.
pub fn slots_follow_the_opening_hours(client: &Client) {
    for (portal, service) in [
        (PORTAL, SERVICE),
        (PORTAL, STANDESAMT_SERVICE),
        (PORTAL, SHORT_SERVICE),
        ("haltern-am-see", SERVICE),
    ] {
        let plan = Plan::fetch(client, portal, service);
        let (first, last) = plan.window();
        assert!(last - first < 62, "the window fits one query of 62 days");
        let all = free(
            client,
            portal,
            service,
            &format!("from={}&days=62", format_date(first)),
        );
        let expected = plan.slots_between(first, last);
        assert!(
            !expected.is_empty(),
            "{portal}/{service}: no slots expected"
        );
        if all != expected {
            let got: BTreeSet<_> = all.iter().collect();
            let want: BTreeSet<_> = expected.iter().collect();
            panic!(
                "{portal}/{service}: slots differ from the opening hours\n  unexpected: {:?}\n  missing: {:?}",
                got.difference(&want).take(8).collect::<Vec<_>>(),
                want.difference(&got).take(8).collect::<Vec<_>>()
            );
        }
        let first_day = parse_local(&all[0].0).0;
        assert_eq!(
            first_day,
            (first..).find(|d| !plan.day_slots(*d).is_empty()).unwrap(),
            "{portal}/{service}: the first slot is on the first bookable day with hours"
        );
        for (start, end) in &all {
            let (d, minutes, offset) = parse_local(start);
            assert_eq!(offset, offset_of_day(d), "{start}: the German offset");
            assert!(!plan.closed(d), "{start}: a closed day or public holiday");
            assert!(plan.opens_on(d), "{start}: a day without opening hours");
            assert_eq!(
                utc_ms_of(end) - utc_ms_of(start),
                plan.duration() * 60_000,
                "{start}–{end}"
            );
            assert_eq!(minutes % 5, 0, "{start}: on the 5-minute grid");
        }
        // The closed days of the office and the holidays within the window, each absent.
        for d in first..=last {
            if plan.closed(d) && plan.opens_on(d) {
                let date = format_date(d);
                assert!(
                    all.iter().all(|(s, _)| !s.starts_with(&date)),
                    "{portal}/{service}: slots on the closed day {date}"
                );
            }
        }
        // Without `from`: the first week from the first bookable day.
        assert_eq!(
            free(client, portal, service, ""),
            plan.slots_between(first, first + 6),
            "{portal}/{service}: the default list"
        );
        // From today: nothing before the first bookable day.
        let today = berlin_today();
        assert_eq!(
            free(
                client,
                portal,
                service,
                &format!("from={}&days=5", format_date(today - 1))
            ),
            plan.slots_between(first, today + 3),
            "{portal}/{service}: from yesterday"
        );
        // Past the horizon: nothing.
        assert!(free(
            client,
            portal,
            service,
            &format!("from={}&days=14", format_date(last + 1))
        )
        .is_empty());
    }
    for bad in [
        "from=morgen",
        "from=2027-02-30",
        "from=02.12.2026",
        "days=0",
        "days=63",
        "days=viele",
    ] {
        let path = format!("{}?{bad}", slots_path(PORTAL, SERVICE));
        let answer = client.get(&path, &[]);
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
        assert!(answer.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid_"));
    }
    for (portal, service) in [
        (PORTAL, "fundsache-melden"),
        (PORTAL, "gibt-es-nicht"),
        ("gibt-es-nicht", SERVICE),
        ("kreis-recklinghausen", SERVICE),
    ] {
        let answer = client.get(&slots_path(portal, service), &[]);
        assert_eq!(answer.status, 404, "{portal}/{service}: {}", answer.body);
    }
}

/// Bookings take the seats of a slot one by one: it stays free until `capacity` are
/// booked, then a booking answers 409 with free alternatives. The shorter service of the
/// same office loses the minutes the full slot covers. Returns (day, start, [(id,
/// token, name)]) of the full slot, for the office's day.
pub fn a_full_slot_answers_409_with_alternatives(
    client: &Client,
) -> (i64, String, Vec<(String, String, String)>) {
    let plan = Plan::fetch(client, PORTAL, SERVICE);
    let (d, free_then) = nth_day(client, SERVICE, 1);
    let start = free_then[0].clone();
    let date = format!("from={}&days=1", format_date(d));
    let mut booked_here = Vec::new();
    for seat in 0..plan.capacity() {
        assert!(
            starts(&free(client, PORTAL, SERVICE, &date)).contains(&start),
            "{start} is free with {seat} of {} seats taken",
            plan.capacity()
        );
        let name = format!("Erika {NAME_MARKER} Sitz{seat}");
        let (id, token) = booked(client, SERVICE, &start, &name);
        let json = appointment(client, &id, &token).json();
        assert_eq!(
            json,
            json!({
                "id": id, "portal": PORTAL, "service": SERVICE, "office": "buergerbuero",
                "start": start, "end": shifted(&start, plan.duration()), "status": "booked",
            })
        );
        booked_here.push((id, token, name));
    }
    let ids: BTreeSet<_> = booked_here.iter().map(|(id, _, _)| id.clone()).collect();
    assert_eq!(ids.len(), plan.capacity(), "distinct ids");
    let now_free = starts(&free(client, PORTAL, SERVICE, &date));
    assert!(
        !now_free.contains(&start),
        "{start} is still offered when full"
    );
    let refused = book(client, SERVICE, &start, "Max Zuspät");
    assert_eq!(refused.status, 409, "{}", refused.body);
    let json = refused.json();
    assert_eq!(json["error"], "slot_taken");
    assert_eq!(json["message"], TAKEN_MESSAGE);
    let alternatives = json["slots"].as_array().unwrap();
    assert!(!alternatives.is_empty(), "no alternatives: {json}");
    let free_now = starts(&free(
        client,
        PORTAL,
        SERVICE,
        &format!("from={}&days=30", format_date(d)),
    ));
    for alternative in alternatives {
        let s = alternative["start"].as_str().unwrap();
        parse_local(s);
        assert_ne!(s, start);
        assert!(
            free_now.contains(&s.to_string()),
            "{s} is offered but not free"
        );
        assert_eq!(
            alternative["end"].as_str().unwrap(),
            shifted(s, plan.duration())
        );
    }
    // The 15-minute service of the Bürgerbüro: the two quarters of the full half hour
    // are gone, the quarter after it is not (nothing else is booked that day).
    let short = starts(&free(client, PORTAL, SHORT_SERVICE, &date));
    assert!(!short.contains(&start), "{start}: {short:?}");
    assert!(!short.contains(&shifted(&start, 15)), "{short:?}");
    assert!(short.contains(&shifted(&start, 30)), "{short:?}");
    // A 15-minute booking in the next half hour takes one seat of three: the 30-minute
    // slot there stays free.
    let partly = shifted(&start, 30);
    let (id, _) = booked(client, SHORT_SERVICE, &partly, "Quentin Viertel");
    let long = starts(&free(client, PORTAL, SERVICE, &date));
    assert!(
        long.contains(&partly),
        "one seat of three taken for 15 minutes leaves {partly} free: {long:?}"
    );
    assert!(!id.is_empty());
    (d, start, booked_here)
}

/// Many citizens book one slot at the same moment: exactly `capacity` succeed, every
/// other gets 409 with the message, for the Bürgerbüro (capacity 3) and the Standesamt
/// (capacity 1).
pub fn concurrent_bookings_succeed_exactly_capacity_times(client: &Client) {
    const AT_ONCE: usize = 12;
    for service in [SERVICE, STANDESAMT_SERVICE] {
        let plan = Plan::fetch(client, PORTAL, service);
        let (d, slots) = nth_day(client, service, 2);
        let start = slots[1].clone();
        let barrier = Arc::new(Barrier::new(AT_ONCE));
        let results = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                let (barrier, results) = (barrier.clone(), results.clone());
                let (base, start) = (client.base.clone(), start.clone());
                std::thread::spawn(move || {
                    let client = Client::new(&base);
                    let body = booking(
                        PORTAL,
                        service,
                        &start,
                        &format!("Gleichzeitig {NAME_MARKER} {i}"),
                        "gleichzeitig@example.org",
                    );
                    barrier.wait();
                    let answer = client.post_json("/api/appointments", &[], &body);
                    results.lock().unwrap().push((answer.status, answer.body));
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let results = results.lock().unwrap();
        let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
        let won = statuses.iter().filter(|s| **s == 201).count();
        assert_eq!(
            won,
            plan.capacity(),
            "{service} at {start}, capacity {}: {statuses:?}\n{results:?}",
            plan.capacity()
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            AT_ONCE - plan.capacity(),
            "{results:?}"
        );
        for (status, body) in results.iter() {
            if *status == 409 {
                let json: Value = serde_json::from_str(body).unwrap();
                assert_eq!(json["message"], TAKEN_MESSAGE);
                assert!(!json["slots"].as_array().unwrap().is_empty());
            }
        }
        let after = starts(&free(
            client,
            PORTAL,
            service,
            &format!("from={}&days=1", format_date(d)),
        ));
        assert!(!after.contains(&start), "{start} still offered: {after:?}");
    }
}

/// Starts that are no slot, too soon, too far or on a closed day are 400 with the
/// reason at `start`; missing or wrong fields are 400 at the field; foreign sites are
/// 403; a wrong token finds nothing (404, as an
/// unknown id), and changes nothing.
pub fn refusals(client: &Client) {
    let plan = Plan::fetch(client, PORTAL, SERVICE);
    let (first, last) = plan.window();
    let (d, slots) = nth_day(client, SERVICE, 3);
    let start = slots[0].clone();
    let today = berlin_today();
    let mut cases = vec![
        (shifted(&start, 5), "Zu dieser Zeit beginnt kein Termin"),
        (
            shifted(&start, -60 * 3),
            "Zu dieser Zeit beginnt kein Termin",
        ),
        (
            rfc(today, plan.first_opening(today)),
            "ab dem nächsten Werktag",
        ),
        (rfc(today - 1, 9 * 60), "ab dem nächsten Werktag"),
        (rfc(first - 1, 9 * 60), "ab dem nächsten Werktag"),
        (
            rfc(plan.beyond(), plan.first_opening(plan.beyond())),
            "So weit im Voraus",
        ),
        (format!("{} 08:00", format_date(d)), "aus der Liste"),
        ("morgen früh".to_string(), "aus der Liste"),
        (String::new(), "aus der Liste"),
    ];
    // The last day of the window is bookable (both ends included), the next is not.
    let last_day = (first..=last)
        .rev()
        .find(|x| !plan.day_slots(*x).is_empty())
        .unwrap();
    let last_slot = plan.day_slots(last_day).last().unwrap().0.clone();
    booked(client, SERVICE, &last_slot, &format!("Lotte {NAME_MARKER}"));
    // A Saturday: the Bürgerbüro has no hours then.
    let saturday = (first..first + 7).find(|x| weekday(*x) == 5).unwrap();
    cases.push((rfc(saturday, 9 * 60), "Zu dieser Zeit beginnt kein Termin"));
    // A closed day or public holiday within the window on a weekday with hours.
    match (first..=last).find(|x| plan.closed(*x) && plan.opens_on(*x)) {
        Some(closed) => cases.push((rfc(closed, plan.first_opening(closed)), "geschlossen")),
        None => eprintln!(
            "appointments: no closed day within {}..{}: the closed-day refusal is not tried",
            format_date(first),
            format_date(last)
        ),
    }
    for (start, why) in &cases {
        let answer = book(client, SERVICE, start, "Erika Abgelehnt");
        assert_eq!(answer.status, 400, "{start:?}: {}", answer.body);
        let json = answer.json();
        assert_eq!(json["error"], "validation", "{json}");
        assert!(
            json["fields"]["start"].as_str().unwrap_or("").contains(why),
            "{start:?}: expected …{why}…: {json}"
        );
    }
    for (fields, wrong) in [
        (json!({"name": "Erika"}), "email"),
        (
            json!({"name": "Erika", "email": "kein-at-zeichen"}),
            "email",
        ),
        (json!({"email": "erika@example.org"}), "name"),
        (json!({"name": "", "email": "erika@example.org"}), "name"),
        (
            json!({"name": "E".repeat(201), "email": "erika@example.org"}),
            "name",
        ),
    ] {
        let answer = client.post_json(
            "/api/appointments",
            &[],
            &json!({"portal": PORTAL, "service": SERVICE, "start": start, "fields": fields}),
        );
        assert_eq!(answer.status, 400, "{fields}: {}", answer.body);
        assert!(
            answer.json()["fields"][wrong].is_string(),
            "{fields}: {}",
            answer.body
        );
    }
    for (portal, service) in [(PORTAL, "fundsache-melden"), ("gibt-es-nicht", SERVICE)] {
        let answer = client.post_json(
            "/api/appointments",
            &[],
            &booking(portal, service, &start, "Erika", "erika@example.org"),
        );
        assert_eq!(answer.status, 404, "{portal}/{service}: {}", answer.body);
    }
    // Wohnsitz anmelden needs a login at level high to apply online; a visit to the
    // office needs none (generator/src/render/mod.rs `bookable_service`).
    let login_plan = Plan::fetch(client, PORTAL, LOGIN_SERVICE);
    assert_eq!(login_plan.0.login, lotse_model::TrustLevel::None);
    let login_start = login_plan.day_slots(d)[0].0.clone();
    booked(
        client,
        LOGIN_SERVICE,
        &login_start,
        &format!("Erika {NAME_MARKER} Umzug"),
    );
    // Bodies and types.
    let answer = client.request(
        "POST",
        "/api/appointments",
        &[("content-type", "text/plain")],
        Some(b"portal=bottrop"),
    );
    assert_eq!(answer.status, 415, "{}", answer.body);
    let answer = client.request(
        "POST",
        "/api/appointments",
        &[("content-type", "application/json")],
        Some(b"{\"portal\":"),
    );
    assert_eq!(answer.status, 400, "{}", answer.body);
    // Other sites.
    let body = booking(PORTAL, SERVICE, &start, "Erika Fremd", "erika@example.org");
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "null")],
    ] {
        let answer = client.post_json("/api/appointments", &headers, &body);
        assert_eq!(answer.status, 403, "{headers:?}: {}", answer.body);
    }
    let own = [("origin", client.base.as_str())];
    let answer = client.post_json(
        "/api/appointments",
        &own,
        &booking(
            PORTAL,
            SERVICE,
            &start,
            &format!("Erika {NAME_MARKER}"),
            "erika@example.org",
        ),
    );
    assert_eq!(answer.status, 201, "own origin: {}", answer.body);
    let json = answer.json();
    let (id, token) = (
        json["id"].as_str().unwrap().to_string(),
        json["token"].as_str().unwrap().to_string(),
    );

    // The appointment for its token only; wrong and unknown answer alike.
    let path = format!("/api/appointments/{id}");
    let unknown = client.get(
        "/api/appointments/ZZZZ-ZZZZ",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(unknown.status, 404);
    let other_token = "A".repeat(token.len());
    for headers in [
        vec![("authorization", bearer(&other_token))],
        vec![("authorization", "Bearer ".to_string())],
        vec![("authorization", format!("Basic {token}"))],
        vec![],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let answer = client.get(&path, &headers);
        assert_eq!(answer.status, 404, "{headers:?}: {}", answer.body);
        assert_eq!(answer.body, unknown.body, "wrong and unknown answer alike");
        let calendar = client.get(&format!("{path}/ics"), &headers);
        assert_eq!(calendar.status, 404, "ics {headers:?}");
        let deleted = client.request("DELETE", &path, &headers, None);
        assert_eq!(deleted.status, 404, "DELETE {headers:?}: {}", deleted.body);
    }
    for bad_id in ["kein-termin", "ZZZZ-ZZZZ"] {
        let answer = client.request(
            "DELETE",
            &format!("/api/appointments/{bad_id}"),
            &[("authorization", &bearer(&token))],
            None,
        );
        assert!(
            answer.status == 404,
            "DELETE {bad_id}: {} {}",
            answer.status,
            answer.body
        );
    }
    // Cancelling from another site is refused, with the right token too.
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let auth = bearer(&token);
        let mut all = headers.clone();
        all.push(("authorization", auth.as_str()));
        let answer = client.request("DELETE", &path, &all, None);
        assert_eq!(answer.status, 403, "{headers:?}: {}", answer.body);
        let form = post_form_with(
            client,
            &format!("{path}/cancel"),
            &[("token", &token)],
            &headers,
        );
        assert_eq!(form.status, 403, "cancel form {headers:?}");
    }
    let wrong_form = browser_form(
        client,
        &format!("{path}/cancel"),
        &[("token", &other_token)],
    );
    assert_eq!(wrong_form.status, 404, "{}", wrong_form.body);
    assert!(wrong_form
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(
        appointment(client, &id, &token).json()["status"],
        "booked",
        "unchanged"
    );
}

/// The citizen cancels: the slot is free again at once, the appointment says
/// cancelled, the calendar file keeps its UID with a higher SEQUENCE, STATUS:CANCELLED
/// and METHOD:CANCEL; twice is 409; the slot can be booked again.
pub fn cancelling_frees_the_slot_and_the_calendar_says_so(client: &Client) {
    let plan = Plan::fetch(client, PORTAL, STANDESAMT_SERVICE);
    let (d, slots) = nth_day(client, STANDESAMT_SERVICE, 0);
    let start = slots[0].clone();
    let date = format!("from={}&days=1", format_date(d));
    let (id, token) = booked(
        client,
        STANDESAMT_SERVICE,
        &start,
        &format!("Hanna {NAME_MARKER}"),
    );
    assert!(!starts(&free(client, PORTAL, STANDESAMT_SERVICE, &date)).contains(&start));
    let auth = bearer(&token);
    let before = ics(client, &id, &[("authorization", &auth)]);
    assert_eq!(before["method"], "PUBLISH", "{before}");
    assert_eq!(before["version"], "2.0");
    let events = before["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{before}");
    let event = &events[0];
    let uid = event["uid"].as_str().unwrap().to_string();
    assert!(uid.contains(&id), "{uid}");
    assert_eq!(event["dtstart"], utc_iso(&start), "{before}");
    assert_eq!(event["dtend"], utc_iso(&shifted(&start, plan.duration())));
    assert_eq!(event["dtstart_utc"], true, "DTSTART in UTC: {before}");
    assert_eq!(event["dtend_utc"], true, "DTEND in UTC: {before}");
    assert_eq!(event["dtstamp_utc"], true);
    assert_eq!(event["status"], "CONFIRMED");
    assert_eq!(event["summary"], "Termin: Eheschließung anmelden");
    // Commas and the like are escaped in the file; the library reads them back.
    assert_eq!(
        event["location"], "Standesamt Bottrop, Ernst-Wilczok-Platz 1, 46236 Bottrop",
        "{before}"
    );
    let (_, authority) = client.base.split_once("://").unwrap();
    assert_eq!(uid, format!("termin-{id}@{authority}"));
    let description = event["description"].as_str().unwrap();
    assert!(description.contains(&id), "{description}");
    assert!(
        description.contains(&format!("{}/api/termin/status", client.base)),
        "{description}"
    );
    let sequence = event["sequence"].as_i64().unwrap();

    let path = format!("/api/appointments/{id}");
    let cancelled = client.request("DELETE", &path, &[("authorization", &auth)], None);
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.json(), json!({"id": id, "status": "cancelled"}));
    assert!(
        starts(&free(client, PORTAL, STANDESAMT_SERVICE, &date)).contains(&start),
        "{start} is free again at once"
    );
    assert_eq!(
        appointment(client, &id, &token).json()["status"],
        "cancelled"
    );
    let after = ics(client, &id, &[("authorization", &auth)]);
    let event = &after["events"][0];
    assert_eq!(after["method"], "CANCEL", "{after}");
    assert_eq!(event["status"], "CANCELLED");
    assert_eq!(event["uid"], uid.as_str(), "the same UID");
    assert!(
        event["sequence"].as_i64().unwrap() > sequence,
        "SEQUENCE raised: {before} -> {after}"
    );
    assert_eq!(event["dtstart"], utc_iso(&start));
    let again = client.request("DELETE", &path, &[("authorization", &auth)], None);
    assert_eq!(again.status, 409, "{}", again.body);
    let (other, _) = booked(client, STANDESAMT_SERVICE, &start, "Nachrücker");
    assert_ne!(other, id);
}

/// The office's day: the appointments of that date with their seats, the citizens' data
/// sealed to the office's key (the example key opens it), nothing in clear; other
/// offices' tokens and no token are refused.
pub fn the_office_sees_its_day(
    client: &Client,
    full: &(i64, String, Vec<(String, String, String)>),
) {
    let (d, start, bookings) = full;
    let date = format_date(*d);
    let answer = office_day(client, OFFICE_TOKEN, "buergerbuero", &date);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        !answer.body.contains(NAME_MARKER),
        "names in clear: {}",
        answer.body
    );
    assert!(!answer.body.contains("example.org"), "addresses in clear");
    let json = answer.json();
    assert_eq!(json["portal"], PORTAL);
    assert_eq!(json["office"], "buergerbuero");
    assert_eq!(json["date"], date.as_str());
    let entries = json["appointments"].as_array().unwrap();
    let mut seats = BTreeSet::new();
    for (id, _, name) in bookings {
        let entry = entries
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} is not in the office's day: {json}"));
        assert_eq!(entry["start"], start.as_str());
        assert_eq!(entry["service"], SERVICE);
        assert_eq!(entry["status"], "booked");
        seats.insert(entry["seat"].as_i64().unwrap());
        let opened = open_entry(entry);
        assert_eq!(opened["fields"]["name"], name.as_str(), "{opened}");
        assert_eq!(opened["fields"]["email"], "erika.termin@example.org");
        assert_eq!(opened["start"], start.as_str());
        assert_eq!(opened["id"], id.as_str());
        assert_eq!(opened["service"], SERVICE);
    }
    assert_eq!(seats.len(), bookings.len(), "one seat each: {seats:?}");
    for entry in entries {
        assert!(
            entry["start"].as_str().unwrap().starts_with(&date),
            "{entry}"
        );
    }
    // Another day does not list them.
    let other = office_day(client, OFFICE_TOKEN, "buergerbuero", &format_date(d + 1)).json();
    for (id, _, _) in bookings {
        assert!(!other.to_string().contains(id.as_str()));
    }
    // Refusals.
    let path = format!("/api/office/{PORTAL}/buergerbuero/appointments?date={date}");
    assert_eq!(client.get(&path, &[]).status, 401);
    assert_eq!(
        client
            .get(
                &path,
                &[("authorization", &bearer("falsch-falsch-falsch-falsch"))]
            )
            .status,
        401
    );
    let foreign = office_day(client, OTHER_OFFICE_TOKEN, "buergerbuero", &date);
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let standesamt = office_day(client, OFFICE_TOKEN, "standesamt", &date);
    assert_eq!(standesamt.status, 403, "{}", standesamt.body);
    for bad in ["morgen", "2027-02-30", "02.12.2026"] {
        let answer = office_day(client, OFFICE_TOKEN, "buergerbuero", bad);
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
    }
    let unknown = client.get(
        &format!("/api/office/{PORTAL}/gibt-es-nicht/appointments?date={date}"),
        &[("authorization", &bearer(OFFICE_TOKEN))],
    );
    assert_eq!(unknown.status, 404);
    // Without a date: today (nothing is bookable today).
    let today = client.get(
        &format!("/api/office/{PORTAL}/buergerbuero/appointments"),
        &[("authorization", &bearer(OFFICE_TOKEN))],
    );
    assert_eq!(today.status, 200);
    assert_eq!(today.json()["date"], format_date(berlin_today()).as_str());
}

/// The office cancels with a message: the citizen reads it with the token (JSON and the
/// confirmation page), the office's day says cancelled by the office, the seat is free
/// again; an empty message is 400, another office's token 404, twice 409.
pub fn the_office_cancels_with_a_message(client: &Client) -> String {
    let plan = Plan::fetch(client, PORTAL, SERVICE);
    let (d, slots) = nth_day(client, SERVICE, 4);
    let start = slots[2].clone();
    let date = format!("from={}&days=1", format_date(d));
    let mut bookings = Vec::new();
    for n in 0..plan.capacity() {
        bookings.push(booked(
            client,
            SERVICE,
            &start,
            &format!("Otto {NAME_MARKER} {n}"),
        ));
    }
    assert!(!starts(&free(client, PORTAL, SERVICE, &date)).contains(&start));
    let (id, token) = bookings[0].clone();
    let too_long = "x".repeat(2001);
    for message in ["", "   ", too_long.as_str()] {
        let answer = office_cancel(client, OFFICE_TOKEN, &id, message);
        assert_eq!(answer.status, 400, "{message:?}: {}", answer.body);
    }
    let answer = client.post_json(
        &format!("/api/office/appointments/{id}/cancel"),
        &[],
        &json!({ "message": OFFICE_MESSAGE }),
    );
    assert_eq!(answer.status, 401);
    let foreign = office_cancel(client, OTHER_OFFICE_TOKEN, &id, OFFICE_MESSAGE);
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    assert_eq!(appointment(client, &id, &token).json()["status"], "booked");
    let unknown = office_cancel(client, OFFICE_TOKEN, "ZZZZ-ZZZZ", OFFICE_MESSAGE);
    assert_eq!(unknown.status, 404);

    let answer = office_cancel(client, OFFICE_TOKEN, &id, OFFICE_MESSAGE);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json(), json!({"id": id, "status": "cancelled"}));
    assert!(
        starts(&free(client, PORTAL, SERVICE, &date)).contains(&start),
        "a seat of {start} is free again"
    );
    let mine = appointment(client, &id, &token);
    assert_eq!(mine.status, 200);
    let mine = mine.json();
    assert_eq!(mine["status"], "cancelled", "{mine}");
    assert_eq!(mine["message"], OFFICE_MESSAGE, "{mine}");
    // The others of the slot know nothing of it.
    let (other, other_token) = &bookings[1];
    let theirs = appointment(client, other, other_token).json();
    assert_eq!(theirs["status"], "booked");
    assert!(theirs.get("message").is_none(), "{theirs}");
    // The office's day.
    let day = office_day(client, OFFICE_TOKEN, "buergerbuero", &format_date(d)).json();
    assert!(!day.to_string().contains("Personalversammlung"));
    let entry = day["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(entry["status"], "cancelled");
    assert_eq!(entry["cancelled_by"], "office");
    // The calendar file says cancelled too.
    let calendar = ics(client, &id, &[("authorization", &bearer(&token))]);
    assert_eq!(calendar["method"], "CANCEL", "{calendar}");
    assert_eq!(calendar["events"][0]["status"], "CANCELLED");
    assert!(calendar["events"][0]["sequence"].as_i64().unwrap() >= 1);
    // The confirmation page, through the lookup form.
    let looked_up = browser_form(
        client,
        "/api/termin/status",
        &[("id", &id), ("token", &token)],
    );
    assert_eq!(looked_up.status, 303, "{}", looked_up.body);
    let (cookie, _) = cookie_from(&looked_up, "lotse_termin_");
    let page = client.get(
        looked_up.header("location").unwrap(),
        &[("cookie", &cookie)],
    );
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Ihr Termin ist abgesagt"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("Die Dienststelle hat den Termin abgesagt."));
    assert!(page.body.contains("Nachricht der Dienststelle"));
    assert!(page.body.contains(OFFICE_MESSAGE), "{}", page.body);
    assert!(!page.body.contains("Termin absagen</button>"));
    // Twice, and the citizen after the office.
    assert_eq!(
        office_cancel(client, OFFICE_TOKEN, &id, OFFICE_MESSAGE).status,
        409
    );
    let late = client.request(
        "DELETE",
        &format!("/api/appointments/{id}"),
        &[("authorization", &bearer(&token))],
        None,
    );
    assert_eq!(late.status, 409, "{}", late.body);
    id
}

/// The booking page and its form without JavaScript: the slots as radio buttons by day,
/// the 303 to the confirmation with a sealed cookie (no token in any address), the
/// confirmation with date, Vorgangsnummer, Schlüssel, the calendar file and the cancel
/// form; the form again with errors and what was typed, a taken slot as 409 with the
/// slots still free; cancelling by the form; the lookup by Vorgangsnummer and Schlüssel.
pub fn the_plain_form_books_and_cancels(client: &Client) {
    let plan = Plan::fetch(client, PORTAL, SERVICE);
    let (first, last) = plan.window();
    let page = client.get(
        &format!("/api/termin?portal={PORTAL}&service={SERVICE}"),
        &[("accept", "text/html")],
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = &page.body;
    assert!(!html.contains("<script"), "the booking page has a script");
    assert!(
        html.contains("<h1>Termin vereinbaren: Personalausweis beantragen</h1>"),
        "{html}"
    );
    assert!(html.contains("Bürgerbüro im Rathaus"));
    assert!(html.contains("Dauer: 30 Minuten"));
    assert!(html.contains("<form method=\"post\" action=\"/api/appointments\""));
    assert!(html.contains("<input type=\"hidden\" name=\"portal\" value=\"bottrop\">"));
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"service\" value=\"{SERVICE}\">"
    )));
    let first_with_slots = parse_local(&free(client, PORTAL, SERVICE, "")[0].0).0;
    assert!(
        html.contains(&format!("<legend>{}</legend>", in_words(first_with_slots))),
        "no fieldset for {}: {html}",
        in_words(first_with_slots)
    );
    assert!(
        html.contains("<details class=\"weitere-termine\">"),
        "later weeks behind <details>"
    );
    // Every free slot of the window is a radio button, and nothing else.
    let offered: BTreeSet<String> = crate::common::tags(html)
        .into_iter()
        .filter(|t| t.name == "input" && t.get("type") == Some("radio"))
        .map(|t| t.get("value").unwrap().to_string())
        .collect();
    let free_now: BTreeSet<String> = starts(&free(
        client,
        PORTAL,
        SERVICE,
        &format!("from={}&days=62", format_date(first)),
    ))
    .into_iter()
    .collect();
    assert_eq!(offered, free_now, "the radio buttons are the free slots");
    assert!(parse_local(offered.iter().last().unwrap()).0 <= last);
    for field in ["feld-name", "feld-email"] {
        assert!(html.contains(&format!("id=\"{field}\"")), "{field}: {html}");
    }
    for path in [
        "/api/termin?portal=bottrop&service=fundsache-melden",
        "/api/termin?portal=gibt-es-nicht&service=personalausweis-beantragen",
        "/api/termin",
    ] {
        let missing = client.get(path, &[]);
        assert_eq!(missing.status, 404, "{path}");
        assert!(
            missing
                .body
                .contains("Für diese Leistung können keine Termine gebucht werden."),
            "{path}: {}",
            missing.body
        );
    }
    // From a day past the window: nothing to choose, and it says so.
    let beyond = client.get(
        &format!(
            "/api/termin?portal={PORTAL}&service={SERVICE}&from={}",
            format_date(last + 1)
        ),
        &[],
    );
    assert_eq!(beyond.status, 200);
    assert!(
        beyond
            .body
            .contains("In den nächsten Wochen sind keine Termine frei"),
        "{}",
        beyond.body
    );
    assert!(!beyond.body.contains("type=\"radio\""));

    // Book by the form.
    let (d, slots) = nth_day(client, SERVICE, 5);
    let start = slots[3].clone();
    let name = format!("Frieda {NAME_MARKER}");
    let pairs = [
        ("portal", PORTAL),
        ("service", SERVICE),
        ("start", start.as_str()),
        ("name", name.as_str()),
        ("email", "frieda.formular@example.org"),
    ];
    let sent = browser_form(client, "/api/appointments", &pairs);
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.header("location").unwrap().to_string();
    assert!(
        location.starts_with("/api/termin/bestaetigung?id="),
        "{location}"
    );
    let id = location.split("id=").nth(1).unwrap().to_string();
    let (cookie, header) = cookie_from(&sent, "lotse_termin_");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/"] {
        assert!(header.contains(attribute), "{attribute}: {header}");
    }
    let confirmation = client.get(&location, &[("cookie", &cookie)]);
    assert_eq!(confirmation.status, 200, "{}", confirmation.body);
    let html = &confirmation.body;
    assert!(!html.contains("<script"));
    assert!(html.contains("<h1>Ihr Termin ist gebucht</h1>"), "{html}");
    let (_, minutes, _) = parse_local(&start);
    let when = format!(
        "{}, {} bis {} Uhr",
        in_words(d),
        clock(minutes),
        clock(minutes + 30)
    );
    assert!(html.contains(&when), "{when}: {html}");
    assert!(html.contains("Bürgerbüro im Rathaus, Ernst-Wilczok-Platz 1, 46236 Bottrop"));
    assert!(html.contains(&format!("<strong class=\"vorgang\">{id}</strong>")));
    let token = html
        .split("<code class=\"schluessel\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("the Schlüssel on the confirmation")
        .to_string();
    assert!(
        !location.contains(&token),
        "the token is never in an address"
    );
    assert!(html.contains(&format!("href=\"/api/appointments/{id}/ics\"")));
    assert!(html.contains(&format!("action=\"/api/appointments/{id}/cancel\"")));
    assert!(html.contains(&format!("name=\"token\" value=\"{token}\"")));
    assert!(html.contains("Termin absagen"));
    assert_eq!(appointment(client, &id, &token).json()["status"], "booked");
    // The calendar file opens with the confirmation cookie too.
    let calendar = ics(client, &id, &[("cookie", &cookie)]);
    assert_eq!(calendar["events"][0]["dtstart"], utc_iso(&start));
    // Without the cookie: the lookup form, 404, nothing of the appointment.
    let bare = client.get(&location, &[]);
    assert_eq!(bare.status, 404);
    assert!(bare.body.contains("Termin abfragen oder absagen"));
    assert!(!bare.body.contains(&name) && !bare.body.contains(&when));
    // Another appointment's cookie opens nothing here.
    let (other, other_token) = booked(client, SERVICE, &slots[4], "Anderer Bürger");
    let looked_up = browser_form(
        client,
        "/api/termin/status",
        &[("id", &other), ("token", &other_token)],
    );
    let (other_cookie, _) = cookie_from(&looked_up, "lotse_termin_");
    assert_eq!(
        client.get(&location, &[("cookie", &other_cookie)]).status,
        404
    );

    // The form again: errors with what was typed.
    let no_name = browser_form(
        client,
        "/api/appointments",
        &[
            ("portal", PORTAL),
            ("service", SERVICE),
            ("start", slots[5].as_str()),
            ("name", ""),
            ("email", "getippt@example.org"),
        ],
    );
    assert_eq!(no_name.status, 400, "{}", no_name.body);
    let html = &no_name.body;
    assert!(html.contains("Bitte korrigieren Sie 1 Angabe"), "{html}");
    assert!(html.contains("href=\"#feld-name\""));
    assert!(
        html.contains("value=\"getippt@example.org\""),
        "typed e-mail kept"
    );
    let checked = crate::common::tags(html)
        .into_iter()
        .filter(|t| t.name == "input" && t.has("checked"))
        .map(|t| t.get("value").unwrap_or("").to_string())
        .collect::<Vec<_>>();
    assert_eq!(
        checked,
        vec![slots[5].clone()],
        "the chosen slot stays chosen"
    );
    // What was typed comes back escaped.
    let markup = browser_form(
        client,
        "/api/appointments",
        &[
            ("portal", PORTAL),
            ("service", SERVICE),
            ("start", slots[5].as_str()),
            ("name", "<script>alert(1)</script>\"><b>"),
            ("email", "kein-at"),
        ],
    );
    assert_eq!(markup.status, 400);
    assert!(!markup.body.contains("<script>alert"), "{}", markup.body);
    assert!(!markup.body.contains("\"><b>"), "{}", markup.body);
    assert!(markup
        .body
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let no_slot = browser_form(
        client,
        "/api/appointments",
        &[
            ("portal", PORTAL),
            ("service", SERVICE),
            ("name", "Ohne Zeit"),
            ("email", "ohne.zeit@example.org"),
        ],
    );
    assert_eq!(no_slot.status, 400);
    assert!(
        no_slot.body.contains("href=\"#termine\""),
        "{}",
        no_slot.body
    );
    assert!(no_slot.body.contains("id=\"termine\""));
    // A slot taken meanwhile: the Standesamt has one seat.
    let (_, standesamt) = nth_day(client, STANDESAMT_SERVICE, 3);
    let wanted = standesamt[0].clone();
    let form = |who: &str| {
        browser_form(
            client,
            "/api/appointments",
            &[
                ("portal", PORTAL),
                ("service", STANDESAMT_SERVICE),
                ("start", wanted.as_str()),
                ("name", who),
                ("email", "paar@example.org"),
            ],
        )
    };
    assert_eq!(form("Erstes Paar").status, 303);
    let second = form("Zweites Paar");
    assert_eq!(second.status, 409, "{}", second.body);
    let html = &second.body;
    assert!(
        html.contains("Dieser Termin ist gerade vergeben worden"),
        "{html}"
    );
    assert!(html.contains("Diese Termine sind noch frei:"));
    let radios: BTreeSet<String> = crate::common::tags(html)
        .into_iter()
        .filter(|t| t.name == "input" && t.get("type") == Some("radio"))
        .map(|t| t.get("id").unwrap().to_string())
        .collect();
    let links: Vec<String> = crate::common::tags(html)
        .into_iter()
        .filter(|t| t.name == "a" && t.get("href").is_some_and(|h| h.starts_with("#zeit-")))
        .map(|t| t.get("href").unwrap()[1..].to_string())
        .collect();
    assert!(!links.is_empty(), "{html}");
    for link in &links {
        assert!(
            radios.contains(link),
            "#{link} is not a radio button on the page"
        );
    }
    assert!(
        !html.contains(&format!("value=\"{wanted}\"")),
        "the taken slot is offered"
    );
    assert!(
        html.contains("value=\"Zweites Paar\""),
        "the name typed is kept"
    );

    // Cancel by the form: back to the confirmation, which says so; the seat is free.
    let cancelled = browser_form(
        client,
        &format!("/api/appointments/{id}/cancel"),
        &[("token", &token)],
    );
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    assert_eq!(cancelled.header("location"), Some(location.as_str()));
    let (cookie, _) = cookie_from(&cancelled, "lotse_termin_");
    let page = client.get(&location, &[("cookie", &cookie)]);
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<h1>Ihr Termin ist abgesagt</h1>"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("Sie haben den Termin abgesagt. Der Termin ist wieder frei."));
    assert!(page.body.contains(&format!(
        "href=\"/api/termin?portal={PORTAL}&amp;service={SERVICE}\""
    )));
    assert!(!page.body.contains("Termin absagen</button>"));
    assert_eq!(
        appointment(client, &id, &token).json()["status"],
        "cancelled"
    );
    let again = browser_form(
        client,
        &format!("/api/appointments/{id}/cancel"),
        &[("token", &token)],
    );
    assert_eq!(again.status, 409, "{}", again.body);
    assert!(again
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));

    // The lookup: the form, a wrong Schlüssel, the right one.
    let lookup = client.get("/api/termin/status", &[]);
    assert_eq!(lookup.status, 200);
    assert!(lookup.body.contains("action=\"/api/termin/status\""));
    let wrong = browser_form(
        client,
        "/api/termin/status",
        &[("id", &id), ("token", "falsch")],
    );
    assert_eq!(wrong.status, 404);
    assert!(
        wrong.body.contains("keinen Termin gefunden"),
        "{}",
        wrong.body
    );
    let typed = id.to_lowercase().replace('-', " ");
    let right = browser_form(
        client,
        "/api/termin/status",
        &[("id", &typed), ("token", &token)],
    );
    assert_eq!(right.status, 303, "{}", right.body);
    assert_eq!(right.header("location"), Some(location.as_str()));
    let cross = post_form_with(
        client,
        "/api/termin/status",
        &[("id", &id), ("token", &token)],
        &[("sec-fetch-site", "cross-site")],
    );
    assert_eq!(cross.status, 403);
}

/// No file of the server's state holds a booking's name, address or the office's
/// message in clear.
pub fn nothing_readable_at_rest(state: &Path) {
    let mut checked = 0;
    for file in super::cases::walk(state) {
        let bytes = std::fs::read(&file).unwrap();
        checked += 1;
        for needle in [
            NAME_MARKER.as_bytes(),
            b"erika.termin@example.org",
            b"frieda.formular@example.org",
            b"Personalversammlung",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} contains {}",
                file.display(),
                String::from_utf8_lossy(needle)
            );
        }
    }
    assert!(checked > 0);
}

/// A 405 names the methods of each appointment route; HEAD answers like GET; a body over
/// the limit is 413 before anything is booked; the security headers are on every answer.
pub fn methods_limits_and_headers(client: &Client) {
    let slots = slots_path(PORTAL, SERVICE);
    for (method, path, allow) in [
        ("PUT", "/api/appointments", "POST"),
        ("GET", "/api/appointments", "POST"),
        ("POST", "/api/appointments/AAAA-AAAA", "GET, HEAD, DELETE"),
        ("PUT", "/api/appointments/AAAA-AAAA", "GET, HEAD, DELETE"),
        ("DELETE", "/api/appointments/AAAA-AAAA/ics", "GET, HEAD"),
        ("GET", "/api/appointments/AAAA-AAAA/cancel", "POST"),
        ("POST", slots.as_str(), "GET, HEAD"),
        ("DELETE", "/api/termin", "GET, HEAD"),
        ("POST", "/api/termin/bestaetigung", "GET, HEAD"),
        ("PUT", "/api/termin/status", "GET, HEAD, POST"),
        ("GET", "/api/office/appointments/AAAA-AAAA/cancel", "POST"),
        (
            "POST",
            "/api/office/bottrop/buergerbuero/appointments",
            "GET, HEAD",
        ),
    ] {
        let answer = client.request(method, path, &[], None);
        assert_eq!(answer.status, 405, "{method} {path}: {}", answer.body);
        assert_eq!(answer.header("allow"), Some(allow), "{method} {path}");
    }
    let get = client.get(&slots, &[]);
    let head = client.request("HEAD", &slots, &[], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body");
    assert_eq!(head.header("content-type"), get.header("content-type"));
    let page = client.request(
        "HEAD",
        &format!("/api/termin?portal={PORTAL}&service={SERVICE}"),
        &[],
        None,
    );
    assert_eq!(page.status, 200);
    assert!(page.body.is_empty());
    // 64 KiB and more: 413, nothing booked.
    let start = free(client, PORTAL, SERVICE, "")[0].0.clone();
    let mut big = booking(PORTAL, SERVICE, &start, "Gross", "gross@example.org");
    big["fields"]["padding"] = json!("x".repeat(70 * 1024));
    let answer = client.post_json("/api/appointments", &[], &big);
    assert_eq!(answer.status, 413, "{}", answer.body);
    // The security headers on JSON, the pages and the calendar file alike.
    for path in [
        slots.clone(),
        format!("/api/termin?portal={PORTAL}&service={SERVICE}"),
        "/api/termin/status".to_string(),
    ] {
        let answer = client.get(&path, &[]);
        for header in [
            "content-security-policy",
            "x-content-type-options",
            "referrer-policy",
        ] {
            assert!(answer.header(header).is_some(), "{path}: no {header}");
        }
    }
    let form = client.get(
        &format!("/api/termin?portal={PORTAL}&service={SERVICE}"),
        &[],
    );
    assert!(
        form.header("cache-control")
            .is_some_and(|c| c.contains("no-store")),
        "the booking page is not cached: {:?}",
        form.header("cache-control")
    );
}

/// Every case, in an order that keeps each independent (the slot lists first, before
/// anything is booked; each case books on days of its own).
pub fn all(client: &Client, state: &Path) {
    slots_follow_the_opening_hours(client);
    let full = a_full_slot_answers_409_with_alternatives(client);
    concurrent_bookings_succeed_exactly_capacity_times(client);
    refusals(client);
    cancelling_frees_the_slot_and_the_calendar_says_so(client);
    the_office_sees_its_day(client, &full);
    the_office_cancels_with_a_message(client);
    the_plain_form_books_and_cancels(client);
    methods_limits_and_headers(client);
    nothing_readable_at_rest(state);
}

/// Against a server limited to `limit` submissions a minute per client. Bookings share
/// the window with applications: `fresh` (nothing sent yet) lets exactly `limit`
/// bookings through; after `cases::rate_limited` the first is already 429. The slot
/// lists are never limited; the HTML form gets the page.
pub fn rate_limited(client: &Client, limit: u32, fresh: bool) {
    let slots = free(client, PORTAL, SERVICE, "");
    let mut accepted = 0;
    for (n, (start, _)) in slots.iter().enumerate().take(limit as usize * 2 + 2) {
        let answer = book(client, SERVICE, start, &format!("Schnell {n}"));
        match answer.status {
            201 => accepted += 1,
            429 => {
                let retry: u64 = answer
                    .header("retry-after")
                    .expect("429 has Retry-After")
                    .parse()
                    .unwrap();
                assert!((1..=60).contains(&retry), "Retry-After {retry}");
                assert_eq!(answer.json()["error"], "rate_limited");
                let expected = if fresh { limit } else { 0 };
                assert_eq!(accepted, expected, "bookings accepted before 429");
                let page = browser_form(
                    client,
                    "/api/appointments",
                    &[
                        ("portal", PORTAL),
                        ("service", SERVICE),
                        ("start", start),
                        ("name", "Formular"),
                        ("email", "formular@example.org"),
                    ],
                );
                assert_eq!(page.status, 429, "{}", page.body);
                assert!(page
                    .header("content-type")
                    .unwrap()
                    .starts_with("text/html"));
                assert!(page.body.contains("Zu viele Anfragen"), "{}", page.body);
                assert!(page.header("retry-after").is_some());
                for _ in 0..limit + 2 {
                    assert!(!free(client, PORTAL, SERVICE, "").is_empty());
                }
                return;
            }
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    panic!("no 429 after {accepted} bookings with a limit of {limit}");
}

// ---------------------------------------------------------------- mails

/// One mail as the test's mail server got it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

fn wait_for(
    mails: &dyn Fn() -> Vec<Mail>,
    what: &dyn Fn(&Mail) -> bool,
    limit: Duration,
) -> Vec<Mail> {
    let started = Instant::now();
    loop {
        let found: Vec<Mail> = mails().into_iter().filter(|m| what(m)).collect();
        if !found.is_empty() || started.elapsed() > limit {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The mails of appointments through the outbox: the office's cancellation goes to the
/// citizen with when and where and the lookup's address, never the office's message or
/// the name, once; a citizen's own cancellation sends nothing; and no reminder goes for
/// an appointment booked within a day of its start (docs/appointments.md: reminders are
/// for appointments booked more than a day before, the day before; with the servers on
/// the real clock that day cannot be waited for here, the native tests in
/// functions/core/tests/appointments.rs send it). `deliver` makes the server send what
/// is due (nothing under `lotse serve`, whose timer does it; an office's change on the
/// worker).
pub fn mails(client: &Client, mails: &dyn Fn() -> Vec<Mail>, deliver: &dyn Fn()) {
    let plan = Plan::fetch(client, PORTAL, SERVICE);
    let (first, _) = plan.window();
    let soonest = free(
        client,
        PORTAL,
        SERVICE,
        &format!("from={}&days=1", format_date(first)),
    );
    let within_a_day = soonest
        .first()
        .filter(|(start, _)| utc_ms_of(start) - now_ms() < DAY_MS - 120_000)
        .map(|(start, _)| start.clone());
    match &within_a_day {
        Some(start) => {
            booked_with(
                client,
                SERVICE,
                start,
                &format!("Rosa {NAME_MARKER}"),
                "rosa.bald@example.org",
            );
        }
        None => eprintln!(
            "appointments: no slot starts within a day of now (first bookable day {}): a booking within a day is not tried",
            format_date(first)
        ),
    }
    // Cancelled by the office, a week later.
    let (d, slots) = nth_day(client, SERVICE, 5);
    let start = slots[0].clone();
    let (cancelled, _) = booked_with(
        client,
        SERVICE,
        &start,
        &format!("Carl {NAME_MARKER}"),
        "carl.absage@example.org",
    );
    // Cancelled by the citizen: nothing is sent.
    let (own, own_token) = booked_with(
        client,
        SERVICE,
        &slots[1],
        "Emil Selbst",
        "emil.selbst@example.org",
    );
    let deleted = client.request(
        "DELETE",
        &format!("/api/appointments/{own}"),
        &[("authorization", &bearer(&own_token))],
        None,
    );
    assert_eq!(deleted.status, 200);
    let answer = office_cancel(client, OFFICE_TOKEN, &cancelled, OFFICE_MESSAGE);
    assert_eq!(answer.status, 200, "{}", answer.body);
    deliver();
    let got = wait_for(
        mails,
        &|m: &Mail| m.to == "carl.absage@example.org",
        Duration::from_secs(20),
    );
    assert_eq!(got.len(), 1, "the cancellation mail: {:?}", mails());
    let mail = &got[0];
    assert_eq!(
        mail.subject,
        format!("Ihr Termin {cancelled} wurde abgesagt")
    );
    let (_, minutes, _) = parse_local(&start);
    let about = format!(
        "{}, {} Uhr, Bürgerbüro im Rathaus, Ernst-Wilczok-Platz 1, 46236 Bottrop",
        in_words(d),
        clock(minutes)
    );
    assert!(mail.text.contains(&about), "{about}: {}", mail.text);
    assert!(
        mail.text
            .contains(&format!("{}/api/termin/status", client.base)),
        "{}",
        mail.text
    );
    assert!(!mail.text.contains("Personalversammlung"), "{}", mail.text);
    assert!(!mail.text.contains(NAME_MARKER));
    // Later rounds send nothing again, nothing for the citizen's own cancellation, and
    // no reminder for what was booked within a day.
    deliver();
    std::thread::sleep(Duration::from_secs(2));
    let all = mails();
    assert_eq!(
        all.iter()
            .filter(|m| m.to == "carl.absage@example.org")
            .count(),
        1,
        "{all:?}"
    );
    for to in ["emil.selbst@example.org", "rosa.bald@example.org"] {
        assert!(all.iter().all(|m| m.to != to), "a mail to {to}: {all:?}");
    }
    assert!(
        all.iter().all(|m| !m.subject.starts_with("Erinnerung")),
        "{all:?}"
    );
}

// ---------------------------------------------------------------- the clock changes

/// A copy of the example region that books 52 weeks ahead (region.toml `[appointments]
/// weeks = 52`), so that the next two changes of the clocks are in the window.
pub fn year_ahead_content() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    crate::common::copy_dir(&repo().join("content"), &content);
    let region = std::fs::read_to_string(content.join("region.toml")).unwrap();
    assert!(
        region.contains("\nweeks = 8\n"),
        "region.toml's [appointments] weeks"
    );
    std::fs::write(
        content.join("region.toml"),
        region.replace("\nweeks = 8\n", "\nweeks = 52\n"),
    )
    .unwrap();
    (dir, content)
}

/// `lotse serve` on another content folder, with the suite's office tokens.
pub fn serve_content(
    content: &Path,
    env: &[(&str, &str)],
) -> (crate::common::servers::Running, String) {
    let port = super::server::free_port();
    let data = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(data.path().join("serve.log")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .arg("serve")
        .arg("--content")
        .arg(content)
        .args(["--port", &port.to_string(), "--no-search", "--data"])
        .arg(data.path())
        .env("LOTSE_OFFICE_TOKENS", super::server::office_tokens())
        .env("LOTSE_RATE_LIMIT", "1000")
        .env_remove("LOTSE_OFFICE_TOKEN")
        .env_remove("LOTSE_OIDC_CLIENT_SECRET")
        .env_remove("LOTSE_OFFICE_OIDC_CLIENT_SECRET")
        .envs(env.iter().copied())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("lotse serve starts");
    let mut running = crate::common::servers::Running {
        child,
        data: Some(data),
    };
    crate::common::servers::wait_until_answers(port, &mut running, &["/"], Duration::from_secs(90));
    (running, format!("http://127.0.0.1:{port}"))
}

/// The next change of the clocks after `from` in `month` (3 or 10).
fn next_change(from: i64, month: u32) -> i64 {
    let (year, _, _) = civil_from_days(from);
    let this = last_sunday(year, month);
    if this > from {
        this
    } else {
        last_sunday(year + 1, month)
    }
}

/// Slots across the days the clocks change (the last Sundays of March and October, in
/// a window of 52 weeks): the week before and after are exactly what the opening hours
/// give, at +01:00 in winter and +02:00 in summer, so that 08:00 is 07:00 UTC in winter
/// and 06:00 UTC in summer; bookings on either side keep their local time in the answer,
/// the calendar file (UTC) and the office's day.
pub fn across_the_clock_changes(client: &Client) {
    let plan = Plan::fetch(client, PORTAL, SERVICE);
    assert_eq!(
        plan.0.plan.horizon_weeks, 52,
        "the year-ahead copy of the content"
    );
    let (first, last) = plan.window();
    for (month, before_offset, after_offset) in [(3, 60, 120), (10, 120, 60)] {
        let sunday = next_change(first, month);
        assert!(
            sunday + 7 <= last,
            "{} is within the window",
            format_date(sunday)
        );
        let from = sunday - 6;
        let slots = free(
            client,
            PORTAL,
            SERVICE,
            &format!("from={}&days=13", format_date(from)),
        );
        let expected = plan.slots_between(from, sunday + 6);
        assert_eq!(slots, expected, "around {}", format_date(sunday));
        let before: Vec<_> = slots
            .iter()
            .filter(|(s, _)| parse_local(s).0 < sunday)
            .collect();
        let after: Vec<_> = slots
            .iter()
            .filter(|(s, _)| parse_local(s).0 > sunday)
            .collect();
        assert!(!before.is_empty() && !after.is_empty(), "{slots:?}");
        for (s, e) in &before {
            assert_eq!(parse_local(s).2, before_offset, "{s}");
            assert_eq!(parse_local(e).2, before_offset, "{e}");
        }
        for (s, e) in &after {
            assert_eq!(parse_local(s).2, after_offset, "{s}");
            assert_eq!(parse_local(e).2, after_offset, "{e}");
        }
        // The office opens at 08:00 local either side: 07:00 UTC in winter, 06:00 in summer.
        for (s, _) in [before[0], after[0]] {
            let (d, minutes, offset) = parse_local(s);
            assert_eq!(minutes, plan.first_opening(d), "{s}");
            let utc_hour = (utc_ms_of(s).rem_euclid(DAY_MS)) / 3_600_000;
            assert_eq!(utc_hour, (minutes - offset) / 60, "{s}");
        }
        // The Sunday and NRW's holidays around it are shut (2027: Karfreitag and
        // Ostermontag around the change in March, Allerheiligen after October's).
        for (s, _) in &slots {
            let d = parse_local(s).0;
            assert!(d != sunday && !is_holiday(d), "{s}");
        }
        // Book either side; the answers, the calendar file and the office's day agree.
        for (start, _) in [*before.last().unwrap(), after[0]] {
            let (id, token) = booked(client, SERVICE, start, &format!("Uhr {NAME_MARKER}"));
            let mine = appointment(client, &id, &token).json();
            assert_eq!(mine["start"], start.as_str());
            assert_eq!(mine["end"], shifted(start, 30));
            let calendar = ics(client, &id, &[("authorization", &bearer(&token))]);
            assert_eq!(
                calendar["events"][0]["dtstart"],
                utc_iso(start),
                "{calendar}"
            );
            assert_eq!(calendar["events"][0]["dtend"], utc_iso(&shifted(start, 30)));
            let d = parse_local(start).0;
            let day = office_day(client, OFFICE_TOKEN, "buergerbuero", &format_date(d)).json();
            let entry = day["appointments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["id"] == id.as_str())
                .unwrap_or_else(|| panic!("{id} not on {}: {day}", format_date(d)))
                .clone();
            assert_eq!(entry["start"], start.as_str());
            assert_eq!(open_entry(&entry)["start"], start.as_str());
        }
        // The Sunday itself: a day of 23 or 25 hours, and nothing on it.
        let day = office_day(client, OFFICE_TOKEN, "buergerbuero", &format_date(sunday));
        assert_eq!(day.status, 200, "{}", day.body);
        assert_eq!(day.json()["appointments"], json!([]));
    }
}

/// Makes the worker send what is due: an office's change does (its answer is followed by
/// a delivery round). Books a slot and lets the office cancel it.
pub fn office_round(client: &Client) {
    let (d, slots) = nth_day(client, SERVICE, 6);
    let (id, _) = booked_with(
        client,
        SERVICE,
        &slots[0],
        "Ausloeser",
        "ausloeser@example.org",
    );
    let answer = office_cancel(client, OFFICE_TOKEN, &id, "Runde");
    assert_eq!(
        answer.status,
        200,
        "{} on {}: {}",
        id,
        format_date(d),
        answer.body
    );
}

/// `wrangler dev` (workerd, local D1) on another built site than dist/: the worker as
/// scripts/worker-build.sh built it, the repository's wrangler.toml with its assets,
/// main and migrations pointed elsewhere, in a fresh state folder (what
/// scripts/worker-dev.sh does for dist/).
pub fn wrangler_dev_on_dist(dist: &Path) -> (crate::common::servers::Running, String) {
    let root = repo().canonicalize().unwrap();
    let wrangler = root.join("functions/worker/node_modules/.bin/wrangler");
    let state = tempfile::tempdir().unwrap();
    let mut config = std::fs::read_to_string(root.join("wrangler.toml")).unwrap();
    for (from, to) in [
        (
            "main = \"functions/worker/build/index.js\"".to_string(),
            format!(
                "main = \"{}\"",
                root.join("functions/worker/build/index.js").display()
            ),
        ),
        (
            "directory = \"./dist\"".to_string(),
            format!("directory = \"{}\"", dist.display()),
        ),
        (
            "migrations_dir = \"functions/migrations\"".to_string(),
            format!(
                "migrations_dir = \"{}\"",
                root.join("functions/migrations").display()
            ),
        ),
        // The worker is built; wrangler builds nothing.
        (
            "command = \"scripts/worker-build.sh\"".to_string(),
            String::new(),
        ),
    ] {
        assert!(config.contains(&from), "wrangler.toml has no {from}");
        config = config.replace(&from, &to);
    }
    let config_file = state.path().join("wrangler.toml");
    std::fs::write(&config_file, config).unwrap();
    let quiet = [
        ("CI", "true"),
        ("WRANGLER_SEND_METRICS", "false"),
        ("CLOUDFLARE_CF_FETCH_ENABLED", "false"),
    ];
    let migrated = Command::new(&wrangler)
        .current_dir(state.path())
        .args(["d1", "migrations", "apply", "DB", "--local", "--persist-to"])
        .arg(state.path())
        .arg("--config")
        .arg(&config_file)
        .envs(quiet)
        .env("WRANGLER_LOG_PATH", state.path().join("logs"))
        .output()
        .expect("wrangler runs");
    assert!(
        migrated.status.success(),
        "wrangler d1 migrations apply: {}{}",
        String::from_utf8_lossy(&migrated.stdout),
        String::from_utf8_lossy(&migrated.stderr)
    );
    let port = super::server::free_port();
    let log = std::fs::File::create(state.path().join("wrangler.log")).unwrap();
    let child = Command::new(&wrangler)
        .current_dir(state.path())
        .arg("dev")
        .arg("--config")
        .arg(&config_file)
        .args([
            "--local",
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--inspector-port",
            "0",
            "--show-interactive-dev-session=false",
            "--persist-to",
        ])
        .arg(state.path())
        .arg("--var")
        .arg(format!("OFFICE_TOKENS:{}", super::server::office_tokens()))
        .args(["--var", "RATE_LIMIT_PER_MINUTE:1000"])
        .envs(quiet)
        .env("WRANGLER_LOG_PATH", state.path().join("logs"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("wrangler dev starts");
    let mut running = crate::common::servers::Running {
        child,
        data: Some(state),
    };
    crate::common::servers::wait_until_answers(
        port,
        &mut running,
        &["/robots.txt"],
        Duration::from_secs(120),
    );
    (running, format!("http://127.0.0.1:{port}"))
}

/// The year-ahead copy of the content built into a folder of its own, for `wrangler dev`.
pub fn year_ahead_dist() -> (tempfile::TempDir, PathBuf) {
    let (dir, content) = year_ahead_content();
    let dist = dir.path().join("dist");
    let status = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .arg("build")
        .arg("--content")
        .arg(&content)
        .arg("--out")
        .arg(&dist)
        .arg("--no-search")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "lotse build of the year-ahead content failed"
    );
    (dir, dist)
}

/// The office's day and its cancellation by a caseworker's staff session (the
/// workspace's login, docs/workspace.md): Petra (Bottrop's Bürgerbüro) sees and cancels
/// her office's appointments, recorded in the audit log under her name; Murat
/// (Gelsenkirchen) gets 403 for the day and 404 for the cancellation, as for an unknown
/// id; Jana, who works for the Standesamt too, sees its day; a staff change from a foreign
/// origin is refused.
pub fn staff_sessions(site: &Client) {
    let (d, slots) = nth_day(site, SERVICE, 7);
    let date = format_date(d);
    let (id, token) = booked(site, SERVICE, &slots[0], &format!("Sina {NAME_MARKER}"));
    let day_path = |office: &str| format!("/api/office/{PORTAL}/{office}/appointments?date={date}");
    let mut petra = super::workspace::logged_in(site, "petra.schulte");
    let day = petra.get(&day_path("buergerbuero"));
    assert_eq!(day.status, 200, "{}", day.body);
    let entry = day.json()["appointments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} not in Petra's day: {}", day.body))
        .clone();
    assert_eq!(
        open_entry(&entry)["fields"]["name"],
        format!("Sina {NAME_MARKER}")
    );
    assert_eq!(petra.get(&day_path("standesamt")).status, 403);
    let mut murat = super::workspace::logged_in(site, "murat.yilmaz");
    let foreign = murat.get(&day_path("buergerbuero"));
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let cancel_path = format!("/api/office/appointments/{id}/cancel");
    let refused = murat.post_json(&cancel_path, &json!({ "message": OFFICE_MESSAGE }));
    assert_eq!(refused.status, 404, "{}", refused.body);
    let mut jana = super::workspace::logged_in(site, "jana.kowalski");
    assert_eq!(jana.get(&day_path("standesamt")).status, 200);
    // From another site, with Petra's cookie: refused, nothing changed.
    let cookie = petra.cookie();
    let cross = site.request(
        "POST",
        &cancel_path,
        &[
            ("cookie", cookie.as_str()),
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ],
        Some(json!({ "message": OFFICE_MESSAGE }).to_string().as_bytes()),
    );
    assert_eq!(cross.status, 403, "{}", cross.body);
    assert_eq!(appointment(site, &id, &token).json()["status"], "booked");
    let cancelled = petra.post_json(&cancel_path, &json!({ "message": OFFICE_MESSAGE }));
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let mine = appointment(site, &id, &token).json();
    assert_eq!(mine["status"], "cancelled");
    assert_eq!(mine["message"], OFFICE_MESSAGE);
    let audit = petra.get(&format!("/api/office/{PORTAL}/buergerbuero/audit"));
    assert_eq!(audit.status, 200, "{}", audit.body);
    let audit = audit.json();
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "cancel_appointment" && e["application"] == id.as_str())
        .unwrap_or_else(|| panic!("no cancel_appointment entry for {id}: {audit}"))
        .clone();
    assert_eq!(entry["actor"], "staff", "{entry}");
    assert_eq!(entry["actor_id"], "ma-1001", "{entry}");
    assert_eq!(entry["actor_name"], "Petra Schulte", "{entry}");
    assert!(
        !audit.to_string().contains("Personalversammlung"),
        "{audit}"
    );
}
