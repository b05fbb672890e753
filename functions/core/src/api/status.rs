//! What citizens see after submitting: the receipt, the status lookup (as JSON with a
//! bearer token, and as HTML pages that need no JavaScript).

use serde_json::json;

use super::guard::{self, BodyKind};
use super::{bearer, error, App, Config, Forms};
use crate::auth::{cookie_value, open_cookie, seal_cookie, HttpClient};
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
        Ok(Some((application, history))) => {
            let mut answer = json!({
                "id": application.id,
                "portal": application.portal,
                "service": application.service,
                "status": application.status,
                "history": history_json(&history),
            });
            match app.store.payment(&application.id).await {
                Ok(Some(payment)) => {
                    answer["payment"] = super::payment::payment_json(&payment);
                }
                Ok(None) => {}
                Err(e) => {
                    return guard::unavailable().logged(format!("status {}: {e}", application.id))
                }
            }
            Response::json(200, &answer)
        }
        Ok(None) => not_found(),
        Err(response) => response,
    }
}

/// How long the receipt page can be shown again (reload, print) after submitting.
const RECEIPT_TTL_MS: u64 = 15 * 60 * 1000;
/// The same when the citizen goes on to pay, and comes back from the provider.
const PAYMENT_RECEIPT_TTL_MS: u64 = 60 * 60 * 1000;

/// What the receipt cookie carries (sealed, see [`crate::auth::seal_cookie`]).
#[derive(serde::Serialize, serde::Deserialize)]
struct ReceiptCookie {
    id: String,
    token: String,
}

/// One cookie per application, `lotse_receipt_7K3M9QPX`: two forms sent from two tabs
/// keep both receipts, and the name is sealed with the value, so a receipt cookie
/// cannot be shown under another id.
fn receipt_cookie_name(id: &str) -> String {
    format!("lotse_receipt_{}", id.replace('-', ""))
}

/// Where the HTML form is redirected after a submission: the address names the id only.
pub(crate) fn receipt_location(id: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("id", id)
        .finish();
    format!("/api/receipt?{query}")
}

/// The 303 of an accepted HTML form: its body (the JSON receipt, as the submission
/// saved it for idempotent replays) becomes the sealed receipt cookie, read by
/// [`receipt`] only (`Path=/api/receipt`, HttpOnly, SameSite=Strict, 15 minutes). The
/// token thus never appears in an address, a history, a log line or a Referer.
pub(crate) fn hand_over_receipt(config: &Config, now_ms: u64, mut response: Response) -> Response {
    let Ok(receipt) = serde_json::from_slice::<ReceiptCookie>(&response.body) else {
        return response;
    };
    let name = receipt_cookie_name(&receipt.id);
    // On to the provider's page: the receipt must still open when the citizen comes back.
    let to_provider = response
        .header("location")
        .is_some_and(|l| !l.starts_with("/api/receipt"));
    let ttl = if to_provider {
        PAYMENT_RECEIPT_TTL_MS
    } else {
        RECEIPT_TTL_MS
    };
    let sealed = seal_cookie(&name, &receipt, &config.receipt_keys, now_ms, ttl);
    response.body.clear();
    response
        .with_header("content-type", "text/plain; charset=utf-8")
        .append_header(
            "set-cookie",
            &format!(
                "{name}={sealed}; Path=/api/receipt; Max-Age={}; HttpOnly; Secure; SameSite={}",
                ttl / 1000,
                // The way back from the provider is a navigation from its site, which
                // carries Lax cookies only.
                if to_provider { "Lax" } else { "Strict" }
            ),
        )
}

/// The 404 of a lookup whose id and token do not match (the receipt page answers the same).
fn wrong_pair_page(site: &str) -> Response {
    Response::html(
        404,
        html::status_form(site, Some("Zu dieser Vorgangsnummer und diesem Schlüssel haben wir keinen Antrag gefunden. Bitte prüfen Sie Ihre Eingaben.")),
    )
}

/// `GET /api/receipt?id=…`: the page the HTML form is redirected to. It shows only what
/// the store confirms: the id and token come from the sealed receipt cookie, the title
/// and portal from the stored application. Without a cookie that opens (expired, another
/// browser, a made-up address) it is the status lookup form with a 404; a pair the store
/// does not know gets the same 404 page as a wrong status lookup.
pub async fn receipt<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let opened = request
        .query_param("id")
        .and_then(|id| normalize_id(&id))
        .and_then(|id| {
            let name = receipt_cookie_name(&id);
            let sealed = cookie_value(request.header("cookie")?, &name)?;
            open_cookie::<ReceiptCookie>(&name, sealed, &app.config.receipt_keys, request.now_ms)
                .filter(|receipt| receipt.id == id)
        });
    let Some(receipt) = opened else {
        return Response::html(
            404,
            html::status_form(site, Some("Diese Eingangsbestätigung können wir nicht mehr anzeigen: Sie erscheint aus Sicherheitsgründen nur kurz nach dem Absenden und nur in dem Browser, mit dem Sie den Antrag gesendet haben. Den Stand Ihres Antrags fragen Sie hier mit Vorgangsnummer und Schlüssel ab.")),
        );
    };
    match authorized(&app.store, &receipt.id, &receipt.token).await {
        Ok(Some((application, _))) => {
            // What was sent ("Fundsache melden", "Rückmeldung zur Barrierefreiheit"),
            // when its form still exists.
            let schema = app
                .forms
                .schema(&application.portal, &application.service)
                .await;
            let title = schema.as_ref().map(|s| s.title.clone());
            let payment = match app.store.payment(&application.id).await {
                Ok(payment) => payment,
                Err(e) => {
                    return html::error_from_json(
                        site,
                        &guard::unavailable().logged(format!("receipt {}: {e}", application.id)),
                    )
                }
            };
            let page = html::receipt(
                site,
                Some(&application.portal),
                title.as_deref(),
                &application.id,
                &receipt.token,
                payment.as_ref(),
            );
            let fee = schema.as_ref().and_then(|s| s.fee.as_ref());
            let targets = super::payment::form_targets(&app.config, fee, payment.as_ref());
            Response::html(200, page).with_header(
                "content-security-policy",
                &super::content_security_policy(&targets),
            )
        }
        Ok(None) => wrong_pair_page(site),
        Err(response) => html::error_from_json(site, &response),
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
    // The status with the conversation: the thread page, opened by the token.
    match super::messages::open_for_citizen(app, request, &id, Some(&token)).await {
        Ok(Some(opened)) => super::messages::page(app, request, &opened, None, false)
            .await
            .unwrap_or_else(|response| html::error_from_json(site, &response)),
        Ok(None) => wrong_pair_page(site),
        Err(response) => html::error_from_json(site, &response),
    }
}
