//! Appointments at the office (SPEC section 8): the free slots of a service, booking
//! (JSON or the plain HTML form), the appointment for its citizen, its calendar file,
//! and cancelling. The office's side is `appointment_office.rs`, the pages
//! `crate::appointment_page`.
//!
//! No double booking: a booking is its row and one seat row per 5-minute unit it covers
//! (`Store::book_appointment`, one transaction); the seat rows' primary key refuses a
//! second holder. Seats are tried in order, so of any number of concurrent bookings of
//! one slot exactly `capacity` succeed.

use std::collections::HashSet;

use lotse_envelope::{PublicKey, Routing};
use lotse_model::appointment::{BookableService, Slot, SlotError};
use lotse_model::calendar::{
    date_in_words, parse_date, parse_rfc3339, rfc3339_berlin, utc_ms_to_berlin,
};
use lotse_model::validate::{validate, FieldErrors, Submitted};
use lotse_model::{FieldType, FormField, TrustLevel};
use serde_json::{json, Value};

use super::guard::{self, BodyKind};
use super::login::current_session;
use super::submit::wants_html;
use super::{bearer, error, App, Forms};
use crate::auth::{cookie_value, open_cookie, seal_cookie, HttpClient};
use crate::http::{Request, Response};
use crate::ids::{hash_hex, new_id, new_token, normalize_id, token_matches};
use crate::notify::{seal_contact, Contact};
use crate::store::{Store, StoredAppointment};
use crate::time::rfc3339;

/// How many free slots a 409 offers instead.
const ALTERNATIVES: usize = 5;
/// The most days one slot list covers.
const MAX_DAYS: i64 = 62;
/// How long the confirmation cookie opens the confirmation page, the calendar file and
/// the cancel form without the token being typed again.
const CONFIRMATION_TTL_MS: u64 = 60 * 60 * 1000;

/// The fields a booking asks for.
pub(crate) fn booking_fields() -> Vec<FormField> {
    vec![
        FormField {
            required: true,
            max_length: Some(200),
            ..FormField::new("name", "Vor- und Nachname", FieldType::Text)
        },
        FormField {
            required: true,
            ..FormField::new("email", "E-Mail-Adresse", FieldType::Email)
        },
    ]
}

fn unknown_service() -> Response {
    error(
        404,
        "not_found",
        "Für diese Leistung können keine Termine gebucht werden.",
    )
}

fn not_found() -> Response {
    error(
        404,
        "not_found",
        "Zu dieser Vorgangsnummer und diesem Schlüssel gibt es keinen Termin.",
    )
}

/// A slot as JSON, RFC 3339 with the German offset.
pub(crate) fn slot_json(slot: &Slot) -> Value {
    json!({"start": rfc3339_berlin(slot.start_ms), "end": rfc3339_berlin(slot.end_ms)})
}

/// The free slots of a service on the days `first..=last`, within the bookable window.
pub(crate) async fn free_slots<S: Store>(
    store: &S,
    service: &BookableService,
    first: i64,
    last: i64,
    now_ms: i64,
) -> Result<Vec<Slot>, Response> {
    let plan = &service.plan;
    let (window_first, window_last) = plan.bookable_days(now_ms);
    let (first, last) = (first.max(window_first), last.min(window_last));
    let slots: Vec<Slot> = (first..=last).flat_map(|day| plan.day_slots(day)).collect();
    let (Some(begin), Some(end)) = (slots.first(), slots.last()) else {
        return Ok(Vec::new());
    };
    let taken: HashSet<(i64, u32)> = store
        .seats_taken(&service.portal, &service.office, begin.start_ms, end.end_ms)
        .await
        .map_err(|e| guard::unavailable().logged(format!("appointments {}: {e}", service.portal)))?
        .into_iter()
        .collect();
    Ok(slots
        .into_iter()
        .filter(|slot| free_seat(slot, plan.hours.capacity, &taken).is_some())
        .collect())
}

/// The first seat whose units of `slot` are all free.
fn free_seat(slot: &Slot, capacity: u32, taken: &HashSet<(i64, u32)>) -> Option<u32> {
    let units = slot.units();
    (0..capacity.max(1)).find(|seat| units.iter().all(|unit| !taken.contains(&(*unit, *seat))))
}

/// `GET /api/appointments/<portal>/<service>/slots?from=YYYY-MM-DD&days=N`.
pub async fn slots<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    portal: &str,
    service: &str,
) -> Response {
    let Some(bookable) = app.forms.appointment(portal, service).await else {
        return unknown_service();
    };
    let now = request.now_ms as i64;
    let (window_first, _) = bookable.plan.bookable_days(now);
    let first = match request.query_param("from") {
        None => window_first,
        Some(text) => match parse_date(&text) {
            Some(day) => day,
            None => return error(400, "invalid_from", "`from` ist ein Datum wie 2027-03-29."),
        },
    };
    let days = match request.query_param("days") {
        None => 7,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => n,
            _ => {
                return error(
                    400,
                    "invalid_days",
                    &format!("`days` ist eine Zahl von 1 bis {MAX_DAYS}."),
                )
            }
        },
    };
    match free_slots(&app.store, &bookable, first, first + days - 1, now).await {
        Ok(slots) => Response::json(
            200,
            &json!({
                "portal": portal, "service": service, "office": bookable.office,
                "duration": bookable.plan.duration,
                "slots": slots.iter().map(slot_json).collect::<Vec<_>>(),
            }),
        ),
        Err(response) => response,
    }
}

/// What a booking asks for, whatever the encoding.
pub(crate) struct BookingRequest {
    pub portal: String,
    pub service: String,
    pub start: String,
    pub fields: Submitted,
}

fn read_booking(request: &Request, kind: BodyKind) -> Result<BookingRequest, Response> {
    let text = |value: Option<&Value>| value.and_then(Value::as_str).unwrap_or("").to_string();
    match kind {
        BodyKind::Json => {
            let body: Value = serde_json::from_slice(&request.body)
                .map_err(|_| error(400, "invalid_json", "Der Inhalt ist kein gültiges JSON."))?;
            let mut fields = Submitted::new();
            if let Some(map) = body.get("fields").and_then(Value::as_object) {
                for (key, value) in map {
                    fields.insert(key.clone(), value.as_str().unwrap_or("").to_string());
                }
            }
            Ok(BookingRequest {
                portal: text(body.get("portal")),
                service: text(body.get("service")),
                start: text(body.get("start")),
                fields,
            })
        }
        _ => {
            let mut booking = BookingRequest {
                portal: String::new(),
                service: String::new(),
                start: String::new(),
                fields: Submitted::new(),
            };
            for (key, value) in form_urlencoded::parse(&request.body) {
                match key.as_ref() {
                    "portal" => booking.portal = value.into_owned(),
                    "service" => booking.service = value.into_owned(),
                    "start" => booking.start = value.into_owned(),
                    "name" | "email" => {
                        booking.fields.insert(key.into_owned(), value.into_owned());
                    }
                    _ => {}
                }
            }
            Ok(booking)
        }
    }
}

/// Why a start is refused, in German.
pub(crate) fn slot_refusal(e: SlotError) -> &'static str {
    match e {
        SlotError::NotASlot => "Zu dieser Zeit beginnt kein Termin dieser Leistung.",
        SlotError::TooSoon => "Termine können ab dem nächsten Werktag gebucht werden.",
        SlotError::TooFar => "So weit im Voraus können noch keine Termine gebucht werden.",
        SlotError::Closed => "An diesem Tag ist die Dienststelle geschlossen.",
    }
}

/// How a booking ended, for the JSON answer and the pages.
pub(crate) enum Booked {
    Done {
        appointment: Box<StoredAppointment>,
        token: String,
    },
    /// Someone else was quicker: the slots still free after it.
    Taken {
        alternatives: Vec<Slot>,
    },
    Refused(Response),
}

/// Validates, seals and books. Errors are JSON answers (the pages turn them into HTML).
pub(crate) async fn book_one<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    booking: &BookingRequest,
) -> Booked {
    let refuse = Booked::Refused;
    let Some(service) = app
        .forms
        .appointment(&booking.portal, &booking.service)
        .await
    else {
        return refuse(unknown_service());
    };
    let session = current_session(app.config.login.as_ref(), request);
    if service.login > TrustLevel::None {
        match &session {
            None => {
                return refuse(error(
                    401,
                    "login_required",
                    "Für diesen Termin müssen Sie sich anmelden.",
                ))
            }
            Some(s) if s.level < service.login => {
                return refuse(error(
                    403,
                    "level_too_low",
                    "Ihre Anmeldung reicht für diesen Termin nicht aus.",
                ))
            }
            Some(_) => {}
        }
    }
    let accepted = match validate(&booking_fields(), &booking.fields) {
        Ok(accepted) => accepted,
        Err(fields) => return refuse(validation(fields)),
    };
    let now = request.now_ms as i64;
    let Some(start_ms) = parse_rfc3339(&booking.start) else {
        let mut fields = FieldErrors::new();
        fields.insert(
            "start".into(),
            "Bitte wählen Sie einen Termin aus der Liste.".into(),
        );
        return refuse(validation(fields));
    };
    let slot = match service.plan.slot_at(start_ms, now) {
        Ok(slot) => slot,
        Err(e) => {
            let mut fields = FieldErrors::new();
            fields.insert("start".into(), slot_refusal(e).into());
            return refuse(validation(fields));
        }
    };
    let Ok(office_key) = PublicKey::from_base64(&service.public_key) else {
        return refuse(guard::unavailable().logged(format!(
            "appointments {}/{}: the office key does not parse",
            service.portal, service.office
        )));
    };
    let id = new_id();
    let token = new_token();
    let created_at = rfc3339(request.now_ms);
    let routing = Routing {
        id: id.clone(),
        portal: service.portal.clone(),
        service: service.service.clone(),
        office: service.office.clone(),
        created_at: created_at.clone(),
    };
    let plaintext = json!({
        "id": id, "kind": "appointment", "portal": service.portal, "service": service.service,
        "service_title": service.title, "office": service.office,
        "start": rfc3339_berlin(slot.start_ms), "end": rfc3339_berlin(slot.end_ms),
        "submitted_at": created_at, "fields": accepted,
    });
    let Ok(envelope) = lotse_envelope::seal(&office_key, routing, plaintext.to_string().as_bytes())
    else {
        return refuse(guard::unavailable());
    };
    let email = accepted.get("email").cloned().unwrap_or_default();
    let contact = seal_contact(
        &app.config.hash_secret,
        &id,
        &Contact {
            to: email,
            origin: request.site_origin(),
            about: Some(when_and_where(&service, &slot)),
        },
    );
    let citizen_key = crate::conversation::citizen_key(&token, &id)
        .public_key()
        .to_base64();
    let account_hash = match (&session, &app.config.login) {
        (Some(session), Some(login)) => Some(login.accounts.account_hash(&session.sub)),
        _ => None,
    };
    let mut appointment = StoredAppointment {
        id,
        portal: service.portal.clone(),
        service: service.service.clone(),
        office: service.office.clone(),
        start_ms: slot.start_ms,
        end_ms: slot.end_ms,
        seat: 0,
        token_hash: hash_hex(token.as_bytes()),
        account_hash,
        envelope: envelope.to_json(),
        citizen_key: Some(citizen_key),
        contact,
        origin: request.site_origin(),
        status: "booked".into(),
        sequence: 0,
        cancelled_by: None,
        office_message: None,
        created_ms: now,
        updated_at: created_at,
    };
    let units = slot.units();
    for seat in 0..service.plan.hours.capacity.max(1) {
        appointment.seat = seat;
        match app.store.book_appointment(&appointment, &units).await {
            Ok(true) => {
                return Booked::Done {
                    appointment: Box::new(appointment),
                    token,
                }
            }
            Ok(false) => continue,
            Err(e) => {
                return refuse(
                    guard::unavailable()
                        .logged(format!("appointment {}: not stored: {e}", appointment.id)),
                )
            }
        }
    }
    let (day, _) = utc_ms_to_berlin(slot.start_ms);
    match free_slots(&app.store, &service, day, day + 14, now).await {
        Ok(free) => Booked::Taken {
            alternatives: free.into_iter().take(ALTERNATIVES).collect(),
        },
        Err(response) => refuse(response),
    }
}

/// "Montag, 29. März 2027, 09:30 Uhr, Bürgerbüro im Rathaus, Ernst-Wilczok-Platz 1":
/// all a reminder says.
pub(crate) fn when_and_where(service: &BookableService, slot: &Slot) -> String {
    let (day, minutes) = utc_ms_to_berlin(slot.start_ms);
    let mut text = format!(
        "{}, {:02}:{:02} Uhr, {}",
        date_in_words(day),
        minutes / 60,
        minutes % 60,
        service.office_name
    );
    if let Some(address) = &service.office_address {
        text.push_str(", ");
        text.push_str(address);
    }
    text
}

fn validation(fields: FieldErrors) -> Response {
    Response::json(400, &json!({"error": "validation", "fields": fields}))
}

/// The 409 of a slot someone else took, with what is still free.
pub(crate) fn taken(alternatives: &[Slot]) -> Response {
    Response::json(
        409,
        &json!({
            "error": "slot_taken",
            "message": "Dieser Termin ist gerade vergeben worden.",
            "slots": alternatives.iter().map(slot_json).collect::<Vec<_>>(),
        }),
    )
}

/// `POST /api/appointments`: JSON 201, or for the plain form 303 to the confirmation.
pub async fn book<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let html = wants_html(request);
    let checked = guard::size(&app.config, request)
        .and_then(|_| guard::content_type(request, &[BodyKind::Json, BodyKind::Form]))
        .and_then(|kind| guard::same_site(request).map(|_| kind));
    let kind = match checked {
        Ok(kind) => kind,
        Err(response) => return crate::appointment_page::as_page(app, html, response),
    };
    if let Err(response) = guard::rate(&app.store, &app.config, request).await {
        return crate::appointment_page::as_page(app, html, response);
    }
    let booking = match read_booking(request, kind) {
        Ok(booking) => booking,
        Err(response) => return crate::appointment_page::as_page(app, html, response),
    };
    match book_one(app, request, &booking).await {
        Booked::Done { appointment, token } if html => {
            hand_over(app, request.now_ms, &appointment.id, &token)
        }
        Booked::Done { appointment, token } => Response::json(
            201,
            &json!({
                "id": appointment.id, "token": token,
                "start": rfc3339_berlin(appointment.start_ms), "end": rfc3339_berlin(appointment.end_ms),
            }),
        ),
        Booked::Taken { alternatives } if html => {
            crate::appointment_page::booking_again(
                app,
                request,
                &booking,
                None,
                Some(&alternatives),
            )
            .await
        }
        Booked::Taken { alternatives } => taken(&alternatives),
        Booked::Refused(response) if html && response.status == 400 => {
            crate::appointment_page::booking_again(app, request, &booking, Some(&response), None)
                .await
        }
        Booked::Refused(response) => crate::appointment_page::as_page(app, html, response),
    }
}

/// What the confirmation cookie carries.
#[derive(serde::Serialize, serde::Deserialize)]
struct ConfirmationCookie {
    id: String,
    token: String,
}

fn confirmation_cookie_name(id: &str) -> String {
    format!("lotse_termin_{}", id.replace('-', ""))
}

/// The 303 to the confirmation page with the sealed cookie that opens it (the token is
/// never in an address).
pub(crate) fn hand_over<S, F, H>(
    app: &App<S, F, H>,
    now_ms: u64,
    id: &str,
    token: &str,
) -> Response {
    let name = confirmation_cookie_name(id);
    let value = ConfirmationCookie {
        id: id.to_string(),
        token: token.to_string(),
    };
    let sealed = seal_cookie(
        &name,
        &value,
        &app.config.receipt_keys,
        now_ms,
        CONFIRMATION_TTL_MS,
    );
    Response::redirect(&crate::appointment_page::confirmation_location(id)).append_header(
        "set-cookie",
        &format!(
            "{name}={sealed}; Path=/api/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
            CONFIRMATION_TTL_MS / 1000
        ),
    )
}

/// The appointment `id` if the request shows its token: as bearer, as `token` in a form
/// body, or in the confirmation cookie. Unknown and wrong answer the same 404.
pub(crate) async fn open_appointment<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Result<(StoredAppointment, String), Response> {
    let Some(id) = normalize_id(id) else {
        return Err(not_found());
    };
    let from_form = || {
        form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let from_cookie = || {
        let name = confirmation_cookie_name(&id);
        let value = cookie_value(request.header("cookie")?, &name)?;
        let opened: ConfirmationCookie =
            open_cookie(&name, value, &app.config.receipt_keys, request.now_ms)?;
        (opened.id == id).then_some(opened.token)
    };
    let is_form = request
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let token = bearer(request)
        .map(str::to_string)
        .or_else(|| if is_form { from_form() } else { None })
        .or_else(from_cookie)
        .ok_or_else(not_found)?;
    match app.store.appointment(&id).await {
        Ok(Some(a)) if token_matches(&token, &a.token_hash) => Ok((a, token)),
        Ok(_) => Err(not_found()),
        Err(e) => Err(guard::unavailable().logged(format!("appointment {id}: {e}"))),
    }
}

/// The appointment as its citizen sees it; with the office's word when it cancelled.
pub(crate) fn appointment_json(a: &StoredAppointment, token: &str) -> Value {
    let mut value = json!({
        "id": a.id, "portal": a.portal, "service": a.service, "office": a.office,
        "start": rfc3339_berlin(a.start_ms), "end": rfc3339_berlin(a.end_ms), "status": a.status,
    });
    if let Some(message) = office_message(a, token) {
        value["message"] = json!(message);
    }
    value
}

/// The office's message on cancelling, opened with the citizen's token.
pub(crate) fn office_message(a: &StoredAppointment, token: &str) -> Option<String> {
    let envelope =
        lotse_envelope::message::MessageEnvelope::from_json(a.office_message.as_deref()?).ok()?;
    let key = crate::conversation::citizen_key(token, &a.id);
    lotse_envelope::message::open_message(&envelope, "citizen", &key)
        .ok()
        .map(|content| content.text)
}

/// `GET /api/appointments/<id>`.
pub async fn status<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    match open_appointment(app, request, id).await {
        Ok((a, token)) => Response::json(200, &appointment_json(&a, &token)),
        Err(response) => response,
    }
}

/// `GET /api/appointments/<id>/ics`: the calendar file.
pub async fn ics<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let (a, _) = match open_appointment(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let service = app.forms.appointment(&a.portal, &a.service).await;
    let host = request.site_origin();
    let calendar = crate::ics::calendar(&a, service.as_ref(), &host, request.now_ms);
    Response::new(200, "text/calendar; charset=utf-8", calendar.into_bytes()).with_header(
        "content-disposition",
        &format!("attachment; filename=\"termin-{}.ics\"", a.id),
    )
}

/// Cancels for the citizen: refused once the appointment has begun or was changed.
pub(crate) async fn cancel_by_citizen<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    a: &StoredAppointment,
) -> Result<(), Response> {
    if a.status != "booked" {
        return Err(error(
            409,
            "not_booked",
            "Dieser Termin ist schon abgesagt.",
        ));
    }
    if request.now_ms as i64 >= a.start_ms {
        return Err(error(
            409,
            "started",
            "Der Termin hat schon begonnen und kann nicht mehr abgesagt werden.",
        ));
    }
    match app
        .store
        .cancel_appointment(&a.id, "citizen", &rfc3339(request.now_ms), None, None)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(error(
            409,
            "not_booked",
            "Dieser Termin ist schon abgesagt.",
        )),
        Err(e) => Err(guard::unavailable().logged(format!("appointment {}: cancel: {e}", a.id))),
    }
}

/// `DELETE /api/appointments/<id>` with the bearer token.
pub async fn cancel<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    if bearer(request).is_none() {
        return not_found();
    }
    if let Err(response) = guard::same_site(request) {
        return response;
    }
    let (a, _) = match open_appointment(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match cancel_by_citizen(app, request, &a).await {
        Ok(()) => Response::json(200, &json!({"id": a.id, "status": "cancelled"})),
        Err(response) => response,
    }
}

/// `POST /api/appointments/<id>/cancel`: the confirmation page's form (token in the
/// body or the confirmation cookie); back to the confirmation, which says it.
pub async fn cancel_form<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    if let Err(response) = guard::size(&app.config, request)
        .and_then(|_| guard::content_type(request, &[BodyKind::Form]))
        .and_then(|_| guard::same_site(request))
    {
        return crate::appointment_page::as_page(app, true, response);
    }
    let (a, token) = match open_appointment(app, request, id).await {
        Ok(found) => found,
        Err(response) => return crate::appointment_page::as_page(app, true, response),
    };
    match cancel_by_citizen(app, request, &a).await {
        Ok(()) => hand_over(app, request.now_ms, &a.id, &token),
        Err(response) => crate::appointment_page::as_page(app, true, response),
    }
}
