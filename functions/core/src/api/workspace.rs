//! What the caseworkers' workspace asks of the office API beyond SPEC sections 5 and 6
//! (docs/workspace.md): inbox pages with filters, counts, one application, its export,
//! and the audit log.

use serde_json::{json, Map, Value};

use super::office::{listed, office_application, office_route};
use super::office_thread::sealed_thread;
use super::status::history_json;
use super::{error, guard, App, Forms};
use crate::auth::HttpClient;
use crate::http::{Request, Response};
use crate::ids::normalize_id;
use crate::store::{OfficeQuery, Store, StoredApplication};
use crate::STATUSES;

/// The most a page holds; the workspace asks for 50.
pub const PAGE_LIMIT: u32 = 100;

/// The statuses an office sees (an unpaid application has not reached it).
fn office_statuses() -> impl Iterator<Item = &'static str> {
    STATUSES
        .iter()
        .copied()
        .filter(|s| *s != "awaiting_payment")
}

fn bad(code: &str, message: &str) -> Response {
    error(400, code, message)
}

/// The cursor of the page after `a`: `<created_at>_<id>` (neither contains `_`).
fn cursor_of(a: &StoredApplication) -> String {
    format!("{}_{}", a.created_at, a.id)
}

fn parse_cursor(text: &str) -> Option<(String, String)> {
    let (at, id) = text.split_once('_')?;
    let plain_time = !at.is_empty()
        && at.len() <= 40
        && at
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'.' | b'T' | b'Z' | b'+'));
    plain_time.then(|| Some((at.to_string(), normalize_id(id)?)))?
}

/// The page's filters from the query, or the 400 that names the wrong one.
fn query_of(request: &Request, portal: &str, office: &str) -> Result<OfficeQuery, Response> {
    let limit = request.query_param("limit").unwrap_or_default();
    let limit = match limit.parse::<u32>() {
        Ok(n) if (1..=PAGE_LIMIT).contains(&n) => n,
        _ => {
            return Err(bad(
                "invalid_limit",
                &format!("`limit` ist eine Zahl von 1 bis {PAGE_LIMIT}."),
            ))
        }
    };
    let newest_first = match request.query_param("order").as_deref() {
        None | Some("oldest") => false,
        Some("newest") => true,
        Some(_) => return Err(bad("invalid_order", "`order` ist `newest` oder `oldest`.")),
    };
    let mut statuses = Vec::new();
    if let Some(list) = request.query_param("status").filter(|s| !s.is_empty()) {
        for status in list.split(',') {
            if !office_statuses().any(|s| s == status) {
                let allowed: Vec<&str> = office_statuses().collect();
                return Err(bad(
                    "invalid_status",
                    &format!("Erlaubte Status: {}.", allowed.join(", ")),
                ));
            }
            if !statuses.iter().any(|s| s == status) {
                statuses.push(status.to_string());
            }
        }
    }
    let service = request.query_param("service").filter(|s| !s.is_empty());
    if service
        .as_deref()
        .is_some_and(|s| !lotse_model::slug::is_slug(s))
    {
        return Err(bad("invalid_service", "Diese Leistung gibt es nicht."));
    }
    let after = match request.query_param("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(cursor) => Some(parse_cursor(&cursor).ok_or_else(|| {
            bad(
                "invalid_cursor",
                "Die Seitenangabe ist ungültig; bitte laden Sie die Liste neu.",
            )
        })?),
    };
    Ok(OfficeQuery {
        portal: portal.to_string(),
        office: office.to_string(),
        statuses,
        service,
        newest_first,
        after,
        limit,
    })
}

/// `GET /api/office/<portal>/<office>/applications?limit=…`: one page of the inbox
/// (the caller checked the access).
pub(super) async fn page<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    portal: &str,
    office: &str,
) -> Response {
    let query = match query_of(request, portal, office) {
        Ok(query) => query,
        Err(response) => return response,
    };
    let unavailable = |e: crate::StoreError| {
        guard::unavailable().logged(format!("office inbox {portal}/{office}: {e}"))
    };
    let (applications, next) = match request.query_param("id").filter(|s| !s.is_empty()) {
        // A Vorgangsnummer: that application, if it is this office's and passes the
        // filters.
        Some(id) => {
            let Some(id) = normalize_id(&id) else {
                return bad(
                    "invalid_id",
                    "Eine Vorgangsnummer hat die Form XXXX-XXXX (Buchstaben und Ziffern).",
                );
            };
            let found = match app.store.application(&id).await {
                Ok(found) => found,
                Err(e) => return unavailable(e),
            };
            let matches = |a: &StoredApplication| {
                a.portal == portal
                    && a.office == office
                    && a.status != "awaiting_payment"
                    && (query.statuses.is_empty() || query.statuses.contains(&a.status))
                    && query.service.as_ref().is_none_or(|s| *s == a.service)
            };
            (found.into_iter().filter(matches).collect::<Vec<_>>(), None)
        }
        None => {
            let mut asked = query.clone();
            asked.limit = query.limit + 1;
            let mut applications = match app.store.office_page(&asked).await {
                Ok(list) => list,
                Err(e) => return unavailable(e),
            };
            let more = applications.len() > query.limit as usize;
            applications.truncate(query.limit as usize);
            let next = more.then(|| applications.last().map(cursor_of)).flatten();
            (applications, next)
        }
    };
    let mut log = Vec::new();
    let entries = match listed(app, &applications, &mut log).await {
        Ok(entries) => entries,
        Err(response) => return response,
    };
    let mut response = Response::json(
        200,
        &json!({"portal": portal, "office": office, "applications": entries, "next": next}),
    );
    response.log = log;
    response
}

/// `GET /api/office/<portal>/<office>/counts`.
pub async fn counts<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    portal: &str,
    office: &str,
) -> Response {
    if let Err(response) = office_route(app, request, portal, office).await {
        return response;
    }
    let counts = match app.store.office_counts(portal, office).await {
        Ok(counts) => counts,
        Err(e) => {
            return guard::unavailable().logged(format!("office counts {portal}/{office}: {e}"))
        }
    };
    let mut statuses: Map<String, Value> =
        office_statuses().map(|s| (s.into(), json!(0))).collect();
    for (status, n) in counts.statuses {
        statuses.insert(status, json!(n));
    }
    let services: Map<String, Value> = counts
        .services
        .into_iter()
        .map(|(service, n)| (service, json!(n)))
        .collect();
    Response::json(200, &json!({"statuses": statuses, "services": services}))
}

/// The list entry of one application with its history.
async fn application_json<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    application: &StoredApplication,
    log: &mut Vec<String>,
) -> Result<Value, Response> {
    let mut entry = listed(app, std::slice::from_ref(application), log)
        .await?
        .pop()
        .unwrap_or(Value::Null);
    let history = app.store.history(&application.id).await.map_err(|e| {
        guard::unavailable().logged(format!("office application {}: {e}", application.id))
    })?;
    entry["history"] = history_json(&history);
    Ok(entry)
}

/// `GET /api/office/applications/<id>`.
pub async fn one<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let (_, application) = match office_application(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let mut log = Vec::new();
    match application_json(app, &application, &mut log).await {
        Ok(entry) => {
            let mut response = Response::json(200, &entry);
            response.log = log;
            response
        }
        Err(response) => response,
    }
}

/// `GET /api/office/applications/<id>/export?format=json|print`: the application and
/// its conversation, sealed, for the workspace to open and hand on. Recorded before
/// anything is handed out.
pub async fn export<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let (access, application) = match office_application(app, request, id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let format = request
        .query_param("format")
        .unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "print") {
        return bad("invalid_format", "`format` ist `json` oder `print`.");
    }
    let audit = access.audit(
        &application.portal,
        &application.office,
        &application.id,
        "export",
        Some(format),
        request.now_ms,
    );
    if let Err(e) = app.store.record_audit(&audit).await {
        return guard::unavailable().logged(format!("office export {}: {e}", application.id));
    }
    let mut log = Vec::new();
    let entry = match application_json(app, &application, &mut log).await {
        Ok(entry) => entry,
        Err(response) => return response,
    };
    let (messages, thread_log) = match sealed_thread(app, &application, access.is_staff()).await {
        Ok(thread) => thread,
        Err(response) => return response,
    };
    log.extend(thread_log);
    let mut response = Response::json(200, &json!({"application": entry, "messages": messages}));
    response.log = log;
    response
}

/// `GET /api/office/<portal>/<office>/audit?limit=…&cursor=…`: newest first.
pub async fn audit<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    portal: &str,
    office: &str,
) -> Response {
    if let Err(response) = office_route(app, request, portal, office).await {
        return response;
    }
    let limit = match request.query_param("limit") {
        None => 50,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=PAGE_LIMIT).contains(&n) => n,
            _ => {
                return bad(
                    "invalid_limit",
                    &format!("`limit` ist eine Zahl von 1 bis {PAGE_LIMIT}."),
                )
            }
        },
    };
    let before = match request.query_param("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seq) if seq > 0 => Some(seq),
            _ => {
                return bad(
                    "invalid_cursor",
                    "Die Seitenangabe ist ungültig; bitte laden Sie das Protokoll neu.",
                )
            }
        },
    };
    let mut entries = match app.store.audit_log(portal, office, before, limit + 1).await {
        Ok(entries) => entries,
        Err(e) => return guard::unavailable().logged(format!("audit {portal}/{office}: {e}")),
    };
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next = more
        .then(|| entries.last().map(|e| e.seq.to_string()))
        .flatten();
    let entries: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "at": e.at, "actor": e.actor, "actor_id": e.actor_id, "actor_name": e.actor_name,
                "action": e.action, "application": e.application_id, "detail": e.detail,
            })
        })
        .collect();
    Response::json(200, &json!({"entries": entries, "next": next}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let a = StoredApplication {
            id: "7K3M-9QPX".into(),
            created_at: "2026-11-23T19:56:04Z".into(),
            ..test_application()
        };
        assert_eq!(
            parse_cursor(&cursor_of(&a)),
            Some(("2026-11-23T19:56:04Z".into(), "7K3M-9QPX".into()))
        );
        for bad in [
            "",
            "_",
            "2026_",
            "_7K3M-9QPX",
            "2026' OR 1=1_7K3M-9QPX",
            "x_7K3M-9QPX",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }

    fn test_application() -> StoredApplication {
        StoredApplication {
            id: String::new(),
            portal: "bottrop".into(),
            service: "fundsache-melden".into(),
            office: "buergerbuero".into(),
            token_hash: String::new(),
            account_hash: None,
            envelope: "{}".into(),
            status: "received".into(),
            created_at: String::new(),
            updated_at: String::new(),
            citizen_key: None,
            citizen_key_wrapped: None,
            citizen_seen_at: None,
            contact: None,
        }
    }
}
