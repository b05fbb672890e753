//! What citizens see after submitting: the receipt, the status lookup (as JSON with a
//! bearer token, and as HTML pages that need no JavaScript).

use serde_json::json;

use super::guard::{self, BodyKind};
use super::{bearer, error, App, Forms};
use crate::auth::HttpClient;
use crate::html;
use crate::http::{Request, Response};
use crate::ids::{normalize_id, token_matches};
use crate::store::{StatusEntry, Store, StoredApplication};

/// Looks up an application and checks its token. Unknown id and wrong token answer the
/// same, so ids cannot be probed.
async fn authorized<S: Store>(
    store: &S,
    id: &str,
    token: &str,
) -> Result<Option<(StoredApplication, Vec<StatusEntry>)>, Response> {
    let Some(id) = normalize_id(id) else {
        return Ok(None);
    };
    let application = store
        .application(&id)
        .await
        .map_err(|_| guard::unavailable())?;
    match application {
        Some(app) if token_matches(token, &app.token_hash) => {
            let history = store
                .history(&app.id)
                .await
                .map_err(|_| guard::unavailable())?;
            Ok(Some((app, history)))
        }
        _ => Ok(None),
    }
}

fn not_found() -> Response {
    error(
        404,
        "not_found",
        "Zu dieser Vorgangsnummer und diesem Schlüssel gibt es keinen Antrag.",
    )
}

pub fn history_json(history: &[StatusEntry]) -> serde_json::Value {
    history
        .iter()
        .map(|h| json!({"status": h.status, "at": h.at, "note": h.note}))
        .collect()
}

/// `GET /api/applications/<id>` with `Authorization: Bearer <token>`.
pub async fn status_json<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
    id: &str,
) -> Response {
    let Some(token) = bearer(request) else {
        return not_found();
    };
    match authorized(&app.store, id, token).await {
        Ok(Some((application, history))) => Response::json(
            200,
            &json!({
                "id": application.id,
                "portal": application.portal,
                "service": application.service,
                "status": application.status,
                "history": history_json(&history),
            }),
        ),
        Ok(None) => not_found(),
        Err(response) => response,
    }
}

/// `GET /api/receipt?id=…&token=…`: the page the HTML form is redirected to. The token is
/// in the address, so the page sends no Referer anywhere (no-referrer on every answer)
/// and is not cached.
pub async fn receipt<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let id = request.query_param("id").and_then(|id| normalize_id(&id));
    let token = request
        .query_param("token")
        .filter(|t| t.len() == 26 && t.bytes().all(|b| b.is_ascii_alphanumeric()));
    match (id, token) {
        (Some(id), Some(token)) => {
            let portal = request.query_param("portal");
            // What was sent ("Fundsache melden", "Rückmeldung zur Barrierefreiheit"),
            // when the address names a form that exists.
            let title = match (&portal, request.query_param("service")) {
                (Some(portal), Some(service)) => {
                    app.forms.schema(portal, &service).await.map(|s| s.title)
                }
                _ => None,
            };
            let page = html::receipt(
                &app.config.site_name,
                portal.as_deref(),
                title.as_deref(),
                &id,
                &token,
            );
            Response::html(200, page)
        }
        _ => Response::html(404, html::message_page(&app.config.site_name, "Eingangsbestätigung nicht gefunden", "Diese Eingangsbestätigung ist unvollständig. Bitte nutzen Sie den Link aus Ihrer Bestätigung oder fragen Sie den Stand mit Vorgangsnummer und Schlüssel ab.")),
    }
}

/// `GET /api/status`: the lookup form.
pub fn status_form<S: Store, F: Forms, H: HttpClient>(app: &App<S, F, H>) -> Response {
    Response::html(200, html::status_form(&app.config.site_name, None))
}

/// `POST /api/status` with `id` and `token` from the lookup form.
pub async fn status_html<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let checks = guard::size(&app.config, request)
        .and_then(|_| guard::content_type(request, &[BodyKind::Form]))
        .and_then(|_| guard::same_site(request));
    if let Err(response) = checks {
        return html::error_from_json(site, &response);
    }
    let mut id = String::new();
    let mut token = String::new();
    for (key, value) in form_urlencoded::parse(&request.body) {
        match key.as_ref() {
            "id" => id = value.trim().to_string(),
            "token" => token = value.trim().to_string(),
            _ => {}
        }
    }
    match authorized(&app.store, &id, &token).await {
        Ok(Some((application, history))) => Response::html(200, html::status_page(site, &application, &history)),
        Ok(None) => Response::html(
            404,
            html::status_form(site, Some("Zu dieser Vorgangsnummer und diesem Schlüssel haben wir keinen Antrag gefunden. Bitte prüfen Sie Ihre Eingaben.")),
        ),
        Err(response) => html::error_from_json(site, &response),
    }
}
