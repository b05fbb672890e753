//! The office inbox: list the encrypted applications of one office, set their status.

use serde_json::{json, Value};

use super::access::{office_access, OfficeAccess};
use super::guard::{self, BodyKind};
use super::status::history_json;
use super::{error, App, Forms};
use crate::auth::HttpClient;
use crate::http::{Request, Response};
use crate::ids::normalize_id;
use crate::store::{StatusEntry, Store, StoredApplication};
use crate::time::rfc3339;
use crate::STATUSES;

const NOTE_LIMIT: usize = 2000;

/// The access of a request to an office's own routes (inbox, counts, audit log):
/// authentication before any lookup, so that without it no answer tells whether an
/// office exists; then 404 for an unknown office, 403 for another one.
pub(super) async fn office_route<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    portal: &str,
    office: &str,
) -> Result<OfficeAccess, Response> {
    let access = office_access(app, request)?;
    let known = app.forms.offices(portal).await;
    if !known.is_some_and(|ids| ids.iter().any(|id| id == office)) {
        return Err(error(404, "not_found", "Diese Dienststelle gibt es nicht."));
    }
    if !access.covers(portal, office) {
        let message = if access.is_staff() {
            "Sie arbeiten nicht für diese Dienststelle."
        } else {
            "Ihr Zugangsschlüssel gilt nicht für diese Dienststelle."
        };
        return Err(error(403, "forbidden", message));
    }
    Ok(access)
}

/// `GET /api/office/<portal>/<office>/applications`: one JSON object per application,
/// each a complete envelope (readable by `lotse inbox decrypt`) plus its status. With
/// `limit`, one page of the workspace's inbox ([`super::workspace::page`]).
pub async fn list<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    portal: &str,
    office: &str,
) -> Response {
    if let Err(response) = office_route(app, request, portal, office).await {
        return response;
    }
    if request.query_param("limit").is_some() {
        return super::workspace::page(app, request, portal, office).await;
    }
    // Filters without `limit` would be silently ignored: the whole list is the whole list.
    if ["status", "service", "id", "order", "cursor"]
        .iter()
        .any(|name| request.query_param(name).is_some())
    {
        return error(
            400,
            "limit_required",
            "Filter, Suche und Seiten gibt es nur zusammen mit `limit` (1 bis 100).",
        );
    }
    let applications = match app.store.office_applications(portal, office).await {
        Ok(list) => list,
        Err(e) => {
            return guard::unavailable().logged(format!("office inbox {portal}/{office}: {e}"))
        }
    };
    let mut log = Vec::new();
    let entries = match listed(app, &applications, &mut log).await {
        Ok(entries) => entries,
        Err(response) => return response,
    };
    let mut response = Response::json(
        200,
        &json!({"portal": portal, "office": office, "applications": entries}),
    );
    response.log = log;
    response
}

/// Applications as the office lists them: each envelope with status and payment, or why
/// it cannot be read (with a line for the operator's log). The payments are read in
/// batches, one query per [`crate::store::sql::MAX_IDS`] applications, not one per row.
pub(super) async fn listed<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    applications: &[StoredApplication],
    log: &mut Vec<String>,
) -> Result<Vec<Value>, Response> {
    let mut payments = std::collections::HashMap::new();
    for chunk in applications.chunks(crate::store::sql::MAX_IDS) {
        let ids: Vec<String> = chunk.iter().map(|a| a.id.clone()).collect();
        let found = app
            .store
            .payments(&ids)
            .await
            .map_err(|e| guard::unavailable().logged(format!("office inbox: payments: {e}")))?;
        payments.extend(found.into_iter().map(|p| (p.application_id.clone(), p)));
    }
    Ok(applications
        .iter()
        .map(|a| {
            let mut entry = inbox_entry(a).unwrap_or_else(|reason| {
                log.push(format!(
                    "office inbox {}/{}: application {}: {reason}",
                    a.portal, a.office, a.id
                ));
                unreadable_entry(a, reason)
            });
            // The fee it was paid with, and the Kassenzeichen (which may have come only
            // with the payment, after the envelope was sealed).
            if let Some(payment) = payments.get(&a.id) {
                entry["payment"] = super::payment::payment_json(payment);
            }
            entry
        })
        .collect())
}

/// The stored envelope with the application's status, or why it cannot be read: a
/// stored row whose envelope is not a JSON object (a damaged row, a botched migration).
fn inbox_entry(a: &StoredApplication) -> Result<Value, &'static str> {
    let mut entry: Value =
        serde_json::from_str(&a.envelope).map_err(|_| "the stored envelope is not valid JSON")?;
    let object = entry
        .as_object_mut()
        .ok_or("the stored envelope is not a JSON object")?;
    object.insert("status".into(), json!(a.status));
    object.insert("updated_at".into(), json!(a.updated_at));
    Ok(entry)
}

/// An application whose envelope cannot be read is listed all the same, with its
/// routing from the row and the reason, so that it cannot go unnoticed (`lotse inbox
/// pull` reports it). The reason is fixed text: nothing of the stored content.
fn unreadable_entry(a: &StoredApplication, reason: &str) -> Value {
    json!({
        "id": a.id,
        "portal": a.portal,
        "service": a.service,
        "office": a.office,
        "created_at": a.created_at,
        "status": a.status,
        "updated_at": a.updated_at,
        "unreadable": reason,
    })
}

/// The application `id` if the request's token or staff session covers its office.
/// Unknown, and of another office, answer the same 404, so ids cannot be probed across
/// offices.
pub(super) async fn office_application<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Result<(OfficeAccess, StoredApplication), Response> {
    let access = office_access(app, request)?;
    let not_found = || error(404, "not_found", "Diesen Antrag gibt es nicht.");
    let Some(id) = normalize_id(id) else {
        return Err(not_found());
    };
    match app.store.application(&id).await {
        Ok(Some(a)) if access.covers(&a.portal, &a.office) => Ok((access, a)),
        Ok(_) => Err(not_found()),
        Err(e) => Err(guard::unavailable().logged(format!("office {id}: {e}"))),
    }
}

/// `POST /api/office/applications/<id>/status` with `{"status": "...", "note": "..."}`.
/// A note is a message to the citizen: sealed like every message, never stored in
/// plaintext.
pub async fn set_status<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let (access, application) = match office_application(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    if let Err(response) = guard::size(&app.config, request)
        .and_then(|_| guard::content_type(request, &[BodyKind::Json]))
    {
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return error(400, "invalid_json", "Der Inhalt ist kein gültiges JSON.");
    };
    let status = body.get("status").and_then(Value::as_str).unwrap_or("");
    if !STATUSES.contains(&status) {
        return error(
            400,
            "invalid_status",
            &format!("Erlaubte Status: {}.", STATUSES.join(", ")),
        );
    }
    let note = match body.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(note)) if note.chars().count() <= NOTE_LIMIT => {
            Some(note.trim().to_string()).filter(|n| !n.is_empty())
        }
        Some(_) => {
            return error(
                400,
                "invalid_note",
                &format!("Die Notiz muss ein Text mit höchstens {NOTE_LIMIT} Zeichen sein."),
            )
        }
    };
    let id = application.id.clone();
    // An application from before the conversation has no citizen key until its citizen
    // shows the token again: its status is set all the same, the note is not sent.
    let warning = (note.is_some() && application.citizen_key.is_none()).then_some(
        "Der Hinweis wurde nicht zugestellt: Der Antrag stammt aus der Zeit vor den Nachrichten und wurde seither nicht mit Vorgangsnummer und Schlüssel geöffnet. Der Status ist gesetzt.",
    );
    let note = note.filter(|_| warning.is_none());
    let audit = access.audit(
        &application.portal,
        &application.office,
        &id,
        "status",
        Some(status.to_string()),
        request.now_ms,
    );
    match note {
        Some(note) => {
            let new = super::messages::NewMessage {
                from: "office",
                text: &note,
                status: Some(status),
                documents: Vec::new(),
                audit: Some(&audit),
            };
            let stored = super::messages::store_message(app, &application, new, request).await;
            if let Err(response) = stored {
                return response;
            }
        }
        None => {
            let entry = StatusEntry {
                status: status.to_string(),
                note: None,
                at: rfc3339(request.now_ms),
            };
            match app.store.set_status(&id, &entry, Some(&audit)).await {
                Ok(true) => {}
                Ok(false) => return error(404, "not_found", "Diesen Antrag gibt es nicht."),
                Err(_) => return guard::unavailable(),
            }
        }
    }
    match app.store.history(&id).await {
        Ok(history) => {
            let mut answer = json!({"id": id, "status": status, "history": history_json(&history)});
            if let Some(warning) = warning {
                answer["warning"] = json!(warning);
            }
            Response::json(200, &answer)
        }
        Err(_) => guard::unavailable(),
    }
}
