//! The workspace's login routes (SPEC section 9, docs/workspace.md): `/api/amt/login`,
//! `/api/amt/callback`, `/api/amt/session`, `/api/amt/logout`, and the renewal of the
//! staff session on every answer to a caseworker.

use serde_json::json;

use super::access::staff_session;
use super::{guard, App};
use crate::auth::staff::{
    begin_staff_login, clear_staff_cookie, clear_staff_login_cookie, finish_staff_login,
    set_staff_login_cookie, StaffLogin, StaffSession, STAFF_LOGIN_COOKIE, WORKSPACE_PATH,
};
use crate::auth::{cookie_value, AuthError, CallbackParams, HttpClient};
use crate::html;
use crate::http::{Request, Response};

const TITLE: &str = "Anmeldung am Arbeitsplatz";

fn not_configured(site: &str) -> Response {
    Response::html(
        503,
        html::message_page(
            site,
            TITLE,
            "Die Anmeldung am Arbeitsplatz ist für diese Verwaltung nicht eingerichtet. Bitte wenden Sie sich an die Stelle, die das Serviceportal betreibt.",
        ),
    )
}

fn failure(site: &str, e: &AuthError) -> Response {
    let message = match e {
        // The citizens' text speaks of services and trust levels.
        AuthError::BadRequest(_) => {
            "Die Anmeldung wurde mit ungültigen Angaben aufgerufen. Bitte starten Sie sie erneut vom Arbeitsplatz aus.".to_string()
        }
        other => other.user_message(),
    };
    Response::html(
        e.status(),
        html::message_page_with_link(site, TITLE, &message, WORKSPACE_PATH, "Zum Arbeitsplatz"),
    )
    .append_header("set-cookie", &clear_staff_login_cookie())
    .logged(format!("staff login: {}", e.log_reason()))
}

fn setup<S, F, H>(app: &App<S, F, H>) -> Result<&StaffLogin, Response> {
    app.config
        .staff_login
        .as_ref()
        .ok_or_else(|| not_configured(&app.config.site_name))
}

/// `GET /api/amt/login?return=/amt/…&login_hint=…`: to the city's provider.
pub async fn login<S, F, H: HttpClient>(app: &App<S, F, H>, request: &Request) -> Response {
    let login = match setup(app) {
        Ok(login) => login,
        Err(response) => return response,
    };
    let return_path = request.query_param("return");
    let hint = request.query_param("login_hint");
    match begin_staff_login(
        login,
        &app.http,
        return_path.as_deref(),
        hint.as_deref(),
        request.now_ms,
    )
    .await
    {
        Ok((url, cookie)) => {
            Response::redirect(&url).append_header("set-cookie", &set_staff_login_cookie(&cookie))
        }
        Err(e) => failure(&app.config.site_name, &e),
    }
}

/// `GET /api/amt/callback`: back from the provider, into the workspace.
pub async fn callback<S, F, H: HttpClient>(app: &App<S, F, H>, request: &Request) -> Response {
    let login = match setup(app) {
        Ok(login) => login,
        Err(response) => return response,
    };
    let params = CallbackParams::from_query(&request.query);
    let pending = request
        .header("cookie")
        .and_then(|c| cookie_value(c, STAFF_LOGIN_COOKIE));
    match finish_staff_login(login, &app.http, &params, pending, request.now_ms).await {
        Ok((session, return_path)) => {
            let (_, cookie) = session.renewed(&login.keys, request.now_ms);
            Response::redirect(&return_path)
                .append_header("set-cookie", &clear_staff_login_cookie())
                .append_header("set-cookie", &cookie)
        }
        Err(e) => failure(&app.config.site_name, &e),
    }
}

/// `GET /api/amt/session`: who is logged in, for which offices, until when.
pub fn session<S, F, H>(app: &App<S, F, H>, request: &Request) -> Response {
    match staff_session(app, request) {
        Some(session) => {
            // The answer carries the renewed cookie (see [`renew`]); say its new end.
            let idle = request
                .now_ms
                .saturating_add(crate::auth::staff::STAFF_IDLE_MS)
                .min(session.exp);
            Response::json(
                200,
                &json!({
                    "logged_in": true,
                    "name": session.name,
                    "offices": session.offices,
                    "idle_expires_at": idle,
                    "expires_at": session.exp,
                }),
            )
        }
        None => Response::json(
            200,
            &json!({"logged_in": false, "configured": app.config.staff_login.is_some()}),
        ),
    }
}

/// `POST /api/amt/logout`: ends the staff session (the cookie is the whole session).
pub fn logout(request: &Request) -> Response {
    if let Err(response) = guard::same_site(request) {
        return response;
    }
    Response::json(200, &json!({"logged_in": false}))
        .append_header("set-cookie", &clear_staff_cookie())
}

/// Renews the staff session of a caseworker's request on its answer, so that it ends
/// only after the idle time without requests. Answers that refused the session, and
/// requests that came with a bearer token, are left alone.
pub fn renew<S, F, H>(app: &App<S, F, H>, request: &Request, response: Response) -> Response {
    let renewing = (request.path.starts_with("/api/office/") || request.path == "/api/amt/session")
        && request.header("authorization").is_none()
        && response.status != 401;
    let Some(login) = app.config.staff_login.as_ref().filter(|_| renewing) else {
        return response;
    };
    match StaffSession::from_cookie_header(request.header("cookie"), &login.keys, request.now_ms) {
        Some(session) => {
            let (_, cookie) = session.renewed(&login.keys, request.now_ms);
            response.append_header("set-cookie", &cookie)
        }
        None => response,
    }
}
