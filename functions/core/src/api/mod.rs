//! The router and the configuration shared by all handlers.

mod access;
mod appointment_office;
pub(crate) mod appointments;
pub(crate) mod guard;
pub(crate) mod login;
mod messages;
mod office;
mod office_thread;
mod payment;
mod staff;
mod status;
mod submit;
mod workspace;

use std::collections::HashMap;

use lotse_model::FormSchema;
use serde_json::json;

pub(crate) use messages::ThreadEntry;
pub use payment::reconcile_payments;

use crate::auth::{HttpClient, Oidc, SessionKeys};
use crate::http::{Request, Response};
use crate::ids::hash_hex;
use crate::store::Store;

/// Where form schemas come from: the static assets on Workers, memory under `serve`.
#[allow(async_fn_in_trait)]
pub trait Forms {
    async fn schema(&self, portal: &str, service: &str) -> Option<FormSchema>;
    /// The ids of a portal's offices (`forms/<portal>/_offices.json`); `None` for an
    /// unknown portal.
    async fn offices(&self, portal: &str) -> Option<Vec<String>>;
    /// A service that can be booked at its office
    /// (`lotse_model::appointment::appointment_path`); `None` for any other.
    async fn appointment(
        &self,
        portal: &str,
        service: &str,
    ) -> Option<lotse_model::appointment::BookableService> {
        let _ = (portal, service);
        None
    }
}

/// The asset the generator writes with the office ids of a portal, for [`Forms::offices`].
/// `_` never starts a slug, so no service or page can take this name.
pub fn offices_path(portal: &str) -> String {
    format!("forms/{portal}/_offices.json")
}

/// The asset with region.toml's `[office_login]` (a `lotse_model::OfficeLoginConfig`
/// as JSON), which the worker reads: region.toml stays the one place staff login is
/// configured. Written only when the region has `[office_login]`.
pub const OFFICE_LOGIN_ASSET: &str = "forms/_office_login.json";

/// The content of [`offices_path`].
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct OfficeList {
    pub portal: String,
    pub offices: Vec<String>,
}

/// What an office token opens.
#[derive(Debug, PartialEq)]
pub enum OfficeScope {
    /// The development shortcut (`LOTSE_OFFICE_TOKEN`): every office.
    Every,
    /// These `"<portal>/<office>"` ids.
    Offices(Vec<String>),
}

impl OfficeScope {
    pub fn covers(&self, portal: &str, office: &str) -> bool {
        match self {
            OfficeScope::Every => true,
            OfficeScope::Offices(ids) => ids.iter().any(|id| *id == format!("{portal}/{office}")),
        }
    }
}

/// Bearer tokens of the offices: one per office (the `OFFICE_TOKENS` secret on Workers,
/// `LOTSE_OFFICE_TOKENS` under `lotse serve`) and, under `lotse serve`, the development
/// shortcut `LOTSE_OFFICE_TOKEN` that opens every office (SPEC section 5). Neither set:
/// no office can log in.
#[derive(Clone, Debug, Default)]
pub struct OfficeTokens {
    every: Option<String>,
    /// `"<portal>/<office>"` -> token.
    per_office: HashMap<String, String>,
}

impl OfficeTokens {
    /// Parses a JSON object `{"bottrop/steueramt": "…"}` of tokens of 16 characters or more.
    pub fn from_json(text: &str) -> Result<OfficeTokens, String> {
        let map: HashMap<String, String> = serde_json::from_str(text)
            .map_err(|e| format!("OFFICE_TOKENS is not a JSON object of strings: {e}"))?;
        if map.values().any(|token| token.len() < 16) {
            return Err("every office token needs at least 16 characters".into());
        }
        Ok(OfficeTokens {
            every: None,
            per_office: map,
        })
    }

    /// Adds the token that opens every office.
    pub fn with_every_office(self, token: impl Into<String>) -> OfficeTokens {
        OfficeTokens {
            every: Some(token.into()),
            ..self
        }
    }

    /// The offices `presented` opens, or `None` when it is no office's token. Every
    /// configured token is compared (in constant time, as hashes), so neither timing
    /// nor the answer tells which offices exist.
    pub(crate) fn scope(&self, presented: &str) -> Option<OfficeScope> {
        use subtle::ConstantTimeEq;
        let presented = hash_hex(presented.as_bytes());
        let matches = |token: &str| -> bool {
            presented
                .as_bytes()
                .ct_eq(hash_hex(token.as_bytes()).as_bytes())
                .into()
        };
        let every = self.every.as_deref().is_some_and(matches);
        let mut ids: Vec<String> = self
            .per_office
            .iter()
            .filter(|(_, token)| matches(token))
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        if every {
            Some(OfficeScope::Every)
        } else {
            (!ids.is_empty()).then_some(OfficeScope::Offices(ids))
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub office_tokens: OfficeTokens,
    /// Submissions per client and minute (SPEC default: 60).
    pub rate_limit_per_minute: u32,
    /// The secret of the keyed hashes of client addresses and Idempotency-Keys
    /// (`HASH_SECRET`, `LOTSE_HASH_SECRET`); by default the built-in public stand-in.
    pub hash_secret: crate::keyed::HashSecret,
    /// Largest accepted request body (SPEC: 64 KiB without attachments).
    pub body_limit: usize,
    /// Shown on the pages the functions render (receipt, status, errors).
    pub site_name: String,
    /// `None`: no login configured; services that need one answer 401.
    pub login: Option<LoginSetup>,
    /// Seal the receipt cookie, which carries the citizen's token from the 303 to the
    /// receipt page (so the token is never in an address). Random per process by
    /// default (`lotse serve`); the worker derives it from its secrets, since its
    /// isolates share no memory.
    pub receipt_keys: SessionKeys,
    /// The payment provider's OAuth2 client secret (`PAYMENT_CLIENT_SECRET`,
    /// `LOTSE_PAYMENT_CLIENT_SECRET`), for providers with a `token_url`.
    pub payment_client_secret: Option<String>,
    /// Replaces every provider's `base_url` (`PAYMENT_BASE_URL`, `LOTSE_PAYMENT_BASE_URL`):
    /// for a local test provider, never needed in production.
    pub payment_base_url: Option<String>,
    /// The provider's access token, shared by the requests of a process or isolate.
    pub payment_tokens: std::sync::Arc<crate::payment::TokenCache>,
    /// How soon an open payment is first asked about again (default a minute; the
    /// pauses grow from there as it ages). `LOTSE_PAYMENT_RECHECK_MS` under `serve`.
    pub payment_recheck_ms: u64,
    /// Staff login to the workspace (region.toml `[office_login]`, SPEC section 9);
    /// `None`: only the bearer tokens open the office API.
    pub staff_login: Option<crate::auth::staff::StaffLogin>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            office_tokens: OfficeTokens::default(),
            rate_limit_per_minute: 60,
            hash_secret: crate::keyed::HashSecret::unconfigured(),
            body_limit: 64 * 1024,
            site_name: "Serviceportal".into(),
            login: None,
            receipt_keys: SessionKeys::random(),
            payment_client_secret: None,
            payment_base_url: None,
            payment_tokens: Default::default(),
            payment_recheck_ms: 60_000,
            staff_login: None,
        }
    }
}

pub struct App<S, F, H> {
    pub store: S,
    pub forms: F,
    /// Reaches the OpenID provider (fetch on Workers, a blocking client under `serve`).
    pub http: H,
    pub config: Config,
}

/// Citizen login, when configured: the provider (with its metadata and key cache), the
/// keys that seal session cookies, and the stable key applications are linked to the
/// citizen's account by.
#[derive(Clone, Debug)]
pub struct LoginSetup {
    pub oidc: std::sync::Arc<Oidc>,
    pub keys: SessionKeys,
    pub accounts: crate::auth::AccountKey,
}

/// Answers one request. Never panics on any input; every answer carries the security
/// headers.
pub async fn handle<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: Request,
) -> Response {
    let response = route(app, &request).await;
    let response = staff::renew(app, &request, response);
    with_security_headers(response)
}

async fn route<S: Store, F: Forms, H: HttpClient>(
    app: &App<S, F, H>,
    request: &Request,
) -> Response {
    let segments: Vec<&str> = request
        .path
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .collect();
    // HEAD is GET without the body; the runtimes drop the body of a HEAD answer.
    let method = match request.method.as_str() {
        "HEAD" => "GET",
        other => other,
    };
    match (method, segments.as_slice()) {
        ("POST", ["api", "applications"]) => submit::submit(app, request).await,
        ("GET", ["api", "applications"]) => login::mailbox_json(app, request).await,
        ("GET", ["api", "applications", id]) => status::status_json(app, request, id).await,
        ("GET", ["api", "applications", id, "messages"]) => messages::list(app, request, id).await,
        ("POST", ["api", "applications", id, "messages"]) => messages::post(app, request, id).await,
        ("GET", ["api", "applications", id, "attachments", file]) => {
            messages::attachment(app, request, id, file).await
        }
        ("GET", ["api", "vorgang"]) => messages::page_html(app, request).await,
        ("GET", ["api", "payment", "return"]) => payment::return_from_provider(app, request).await,
        ("POST", ["api", "payment", "retry"]) => payment::pay_again(app, request).await,
        ("GET", ["api", "login"]) => login::login(app, request).await,
        ("GET", ["api", "callback"]) => login::callback(app, request).await,
        ("GET", ["api", "session"]) => login::session(app, request),
        ("POST", ["api", "logout"]) => login::logout(request),
        ("GET", ["api", "postfach"]) => login::mailbox_html(app, request).await,
        ("GET", ["api", "receipt"]) => status::receipt(app, request).await,
        ("GET", ["api", "status"]) => status::status_form(app),
        ("POST", ["api", "status"]) => status::status_html(app, request).await,
        ("GET", ["api", "appointments", portal, service, "slots"]) => {
            appointments::slots(app, request, portal, service).await
        }
        ("POST", ["api", "appointments"]) => appointments::book(app, request).await,
        ("GET", ["api", "appointments", id]) => appointments::status(app, request, id).await,
        ("DELETE", ["api", "appointments", id]) => appointments::cancel(app, request, id).await,
        ("GET", ["api", "appointments", id, "ics"]) => appointments::ics(app, request, id).await,
        ("POST", ["api", "appointments", id, "cancel"]) => {
            appointments::cancel_form(app, request, id).await
        }
        ("GET", ["api", "termin"]) => crate::appointment_page::booking_page(app, request).await,
        ("GET", ["api", "termin", "bestaetigung"]) => {
            crate::appointment_page::confirmation(app, request).await
        }
        ("GET", ["api", "termin", "status"]) => crate::appointment_page::lookup(app),
        ("POST", ["api", "termin", "status"]) => {
            crate::appointment_page::lookup_post(app, request).await
        }
        ("GET", ["api", "office", portal, office, "appointments"]) => {
            appointment_office::day(app, request, portal, office).await
        }
        ("POST", ["api", "office", "appointments", id, "cancel"]) => {
            appointment_office::cancel(app, request, id).await
        }
        ("GET", ["api", "amt", "login"]) => staff::login(app, request).await,
        ("GET", ["api", "amt", "callback"]) => staff::callback(app, request).await,
        ("GET", ["api", "amt", "session"]) => staff::session(app, request),
        ("POST", ["api", "amt", "logout"]) => staff::logout(request),
        ("GET", ["api", "office", portal, office, "applications"]) => {
            office::list(app, request, portal, office).await
        }
        ("GET", ["api", "office", portal, office, "counts"]) => {
            workspace::counts(app, request, portal, office).await
        }
        ("GET", ["api", "office", portal, office, "audit"]) => {
            workspace::audit(app, request, portal, office).await
        }
        ("GET", ["api", "office", "applications", id]) => workspace::one(app, request, id).await,
        ("GET", ["api", "office", "applications", id, "export"]) => {
            workspace::export(app, request, id).await
        }
        ("POST", ["api", "office", "applications", id, "status"]) => {
            office::set_status(app, request, id).await
        }
        ("GET", ["api", "office", "applications", id, "messages"]) => {
            office_thread::list(app, request, id).await
        }
        ("POST", ["api", "office", "applications", id, "messages"]) => {
            office_thread::post(app, request, id).await
        }
        ("GET", ["api", "office", "applications", id, "attachments", file]) => {
            office_thread::attachment(app, request, id, file).await
        }
        ("DELETE", ["api", "office", "applications", id]) => {
            office_thread::delete(app, request, id).await
        }
        (_, route) => match allowed_methods(route) {
            Some(allow) => error(
                405,
                "method_not_allowed",
                "Diese Methode ist hier nicht erlaubt.",
            )
            .with_header("allow", allow),
            None => error(404, "not_found", "Diese Adresse gibt es nicht."),
        },
    }
}

/// The methods a route answers, for the `Allow` header of a 405; `None` for no route.
fn allowed_methods(route: &[&str]) -> Option<&'static str> {
    Some(match route {
        ["api", "applications"]
        | ["api", "status"]
        | ["api", "termin", "status"]
        | ["api", "applications" | "office", "applications", _, "messages"]
        | ["api", "applications", _, "messages"] => "GET, HEAD, POST",
        ["api", "office", "applications", _] | ["api", "appointments", _] => "GET, HEAD, DELETE",
        ["api", "appointments"]
        | ["api", "appointments", _, "cancel"]
        | ["api", "office", "appointments", _, "cancel"] => "POST",
        ["api", "logout"]
        | ["api", "amt", "logout"]
        | ["api", "payment", "retry"]
        | ["api", "office", "applications", _, "status"] => "POST",
        ["api", "applications", _]
        | ["api", "receipt"]
        | ["api", "login" | "callback" | "session" | "postfach"]
        | ["api", "vorgang"]
        | ["api", "payment", "return"]
        | ["api", "applications", _, "attachments", _]
        | ["api", "office", "applications", _, "attachments", _]
        | ["api", "office", _, _, "applications" | "counts" | "audit" | "appointments"]
        | ["api", "appointments", _, _, "slots"]
        | ["api", "appointments", _, "ics"]
        | ["api", "termin"]
        | ["api", "termin", "bestaetigung"]
        | ["api", "office", "applications", _, "export"]
        | ["api", "amt", "login" | "callback" | "session"] => "GET, HEAD",
        _ => return None,
    })
}

/// The largest body a route reads: the message routes take files, all others the
/// configured limit (SPEC: 64 KiB). The adapters read no further than this (plus one
/// byte, to tell a body over it), so an oversized upload is 413 before it is read.
pub fn body_limit(config: &Config, path: &str) -> usize {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match segments.as_slice() {
        ["api", "applications", _, "messages"]
        | ["api", "office", "applications", _, "messages"] => {
            crate::conversation::MESSAGE_BODY_LIMIT
        }
        _ => config.body_limit,
    }
}

/// The German message of a JSON error answer.
pub(crate) fn error_message(response: &Response) -> String {
    serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_string))
        .unwrap_or_else(|| "Ihre Anfrage konnte nicht bearbeitet werden.".into())
}

/// A JSON error answer: `{"error": code, "message": German text}`.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(status, &json!({"error": code, "message": message}))
}

/// The functions' pages' Content-Security-Policy; `form_targets` are origins a form may
/// lead to besides the site (the payment provider, for a paid service's forms: browsers
/// hold `form-action` to the redirect after the submission too).
pub(crate) fn content_security_policy(form_targets: &[String]) -> String {
    let mut targets = String::from("'self'");
    for origin in form_targets {
        targets.push(' ');
        targets.push_str(origin);
    }
    format!("default-src 'none'; style-src 'self'; img-src 'self'; form-action {targets}; frame-ancestors 'none'; base-uri 'none'")
}

pub(crate) fn with_security_headers(response: Response) -> Response {
    // A page that allows its forms more (a payment provider) set its own policy.
    let policy = response
        .header("content-security-policy")
        .map(str::to_string)
        .unwrap_or_else(|| content_security_policy(&[]));
    response
        .with_header("content-security-policy", &policy)
        .with_header(
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        )
        .with_header("x-content-type-options", "nosniff")
        .with_header("x-frame-options", "DENY")
        .with_header("referrer-policy", "no-referrer")
        .with_header("cache-control", "no-store")
}

/// The bearer token of an `Authorization` header.
pub(crate) fn bearer(request: &Request) -> Option<&str> {
    let value = request.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
