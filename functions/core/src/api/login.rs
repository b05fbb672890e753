//! Citizen login (OpenID Connect through the auth module), the session, and the
//! mailbox: the applications a logged-in citizen sent, with their status.

use lotse_model::TrustLevel;
use serde_json::json;

use super::guard;
use super::status::history_json;
use super::submit::wants_html;
use super::{error, App, Forms, LoginSetup};
use crate::auth::{
    begin_login, clear_cookie, cookie_value, finish_login, set_cookie, AuthError, CallbackParams,
    HttpClient, Session, LOGIN_COOKIE, LOGIN_TTL_MS, SESSION_COOKIE, SESSION_TTL_MS,
};
use crate::html;
use crate::http::{Request, Response};
use crate::store::Store;

/// The logged-in citizen, if the request carries a valid session cookie.
pub(crate) fn current_session(login: Option<&LoginSetup>, request: &Request) -> Option<Session> {
    let login = login?;
    Session::from_cookie_header(request.header("cookie"), &login.keys, request.now_ms)
}

fn not_configured(site: &str) -> Response {
    Response::html(
        503,
        html::message_page(
            site,
            "Anmeldung nicht verfügbar",
            "Die Anmeldung mit BundID ist für dieses Portal nicht eingerichtet. Bitte wenden Sie sich an die zuständige Stelle.",
        ),
    )
}

fn auth_failure(site: &str, e: &AuthError) -> Response {
    Response::html(
        e.status(),
        html::message_page(site, "Anmeldung fehlgeschlagen", &e.user_message()),
    )
    .append_header("set-cookie", &clear_cookie(LOGIN_COOKIE))
}

/// `GET /api/login?portal=…&return=…&level=…`: to the provider.
pub async fn login<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let Some(setup) = &app.config.login else {
        return not_configured(site);
    };
    let portal = request.query_param("portal").unwrap_or_default();
    let return_path = request.query_param("return");
    let level = match request.query_param("level") {
        None => TrustLevel::Low,
        Some(level) => match TrustLevel::parse(&level) {
            Some(level) => level,
            None => {
                return auth_failure(
                    site,
                    &AuthError::BadRequest(format!("unknown level `{level}`")),
                )
            }
        },
    };
    match begin_login(
        &setup.oidc,
        &app.http,
        &setup.keys,
        &portal,
        return_path.as_deref(),
        level,
        request.now_ms,
    )
    .await
    {
        Ok((url, cookie)) => Response::redirect(&url).append_header(
            "set-cookie",
            &set_cookie(LOGIN_COOKIE, &cookie, LOGIN_TTL_MS),
        ),
        Err(e) => auth_failure(site, &e),
    }
}

/// `GET /api/callback?code=…&state=…`: back from the provider.
pub async fn callback<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let Some(setup) = &app.config.login else {
        return not_configured(site);
    };
    let params = CallbackParams::from_query(&request.query);
    let login_cookie = request
        .header("cookie")
        .and_then(|c| cookie_value(c, LOGIN_COOKIE));
    match finish_login(
        &setup.oidc,
        &app.http,
        &setup.keys,
        &params,
        login_cookie,
        request.now_ms,
    )
    .await
    {
        Ok((session, return_path)) => Response::redirect(&return_path)
            .append_header("set-cookie", &clear_cookie(LOGIN_COOKIE))
            .append_header(
                "set-cookie",
                &set_cookie(
                    SESSION_COOKIE,
                    &session.seal(&setup.keys, request.now_ms),
                    SESSION_TTL_MS,
                ),
            ),
        Err(e) => auth_failure(site, &e),
    }
}

/// `GET /api/session`: who is logged in, at which level.
pub fn session<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    match current_session(app.config.login.as_ref(), request) {
        Some(s) => Response::json(
            200,
            &json!({
                "logged_in": true,
                "level": s.level,
                "given_name": s.given_name,
                "family_name": s.family_name,
                "email": s.email,
                "address": s.address,
                "expires_at": s.exp,
            }),
        ),
        None => Response::json(200, &json!({"logged_in": false})),
    }
}

/// `POST /api/logout`: ends the session (the cookie is the whole session).
pub fn logout(request: &Request) -> Response {
    if let Err(response) = guard::same_site(request) {
        return response;
    }
    let cleared = clear_cookie(SESSION_COOKIE);
    if wants_html(request) {
        let return_path = form_urlencoded::parse(&request.body)
            .find(|(k, _)| k == "return")
            .map(|(_, v)| v.into_owned())
            .filter(|r| crate::auth::safe_return_path(r).is_some())
            .unwrap_or_else(|| "/".into());
        Response::redirect(&return_path).append_header("set-cookie", &cleared)
    } else {
        Response::json(200, &json!({"logged_in": false})).append_header("set-cookie", &cleared)
    }
}

/// `GET /api/applications`: the citizen's mailbox as JSON.
pub async fn mailbox_json<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let Some(setup) = &app.config.login else {
        return error(
            401,
            "login_required",
            "Bitte melden Sie sich an, um Ihr Postfach zu sehen.",
        );
    };
    let Some(session) = current_session(Some(setup), request) else {
        return error(
            401,
            "login_required",
            "Bitte melden Sie sich an, um Ihr Postfach zu sehen.",
        );
    };
    let applications = match app
        .store
        .account_applications(&setup.accounts.account_hashes(&setup.keys, &session.sub))
        .await
    {
        Ok(list) => list,
        Err(e) => return guard::unavailable().logged(format!("mailbox: {e}")),
    };
    let mut entries = Vec::with_capacity(applications.len());
    for a in applications {
        let history = match app.store.history(&a.id).await {
            Ok(history) => history,
            Err(e) => {
                return guard::unavailable().logged(format!("mailbox: application {}: {e}", a.id))
            }
        };
        entries.push(json!({
            "id": a.id, "portal": a.portal, "service": a.service, "status": a.status,
            "created_at": a.created_at, "updated_at": a.updated_at, "history": history_json(&history),
        }));
    }
    let appointments = match app
        .store
        .account_appointments(&setup.accounts.account_hashes(&setup.keys, &session.sub))
        .await
    {
        Ok(list) => list,
        Err(e) => return guard::unavailable().logged(format!("mailbox appointments: {e}")),
    };
    let appointments: Vec<serde_json::Value> = appointments
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "portal": a.portal, "service": a.service, "office": a.office,
                "start": lotse_model::calendar::rfc3339_berlin(a.start_ms),
                "end": lotse_model::calendar::rfc3339_berlin(a.end_ms), "status": a.status,
            })
        })
        .collect();
    Response::json(
        200,
        &json!({"applications": entries, "appointments": appointments}),
    )
}

/// `GET /api/postfach?portal=…`: "Mein Postfach" as a page, no JavaScript needed.
pub async fn mailbox_html<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let site = &app.config.site_name;
    let portal = request
        .query_param("portal")
        .filter(|p| lotse_model::slug::is_slug(p));
    let Some(setup) = &app.config.login else {
        return not_configured(site);
    };
    let Some(session) = current_session(Some(setup), request) else {
        let return_path = match &portal {
            Some(p) => format!("/api/postfach?portal={p}"),
            None => "/api/postfach".into(),
        };
        return Response::html(
            200,
            html::mailbox_login(site, portal.as_deref(), &return_path),
        );
    };
    let applications = match app
        .store
        .account_applications(&setup.accounts.account_hashes(&setup.keys, &session.sub))
        .await
    {
        Ok(list) => list,
        Err(e) => {
            return html::error_from_json(
                site,
                &guard::unavailable().logged(format!("mailbox: {e}")),
            )
        }
    };
    let mut rows = Vec::with_capacity(applications.len());
    for application in applications {
        // A history that cannot be read is a 503, as in the JSON mailbox: never a
        // page that quietly shows less than there is.
        let history = match app.store.history(&application.id).await {
            Ok(history) => history,
            Err(e) => {
                return html::error_from_json(
                    site,
                    &guard::unavailable()
                        .logged(format!("mailbox: application {}: {e}", application.id)),
                )
            }
        };
        let title = app
            .forms
            .schema(&application.portal, &application.service)
            .await
            .map(|s| s.title);
        let messages = match app.store.messages(&application.id).await {
            Ok(messages) => messages,
            Err(e) => {
                return html::error_from_json(
                    site,
                    &guard::unavailable()
                        .logged(format!("mailbox: application {}: {e}", application.id)),
                )
            }
        };
        let seen = application.citizen_seen_at.as_deref().unwrap_or("");
        let new_messages = messages
            .iter()
            .filter(|m| super::messages::is_new(m, seen))
            .count();
        rows.push(html::MailboxEntry {
            application,
            history,
            title,
            messages: messages.len(),
            new_messages,
        });
    }
    let hashes = setup.accounts.account_hashes(&setup.keys, &session.sub);
    let appointments = match app.store.account_appointments(&hashes).await {
        Ok(list) => list,
        Err(e) => {
            return html::error_from_json(
                site,
                &guard::unavailable().logged(format!("mailbox appointments: {e}")),
            )
        }
    };
    let mut titled = Vec::with_capacity(appointments.len());
    for a in appointments {
        let title = app
            .forms
            .appointment(&a.portal, &a.service)
            .await
            .map(|s| s.title);
        titled.push((a, title));
    }
    let section = crate::appointment_page::mailbox_section(&titled, request.now_ms as i64);
    Response::html(
        200,
        html::mailbox(site, portal.as_deref(), &session, &rows, &section),
    )
}
