//! The office's side of appointments (SPEC section 8): the day's appointments with the
//! citizens' data sealed to the office's key, and cancelling with a message to the
//! citizen (sealed so that it opens with the citizen's token; the mail says only that
//! and when).

use lotse_envelope::message::{seal_message, MessageRouting};
use lotse_envelope::PublicKey;
use lotse_model::calendar::{
    berlin_to_utc_ms, format_date, parse_date, rfc3339_berlin, utc_ms_to_berlin,
};
use serde_json::{json, Value};

use super::access::office_access;
use super::guard::{self, BodyKind};
use super::office::office_route;
use super::{error, App, Forms};
use crate::auth::HttpClient;
use crate::http::{Request, Response};
use crate::ids::{new_object_id, normalize_id};
use crate::store::{OutboxEntry, Store};
use crate::time::{rfc3339, rfc3339_ms};

const MESSAGE_LIMIT: usize = 2000;

/// `GET /api/office/<portal>/<office>/appointments?date=YYYY-MM-DD` (default today).
pub async fn day<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    portal: &str,
    office: &str,
) -> Response {
    if let Err(response) = office_route(app, request, portal, office).await {
        return response;
    }
    let day = match request.query_param("date") {
        None => utc_ms_to_berlin(request.now_ms as i64).0,
        Some(text) => match parse_date(&text) {
            Some(day) => day,
            None => return error(400, "invalid_date", "`date` ist ein Datum wie 2027-03-29."),
        },
    };
    // Local midnight to local midnight (23 or 25 hours on the days the clocks change).
    let (Some(from), Some(to)) = (berlin_to_utc_ms(day, 0), berlin_to_utc_ms(day + 1, 0)) else {
        return error(400, "invalid_date", "`date` ist ein Datum wie 2027-03-29.");
    };
    let appointments = match app
        .store
        .office_appointments(portal, office, from, to)
        .await
    {
        Ok(list) => list,
        Err(e) => {
            return guard::unavailable()
                .logged(format!("office appointments {portal}/{office}: {e}"))
        }
    };
    let entries: Vec<Value> = appointments
        .iter()
        .map(|a| {
            let envelope: Value = serde_json::from_str(&a.envelope)
                .unwrap_or_else(|_| json!({"unreadable": "the stored envelope is not valid JSON"}));
            json!({
                "id": a.id, "service": a.service, "start": rfc3339_berlin(a.start_ms),
                "end": rfc3339_berlin(a.end_ms), "status": a.status, "seat": a.seat,
                "cancelled_by": a.cancelled_by, "envelope": envelope,
            })
        })
        .collect();
    Response::json(
        200,
        &json!({"portal": portal, "office": office, "date": format_date(day), "appointments": entries}),
    )
}

/// `POST /api/office/appointments/<id>/cancel` with `{"message": "…"}`.
pub async fn cancel<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let access = match office_access(app, request) {
        Ok(access) => access,
        Err(response) => return response,
    };
    let not_found = || error(404, "not_found", "Diesen Termin gibt es nicht.");
    let Some(id) = normalize_id(id) else {
        return not_found();
    };
    let a = match app.store.appointment(&id).await {
        Ok(Some(a)) if access.covers(&a.portal, &a.office) => a,
        Ok(_) => return not_found(),
        Err(e) => return guard::unavailable().logged(format!("office appointment {id}: {e}")),
    };
    if let Err(response) = guard::size(&app.config, request)
        .and_then(|_| guard::content_type(request, &[BodyKind::Json]))
    {
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return error(400, "invalid_json", "Der Inhalt ist kein gültiges JSON.");
    };
    let message = match body.get("message") {
        Some(Value::String(m)) if !m.trim().is_empty() && m.chars().count() <= MESSAGE_LIMIT => {
            m.trim().to_string()
        }
        _ => {
            return error(
                400,
                "invalid_message",
                &format!("Bitte schreiben Sie dem Bürger oder der Bürgerin, warum (höchstens {MESSAGE_LIMIT} Zeichen)."),
            )
        }
    };
    if a.status != "booked" {
        return error(409, "not_booked", "Dieser Termin ist schon abgesagt.");
    }
    let service = app.forms.appointment(&a.portal, &a.service).await;
    let office_key = service
        .as_ref()
        .and_then(|s| PublicKey::from_base64(&s.public_key).ok());
    let citizen_key = a
        .citizen_key
        .as_deref()
        .and_then(|k| PublicKey::from_base64(k).ok());
    let (Some(office_key), Some(citizen_key)) = (office_key, citizen_key) else {
        return guard::unavailable().logged(format!(
            "office appointment {id}: no keys to seal the message"
        ));
    };
    let routing = MessageRouting {
        application: a.id.clone(),
        portal: a.portal.clone(),
        office: a.office.clone(),
        message: new_object_id(),
        from: "office".into(),
        at: rfc3339_ms(request.now_ms),
    };
    let Ok((envelope, _)) = seal_message(
        routing,
        &message,
        None,
        &[],
        &[("office", &office_key), ("citizen", &citizen_key)],
    ) else {
        return guard::unavailable();
    };
    let audit = access.audit(
        &a.portal,
        &a.office,
        &a.id,
        "cancel_appointment",
        None,
        request.now_ms,
    );
    if let Err(e) = app.store.record_audit(&audit).await {
        return guard::unavailable().logged(format!("office appointment {id}: {e}"));
    }
    let notify = OutboxEntry {
        id: new_object_id(),
        application_id: a.id.clone(),
        origin: a.origin.clone(),
        created_at: request.now_ms,
        attempts: 0,
        next_attempt_at: request.now_ms,
        contact: None,
        kind: "cancelled".into(),
    };
    match app
        .store
        .cancel_appointment(
            &a.id,
            "office",
            &rfc3339(request.now_ms),
            Some(&envelope.to_json()),
            Some(&notify),
        )
        .await
    {
        Ok(true) => Response::json(200, &json!({"id": a.id, "status": "cancelled"})),
        Ok(false) => error(409, "not_booked", "Dieser Termin ist schon abgesagt."),
        Err(e) => guard::unavailable().logged(format!("office appointment {id}: cancel: {e}")),
    }
}
