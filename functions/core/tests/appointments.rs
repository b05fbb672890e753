//! Appointments (SPEC section 8), natively on the embedded store: slots, booking and
//! its refusals, no double booking under concurrency, cancelling, the calendar file,
//! the office's day and its cancellation with a message, the reminder.

mod common;

use std::sync::{Arc, Mutex};

use common::{request, OFFICE_TOKEN};
use futures_executor::block_on;
use lotse_envelope::PrivateKey;
use lotse_functions::auth::NoNetwork;
use lotse_functions::notify::{deliver_due, Mail, Mailer};
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{handle, App, Forms, HashSecret, Request, Response};
use lotse_model::appointment::{AppointmentPlan, BookableService, OfficeHours, Opening};
use lotse_model::calendar::parse_rfc3339;
use lotse_model::FormSchema;
use serde_json::{json, Value};

/// One bookable service: Bottrop's Bürgerbüro, Personalausweis, 30 minutes, Monday to
/// Friday 08:00–12:00, `capacity` seats.
struct Bookable(BookableService);

impl Forms for Bookable {
    async fn schema(&self, _: &str, _: &str) -> Option<FormSchema> {
        None
    }
    async fn offices(&self, portal: &str) -> Option<Vec<String>> {
        (portal == "bottrop").then(|| vec!["buergerbuero".to_string()])
    }
    async fn appointment(&self, portal: &str, service: &str) -> Option<BookableService> {
        (portal == self.0.portal && service == self.0.service).then(|| self.0.clone())
    }
}

type TestApp = App<SqliteStore, Bookable, NoNetwork>;

fn app(capacity: u32) -> (TestApp, PrivateKey) {
    let (key, public) = PrivateKey::generate();
    let service = BookableService {
        portal: "bottrop".into(),
        portal_name: "Stadt Bottrop".into(),
        service: "personalausweis-beantragen".into(),
        title: "Personalausweis beantragen".into(),
        office: "buergerbuero".into(),
        office_name: "Bürgerbüro im Rathaus".into(),
        office_address: Some("Ernst-Wilczok-Platz 1, 46236 Bottrop".into()),
        public_key: public.to_base64(),
        login: Default::default(),
        plan: AppointmentPlan {
            duration: 30,
            hours: OfficeHours {
                opening: vec![Opening {
                    days: vec![0, 1, 2, 3, 4],
                    from: 8 * 60,
                    to: 12 * 60,
                }],
                capacity,
                closed: vec!["2026-11-27".into()],
            },
            horizon_weeks: 8,
        },
    };
    let mut config = common::config();
    config.rate_limit_per_minute = 100_000;
    config.hash_secret = HashSecret::from_bytes([5; 32]);
    let app = App {
        store: SqliteStore::in_memory().unwrap(),
        forms: Bookable(service),
        http: NoNetwork,
        config,
    };
    (app, key)
}

fn send(app: &TestApp, request: Request) -> (u16, Value, Response) {
    let response = block_on(handle(app, request));
    let json = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, json, response)
}

fn book_request(start: &str, client: &str) -> Request {
    let body = json!({
        "portal": "bottrop", "service": "personalausweis-beantragen", "start": start,
        "fields": {"name": "Erika Klartext", "email": "erika.klartext@example.org"},
    });
    Request {
        body: body.to_string().into_bytes(),
        client: client.into(),
        ..request(
            "POST",
            "/api/appointments",
            "",
            &[("content-type", "application/json")],
        )
    }
}

fn slots(app: &TestApp, query: &str) -> Vec<String> {
    let (status, json, _) = send(
        app,
        request(
            "GET",
            "/api/appointments/bottrop/personalausweis-beantragen/slots",
            query,
            &[],
        ),
    );
    assert_eq!(status, 200, "{json}");
    json["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect()
}

// NOW is Monday 2026-11-23, 20:30 German time: bookable from Tuesday 24th.
const TUESDAY_9: &str = "2026-11-24T09:00:00+01:00";

#[test]
fn slots_start_the_next_working_day_and_leave_out_closed_days() {
    let (app, _) = app(1);
    let week = slots(&app, "");
    assert_eq!(
        week.len(),
        8 * 4,
        "Tue–Fri minus the closed Friday, plus Monday"
    );
    assert_eq!(week[0], "2026-11-24T08:00:00+01:00");
    assert!(
        week.iter().all(|s| !s.starts_with("2026-11-27")),
        "closed day"
    );
    assert!(week
        .iter()
        .all(|s| !s.starts_with("2026-11-28") && !s.starts_with("2026-11-29")));
    // Christmas: both holidays shut.
    let christmas = slots(&app, "from=2026-12-24&days=3");
    assert_eq!(christmas.len(), 8);
    assert!(christmas.iter().all(|s| s.starts_with("2026-12-24")));
    // Past the horizon of 8 weeks nothing.
    assert!(slots(&app, "from=2027-01-19&days=7").is_empty());
    for bad in ["from=morgen", "days=0", "days=63", "from=2026-02-30"] {
        let (status, json, _) = send(
            &app,
            request(
                "GET",
                "/api/appointments/bottrop/personalausweis-beantragen/slots",
                bad,
                &[],
            ),
        );
        assert_eq!(status, 400, "{bad}: {json}");
    }
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            "/api/appointments/bottrop/hundesteuer/slots",
            "",
            &[],
        ),
    );
    assert_eq!(status, 404);
}

#[test]
fn a_booking_is_sealed_and_its_slot_is_gone() {
    let (app, office_key) = app(1);
    let (status, json, _) = send(&app, book_request(TUESDAY_9, "192.0.2.1"));
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["start"], TUESDAY_9);
    assert_eq!(json["end"], "2026-11-24T09:30:00+01:00");
    let id = json["id"].as_str().unwrap().to_string();
    let token = json["token"].as_str().unwrap().to_string();
    assert!(!slots(&app, "").contains(&TUESDAY_9.to_string()));
    // The office's day lists it with the citizen's data sealed to the office's key.
    let office = format!("Bearer {OFFICE_TOKEN}");
    let (status, day, _) = send(
        &app,
        request(
            "GET",
            "/api/office/bottrop/buergerbuero/appointments",
            "date=2026-11-24",
            &[("authorization", &office)],
        ),
    );
    assert_eq!(status, 200, "{day}");
    let entry = &day["appointments"][0];
    assert_eq!(entry["id"], id.as_str());
    assert!(!day.to_string().contains("Klartext"));
    let envelope = lotse_envelope::Envelope::from_json(&entry["envelope"].to_string()).unwrap();
    let opened: Value =
        serde_json::from_slice(&lotse_envelope::open(&office_key, &envelope).unwrap()).unwrap();
    assert_eq!(opened["fields"]["name"], "Erika Klartext");
    assert_eq!(opened["start"], TUESDAY_9);
    // The citizen sees it with the token, nobody without.
    let bearer = format!("Bearer {token}");
    let path = format!("/api/appointments/{id}");
    let (status, mine, _) = send(
        &app,
        request("GET", &path, "", &[("authorization", &bearer)]),
    );
    assert_eq!(status, 200);
    assert_eq!(mine["status"], "booked");
    assert_eq!(mine["office"], "buergerbuero");
    let (status, _, _) = send(
        &app,
        request("GET", &path, "", &[("authorization", "Bearer falsch")]),
    );
    assert_eq!(status, 404);
}

#[test]
fn bad_bookings_are_refused_with_reasons() {
    let (app, _) = app(1);
    for (start, why) in [
        (
            "2026-11-24T09:15:00+01:00",
            "Zu dieser Zeit beginnt kein Termin",
        ),
        ("2026-11-23T09:00:00+01:00", "ab dem nächsten Werktag"),
        ("2027-02-02T09:00:00+01:00", "So weit im Voraus"),
        ("2026-11-27T09:00:00+01:00", "geschlossen"),
        ("2026-11-24 09:00", "aus der Liste"),
    ] {
        let (status, json, _) = send(&app, book_request(start, "192.0.2.2"));
        assert_eq!(status, 400, "{start}: {json}");
        assert!(
            json["fields"]["start"].as_str().unwrap().contains(why),
            "{start}: {json}"
        );
    }
    let mut no_mail = book_request(TUESDAY_9, "192.0.2.2");
    no_mail.body = br#"{"portal":"bottrop","service":"personalausweis-beantragen","start":"2026-11-24T09:00:00+01:00","fields":{"name":"Erika"}}"#.to_vec();
    let (status, json, _) = send(&app, no_mail);
    assert_eq!(status, 400);
    assert!(json["fields"]["email"].is_string());
    let mut cross = book_request(TUESDAY_9, "192.0.2.2");
    cross
        .headers
        .push(("origin".into(), "https://evil.example".into()));
    cross
        .headers
        .push(("host".into(), "portal.example.de".into()));
    assert_eq!(send(&app, cross).0, 403);
}

#[test]
fn concurrent_bookings_of_one_slot_succeed_exactly_capacity_times() {
    for capacity in [1, 3] {
        let (app, _) = app(capacity);
        let app = Arc::new(app);
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..24)
            .map(|i| {
                let (app, statuses) = (app.clone(), statuses.clone());
                std::thread::spawn(move || {
                    let (status, json, _) = send(
                        &app,
                        book_request(TUESDAY_9, &format!("192.0.2.{}", 10 + i)),
                    );
                    if status == 409 {
                        assert_eq!(json["message"], "Dieser Termin ist gerade vergeben worden.");
                        assert!(!json["slots"].as_array().unwrap().is_empty());
                    }
                    statuses.lock().unwrap().push(status);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let statuses = statuses.lock().unwrap();
        let booked = statuses.iter().filter(|s| **s == 201).count();
        assert_eq!(booked as u32, capacity, "{statuses:?}");
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            24 - capacity as usize
        );
    }
}

#[test]
fn different_durations_share_the_seats_of_one_office() {
    // A 30-minute booking at 09:00 holds 09:00–09:30: a 60-minute slot at 08:30 needs the
    // same seat and is gone with capacity 1.
    let (mut app, _) = app(1);
    assert_eq!(send(&app, book_request(TUESDAY_9, "192.0.2.3")).0, 201);
    app.forms.0.plan.duration = 60;
    let hours = slots(&app, "from=2026-11-24&days=1");
    assert_eq!(
        hours,
        vec![
            "2026-11-24T08:00:00+01:00",
            "2026-11-24T10:00:00+01:00",
            "2026-11-24T11:00:00+01:00"
        ]
    );
}

#[test]
fn cancelling_frees_the_slot_at_once_and_the_calendar_says_so() {
    let (app, _) = app(1);
    let (_, json, _) = send(&app, book_request(TUESDAY_9, "192.0.2.4"));
    let (id, token) = (
        json["id"].as_str().unwrap().to_string(),
        json["token"].as_str().unwrap().to_string(),
    );
    let bearer = format!("Bearer {token}");
    let ics_path = format!("/api/appointments/{id}/ics");
    let (status, _, ics) = send(
        &app,
        request("GET", &ics_path, "", &[("authorization", &bearer)]),
    );
    assert_eq!(status, 200);
    let ics = String::from_utf8(ics.body).unwrap();
    assert!(ics.contains("DTSTART:20261124T080000Z\r\n"), "{ics}");
    assert!(ics.contains("SEQUENCE:0\r\n") && ics.contains("METHOD:PUBLISH\r\n"));
    let uid = ics
        .lines()
        .find(|l| l.starts_with("UID:"))
        .unwrap()
        .to_string();
    let path = format!("/api/appointments/{id}");
    let (status, json, _) = send(
        &app,
        request("DELETE", &path, "", &[("authorization", &bearer)]),
    );
    assert_eq!(status, 200, "{json}");
    assert!(
        slots(&app, "").contains(&TUESDAY_9.to_string()),
        "free again"
    );
    let (_, _, ics) = send(
        &app,
        request("GET", &ics_path, "", &[("authorization", &bearer)]),
    );
    let ics = String::from_utf8(ics.body).unwrap();
    assert!(
        ics.contains("METHOD:CANCEL\r\n")
            && ics.contains("STATUS:CANCELLED\r\n")
            && ics.contains("SEQUENCE:1\r\n")
    );
    assert!(ics.contains(&uid), "the same UID");
    // Twice is refused; so is cancelling after the start.
    assert_eq!(
        send(
            &app,
            request("DELETE", &path, "", &[("authorization", &bearer)])
        )
        .0,
        409
    );
    let (_, json, _) = send(&app, book_request("2026-11-24T10:00:00+01:00", "192.0.2.4"));
    let late = json["id"].as_str().unwrap();
    let bearer = format!("Bearer {}", json["token"].as_str().unwrap());
    let mut after = request(
        "DELETE",
        &format!("/api/appointments/{late}"),
        "",
        &[("authorization", &bearer)],
    );
    after.now_ms = parse_rfc3339("2026-11-24T10:05:00+01:00").unwrap() as u64;
    let (status, json, _) = send(&app, after);
    assert_eq!(status, 409, "{json}");
}

struct Outbox(Mutex<Vec<Mail>>);

impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        self.0.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

#[test]
fn the_office_cancels_with_a_message_the_citizen_reads_and_reminders_go_once() {
    let (app, _) = app(2);
    // Booked on Monday for Thursday 10:00; one for Tuesday (too soon for a reminder).
    let (_, json, _) = send(&app, book_request("2026-11-26T10:00:00+01:00", "192.0.2.5"));
    let (id, token) = (
        json["id"].as_str().unwrap().to_string(),
        json["token"].as_str().unwrap().to_string(),
    );
    assert_eq!(send(&app, book_request(TUESDAY_9, "192.0.2.5")).0, 201);
    let mails = Outbox(Mutex::new(Vec::new()));
    let secret = app.config.hash_secret.clone();
    // Wednesday 11:00: within a day of Thursday 10:00.
    let wednesday = parse_rfc3339("2026-11-25T11:00:00+01:00").unwrap() as u64;
    for _ in 0..2 {
        let delivery = block_on(deliver_due(
            &app.store,
            &secret,
            "Serviceportal",
            &mails,
            wednesday,
            50,
        ));
        assert!(delivery.log.is_empty(), "{:?}", delivery.log);
    }
    {
        let sent = mails.0.lock().unwrap();
        assert_eq!(sent.len(), 1, "one reminder, once: {sent:?}");
        assert_eq!(sent[0].to, "erika.klartext@example.org");
        assert!(sent[0]
            .text
            .contains("Donnerstag, 26. November 2026, 10:00 Uhr, Bürgerbüro im Rathaus"));
        assert!(!sent[0].text.contains("Klartext"));
    }
    // The office cancels with a message; the mail says so, not what.
    let office = format!("Bearer {OFFICE_TOKEN}");
    let mut cancel = request(
        "POST",
        &format!("/api/office/appointments/{id}/cancel"),
        "",
        &[
            ("authorization", &office),
            ("content-type", "application/json"),
        ],
    );
    cancel.body =
        br#"{"message":"Wegen einer Dienstversammlung bleibt das Buergerbuero geschlossen."}"#
            .to_vec();
    let (status, json, _) = send(&app, cancel);
    assert_eq!(status, 200, "{json}");
    block_on(deliver_due(
        &app.store,
        &secret,
        "Serviceportal",
        &mails,
        wednesday + 1000,
        50,
    ));
    {
        let sent = mails.0.lock().unwrap();
        assert_eq!(sent.len(), 2);
        assert!(sent[1].subject.contains("abgesagt"));
        assert!(!sent[1].text.contains("Dienstversammlung"));
    }
    let bearer = format!("Bearer {token}");
    let (_, mine, _) = send(
        &app,
        request(
            "GET",
            &format!("/api/appointments/{id}"),
            "",
            &[("authorization", &bearer)],
        ),
    );
    assert_eq!(mine["status"], "cancelled");
    assert_eq!(
        mine["message"],
        "Wegen einer Dienstversammlung bleibt das Buergerbuero geschlossen."
    );
    // The office's day shows it cancelled; the audit log names the cancellation.
    let (_, day, _) = send(
        &app,
        request(
            "GET",
            "/api/office/bottrop/buergerbuero/appointments",
            "date=2026-11-26",
            &[("authorization", &office)],
        ),
    );
    assert_eq!(day["appointments"][0]["status"], "cancelled");
    assert_eq!(day["appointments"][0]["cancelled_by"], "office");
    let (_, log, _) = send(
        &app,
        request(
            "GET",
            "/api/office/bottrop/buergerbuero/audit",
            "",
            &[("authorization", &office)],
        ),
    );
    assert_eq!(log["entries"][0]["action"], "cancel_appointment");
}

#[test]
fn the_plain_form_books_and_confirms_without_javascript() {
    let (app, _) = app(1);
    let (status, _, page) = send(
        &app,
        request(
            "GET",
            "/api/termin",
            "portal=bottrop&service=personalausweis-beantragen",
            &[],
        ),
    );
    assert_eq!(status, 200);
    let page = String::from_utf8(page.body).unwrap();
    assert!(
        page.contains("<legend>Dienstag, 24. November 2026</legend>"),
        "{page}"
    );
    assert!(page.contains("<details class=\"weitere-termine\">"));
    assert!(!page.contains("<script"));
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("portal", "bottrop")
        .append_pair("service", "personalausweis-beantragen")
        .append_pair("start", TUESDAY_9)
        .append_pair("name", "Erika Klartext")
        .append_pair("email", "erika.klartext@example.org")
        .finish();
    let form = |body: &str| Request {
        body: body.as_bytes().to_vec(),
        ..request(
            "POST",
            "/api/appointments",
            "",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("accept", "text/html"),
                ("sec-fetch-site", "same-origin"),
            ],
        )
    };
    let (status, _, answer) = send(&app, form(&body));
    assert_eq!(status, 303);
    let location = answer.header("location").unwrap().to_string();
    assert!(location.starts_with("/api/termin/bestaetigung?id="));
    let cookie = answer
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (path, query) = location.split_once('?').unwrap();
    let (status, _, page) = send(&app, request("GET", path, query, &[("cookie", &cookie)]));
    assert_eq!(status, 200);
    let page = String::from_utf8(page.body).unwrap();
    assert!(page.contains("Ihr Termin ist gebucht"));
    assert!(page.contains("Dienstag, 24. November 2026, 09:00 bis 09:30 Uhr"));
    assert!(page.contains("Termin absagen"));
    // The same slot again: the page says it is gone and offers others, 409.
    let (status, _, page) = send(&app, form(&body));
    assert_eq!(status, 409);
    let page = String::from_utf8(page.body).unwrap();
    assert!(page.contains("Dieser Termin ist gerade vergeben worden"));
    // Without the cookie the confirmation is the lookup form, 404.
    let (status, _, _) = send(&app, request("GET", path, query, &[]));
    assert_eq!(status, 404);
}

#[test]
fn a_logged_in_citizen_finds_the_appointment_in_mein_postfach() {
    let (mut app, _) = app(1);
    let login = common::login_setup();
    let cookie = common::session_cookie(lotse_model::TrustLevel::Low, &login.keys);
    app.config.login = Some(login);
    let mut booking = book_request(TUESDAY_9, "192.0.2.6");
    booking.headers.push(("cookie".into(), cookie.clone()));
    let (status, json, _) = send(&app, booking);
    assert_eq!(status, 201, "{json}");
    let id = json["id"].as_str().unwrap().to_string();
    // Booked without a session: not in the mailbox.
    assert_eq!(
        send(&app, book_request("2026-11-24T10:00:00+01:00", "192.0.2.6")).0,
        201
    );
    let (status, mailbox, _) = send(
        &app,
        request("GET", "/api/applications", "", &[("cookie", &cookie)]),
    );
    assert_eq!(status, 200, "{mailbox}");
    let listed = mailbox["appointments"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{mailbox}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["start"], TUESDAY_9);
    let (status, _, page) = send(
        &app,
        request(
            "GET",
            "/api/postfach",
            "",
            &[("cookie", &cookie), ("accept", "text/html")],
        ),
    );
    assert_eq!(status, 200);
    let page = String::from_utf8(page.body).unwrap();
    assert!(page.contains("Ihre Termine"), "{page}");
    assert!(page.contains(&id));
    assert!(page.contains("Dienstag, 24. November 2026, 09:00 Uhr"));
    assert!(page.contains("<td>Personalausweis beantragen</td>"));
}
