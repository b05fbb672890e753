//! The functions natively, without a server: arbitrary requests never panic, storage
//! failures answer 503 and lose nothing, and the store holds no plaintext.

mod common;

use std::cell::Cell;

use common::{
    app, config, login_setup, oidc, post, schema, session_cookie, Catalogue, ISSUER, NOW,
    OFFICE_TOKEN,
};
use futures_executor::block_on;
use lotse_envelope::PrivateKey;
use lotse_functions::auth::{AccountKey, AuthError, HttpClient, SessionKeys};
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::store::{
    AuditEntry, Completion, IdempotencyRecord, OfficeCounts, OfficeQuery, OutboxEntry, RateSlot,
    StatusEntry, StoreResult, StoredAppointment, StoredAttachment, StoredMessage, StoredPayment,
};
use lotse_functions::{
    handle, App, Config, LoginSetup, Request, Store, StoreError, StoredApplication,
};
use lotse_model::{FormSchema, TrustLevel};
use proptest::prelude::*;

const VALID: &str = r#"{"portal":"musterstadt","service":"hund-anmelden","fields":{"name":"Erika Klartext","iban":"DE89 3704 0044 0532 0130 00"}}"#;

/// A store whose every call fails, as when D1 is unreachable. (A real database cannot be
/// made to fail on demand here; this is the one stand-in in the suite.)
struct BrokenStore {
    calls: Cell<u32>,
}

impl Store for BrokenStore {
    async fn insert_application(
        &self,
        _: &StoredApplication,
        _: Option<Completion<'_>>,
        _: Option<&StoredPayment>,
    ) -> StoreResult<bool> {
        self.fail()
    }
    async fn payment(&self, _: &str) -> StoreResult<Option<StoredPayment>> {
        self.fail()
    }
    async fn due_payments(&self, _: u64, _: u32) -> StoreResult<Vec<StoredPayment>> {
        self.fail()
    }
    async fn set_payment_transaction(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> StoreResult<()> {
        self.fail()
    }
    async fn retry_payment(&self, _: &str, _: u32, _: u64) -> StoreResult<bool> {
        self.fail()
    }
    async fn set_payment_status(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
        _: u64,
        _: &str,
    ) -> StoreResult<bool> {
        self.fail()
    }
    async fn application(&self, _: &str) -> StoreResult<Option<StoredApplication>> {
        self.fail()
    }
    async fn history(&self, _: &str) -> StoreResult<Vec<StatusEntry>> {
        self.fail()
    }
    async fn account_applications(&self, _: &[String]) -> StoreResult<Vec<StoredApplication>> {
        self.fail()
    }
    async fn office_applications(&self, _: &str, _: &str) -> StoreResult<Vec<StoredApplication>> {
        self.fail()
    }
    async fn office_page(&self, _: &OfficeQuery) -> StoreResult<Vec<StoredApplication>> {
        self.fail()
    }
    async fn office_counts(&self, _: &str, _: &str) -> StoreResult<OfficeCounts> {
        self.fail()
    }
    async fn set_status(
        &self,
        _: &str,
        _: &StatusEntry,
        _: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        self.fail()
    }
    async fn record_audit(&self, _: &AuditEntry) -> StoreResult<()> {
        self.fail()
    }
    async fn audit_log(
        &self,
        _: &str,
        _: &str,
        _: Option<i64>,
        _: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        self.fail()
    }
    async fn idempotency_record(&self, _: &str) -> StoreResult<Option<IdempotencyRecord>> {
        self.fail()
    }
    async fn claim_idempotency(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: u64,
        _: u64,
    ) -> StoreResult<IdempotencyRecord> {
        self.fail()
    }
    async fn release_idempotency(&self, _: &str, _: &str) -> StoreResult<()> {
        self.fail()
    }
    async fn take_rate_slot(&self, _: &str, _: u64, _: u64, _: u32) -> StoreResult<RateSlot> {
        // Let rate limiting pass so the insert itself is what fails.
        Ok(RateSlot::Taken)
    }
    async fn insert_message(
        &self,
        _: &StoredMessage,
        _: &[StoredAttachment],
        _: Option<&StatusEntry>,
        _: Option<&OutboxEntry>,
        _: Option<&AuditEntry>,
    ) -> StoreResult<bool> {
        self.fail()
    }
    async fn due_notifications(&self, _: u64, _: u32) -> StoreResult<Vec<OutboxEntry>> {
        self.fail()
    }
    async fn claim_notification(&self, _: &str, _: u64, _: u64) -> StoreResult<bool> {
        self.fail()
    }
    async fn notification_done(&self, _: &OutboxEntry) -> StoreResult<()> {
        self.fail()
    }
    async fn prune_notifications(&self, _: u64) -> StoreResult<()> {
        self.fail()
    }
    async fn notification_failed(&self, _: &str, _: u32, _: u64) -> StoreResult<()> {
        self.fail()
    }
    async fn messages(&self, _: &str) -> StoreResult<Vec<StoredMessage>> {
        self.fail()
    }
    async fn attachment(&self, _: &str, _: &str) -> StoreResult<Option<StoredAttachment>> {
        self.fail()
    }
    async fn attachments(&self, _: &str) -> StoreResult<Vec<StoredAttachment>> {
        self.fail()
    }
    async fn set_citizen_key(&self, _: &str, _: &str) -> StoreResult<()> {
        self.fail()
    }
    async fn set_citizen_seen(&self, _: &str, _: &str) -> StoreResult<()> {
        self.fail()
    }
    async fn delete_application(&self, _: &str, _: Option<&AuditEntry>) -> StoreResult<()> {
        self.fail()
    }
    async fn payments(&self, _: &[String]) -> StoreResult<Vec<StoredPayment>> {
        self.fail()
    }
    async fn book_appointment(&self, _: &StoredAppointment, _: &[i64]) -> StoreResult<bool> {
        self.fail()
    }
    async fn appointment(&self, _: &str) -> StoreResult<Option<StoredAppointment>> {
        self.fail()
    }
    async fn seats_taken(&self, _: &str, _: &str, _: i64, _: i64) -> StoreResult<Vec<(i64, u32)>> {
        self.fail()
    }
    async fn cancel_appointment(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Option<&str>,
        _: Option<&OutboxEntry>,
    ) -> StoreResult<bool> {
        self.fail()
    }
    async fn office_appointments(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: i64,
    ) -> StoreResult<Vec<StoredAppointment>> {
        self.fail()
    }
    async fn account_appointments(&self, _: &[String]) -> StoreResult<Vec<StoredAppointment>> {
        self.fail()
    }
    async fn queue_reminders(&self, _: i64) -> StoreResult<()> {
        self.fail()
    }
    async fn put_object(&self, _: &str, _: &[u8]) -> StoreResult<()> {
        self.fail()
    }
    async fn object(&self, _: &str) -> StoreResult<Option<Vec<u8>>> {
        self.fail()
    }
    async fn delete_object(&self, _: &str) -> StoreResult<()> {
        self.fail()
    }
}

impl BrokenStore {
    fn fail<T>(&self) -> StoreResult<T> {
        self.calls.set(self.calls.get() + 1);
        Err(StoreError("disk on fire".into()))
    }
}

#[test]
fn storage_failures_answer_503_with_a_reason() {
    let (app, _) = app(BrokenStore {
        calls: Cell::new(0),
    });
    let answer = block_on(handle(&app, post(NOW, None, VALID)));
    assert_eq!(answer.status, 503);
    assert!(answer.header("retry-after").is_some());
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["error"], "unavailable");
    assert!(app.store.calls.get() >= 1);
}

#[test]
fn an_accepted_application_is_stored_encrypted_and_decryptable() {
    let (app, private) = app(SqliteStore::in_memory().unwrap());
    let answer = block_on(handle(&app, post(NOW, None, VALID)));
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    let id = body["id"].as_str().unwrap();
    let stored = block_on(app.store.application(id)).unwrap().unwrap();
    for plaintext in ["Erika Klartext", "DE89", body["token"].as_str().unwrap()] {
        assert!(
            !format!("{stored:?}").contains(plaintext),
            "{plaintext} stored in clear"
        );
    }
    let envelope = lotse_envelope::Envelope::from_json(&stored.envelope).unwrap();
    assert_eq!(envelope.routing.id, id);
    assert_eq!(envelope.routing.office, "steueramt");
    let opened: serde_json::Value =
        serde_json::from_slice(&lotse_envelope::open(&private, &envelope).unwrap()).unwrap();
    assert_eq!(opened["fields"]["name"], "Erika Klartext");
    assert_eq!(opened["fields"]["iban"], "DE89370400440532013000");
}

/// Answers the provider's discovery document and nothing else: a login starts without a
/// network, and a callback never gets past its checks to a token exchange.
struct DiscoveryOnly;

impl HttpClient for DiscoveryOnly {
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, AuthError> {
        if url == format!("{ISSUER}/.well-known/openid-configuration") {
            return Ok(serde_json::json!({
                "issuer": ISSUER,
                "authorization_endpoint": format!("{ISSUER}/auth"),
                "token_endpoint": format!("{ISSUER}/token"),
                "jwks_uri": format!("{ISSUER}/jwks"),
            }));
        }
        Err(AuthError::Provider(format!("no network for {url}")))
    }

    async fn post_form(
        &self,
        url: &str,
        _: &[(&str, &str)],
        _: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), AuthError> {
        Err(AuthError::Provider(format!("no network for {url}")))
    }
}

/// The app with login on, every kind of form, and one office token for all.
fn login_app<S: Store>(store: S) -> App<S, Catalogue, DiscoveryOnly> {
    let (_, public) = PrivateKey::generate();
    let open = schema("hund-anmelden", &public.to_base64());
    let gated = FormSchema {
        service: "gewerbe-anmelden".into(),
        title: "Gewerbe anmelden".into(),
        login: TrustLevel::Substantial,
        ..open.clone()
    };
    App {
        store,
        forms: Catalogue(vec![open, gated]),
        http: DiscoveryOnly,
        config: Config {
            login: Some(login_setup()),
            staff_login: Some(staff_login()),
            ..config()
        },
    }
}

/// Staff login at the same provider, with keys of its own.
fn staff_login() -> lotse_functions::auth::staff::StaffLogin {
    let login = lotse_model::OfficeLoginConfig {
        issuer: ISSUER.into(),
        client_id: "lotse-arbeitsplatz".into(),
        offices_claim: "lotse_offices".into(),
    };
    lotse_functions::auth::staff::StaffLogin {
        oidc: std::sync::Arc::new(lotse_functions::auth::Oidc::new(
            lotse_functions::auth::OidcConfig::for_staff(
                &login,
                "secret",
                "https://portal.example.de",
            )
            .unwrap(),
        )),
        keys: SessionKeys::random(),
        offices_claim: login.offices_claim,
    }
}

/// What the generated request carries; `{ID}` and `{TOKEN}` in its text are replaced by
/// an application stored before the request.
#[derive(Clone, Debug)]
struct Draft {
    method: &'static str,
    path: String,
    query: String,
    content_type: &'static str,
    body: Vec<u8>,
    origin: Option<&'static str>,
    authorization: Option<String>,
    cookie: u8,
    html: bool,
    idempotency_key: Option<String>,
    broken: bool,
}

fn drafts() -> impl Strategy<Value = Draft> {
    let methods = prop::sample::select(vec![
        "GET", "GET", "POST", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "G\u{0}T",
    ]);
    let paths = prop_oneof![
        Just("/api/applications".to_string()),
        Just("/api/applications/{ID}".to_string()),
        "/api/applications/[A-Z0-9-]{0,12}",
        Just("/api/login".to_string()),
        Just("/api/callback".to_string()),
        Just("/api/session".to_string()),
        Just("/api/logout".to_string()),
        Just("/api/postfach".to_string()),
        Just("/api/receipt".to_string()),
        Just("/api/status".to_string()),
        Just("/api/office/musterstadt/steueramt/applications".to_string()),
        "/api/office/[a-z]{0,8}/[a-z]{0,8}/applications",
        Just("/api/office/applications/{ID}/status".to_string()),
        "/api/office/applications/[A-Z0-9-]{0,12}/status",
        "/api/office/musterstadt/steueramt/(counts|audit|appointments)",
        "/api/office/applications/(\\{ID\\}|[A-Z0-9-]{0,12})(/export)?",
        "/api/office/appointments/(\\{ID\\}|[A-Z0-9-]{0,12})/cancel",
        "/api/appointments(/musterstadt/hund-anmelden/slots)?",
        "/api/appointments/(\\{ID\\}|[A-Z0-9-]{0,12})(/ics|/cancel)?",
        "/api/termin(/bestaetigung|/status)?",
        "/api/amt/(login|callback|session|logout)",
        "/[ -~]{0,40}",
    ];
    let trailing = any::<bool>();
    let queries = prop_oneof![
        "[ -~]{0,40}",
        Just("id={ID}".to_string()),
        Just("id={ID}&token={TOKEN}".to_string()),
        "portal=(musterstadt|x y|)&return=(/musterstadt/|//evil.example|/api/postfach)&level=(low|substantial|high|hoch)",
        "code=[a-z0-9]{0,10}&state=[a-z0-9]{0,10}(&error=access_denied)?",
        Just("portal=musterstadt".to_string()),
        "date=2026-1[0-9]-[0-3][0-9]",
        "from=2026-12-0[0-9]&days=[0-9]{1,3}",
        "limit=[0-9]{0,3}&cursor=[ -~]{0,20}&status=[a-z_,]{0,20}&order=(newest|oldest|x)",
        "format=(json|print|pdf)",
        "portal=musterstadt&service=hund-anmelden&from=[ -~]{0,12}",
    ];
    let content_types = prop::sample::select(vec![
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/json; charset=utf-8",
        "",
    ]);
    let bodies = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        Just(VALID.as_bytes().to_vec()),
        Just(VALID.replace("hund-anmelden", "gewerbe-anmelden").into_bytes()),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        r#"\{"portal":"musterstadt","service":"hund-anmelden","fields":\{"name":"[^"]{0,20}","x":[0-9]{1,3}\}\}"#.prop_map(String::into_bytes),
        "portal=musterstadt&service=(hund|gewerbe)-anmelden&name=[a-z%]{0,20}&iban=[A-Z0-9 ]{0,30}".prop_map(String::into_bytes),
        Just(b"id={ID}&token={TOKEN}".to_vec()),
        r#"\{"status":"(in_progress|completed|erledigt)","note":"[ -~]{0,20}"\}"#.prop_map(String::into_bytes),
        "return=(/musterstadt/|https://evil.example/)".prop_map(String::into_bytes),
        Just(vec![b'x'; 70 * 1024]),
    ];
    let origins = prop::sample::select(vec![
        None,
        None,
        Some("https://portal.example.de"),
        Some("https://evil.example"),
        Some("null"),
    ]);
    let authorizations = prop_oneof![
        Just(None),
        Just(Some(format!("Bearer {OFFICE_TOKEN}"))),
        Just(Some("Bearer {TOKEN}".to_string())),
        "[ -~]{0,60}".prop_map(|a| Some(format!("Bearer {a}"))),
    ];
    (
        (methods, paths, trailing, queries, content_types, bodies),
        (
            origins,
            authorizations,
            0u8..5,
            any::<bool>(),
            prop::option::of("[ -~]{0,30}"),
            prop::bool::weighted(0.2),
        ),
    )
        .prop_map(
            |(
                (method, path, trailing, query, content_type, body),
                (origin, authorization, cookie, html, idempotency_key, broken),
            )| Draft {
                method,
                path: if trailing { format!("{path}/") } else { path },
                query,
                content_type,
                body,
                origin,
                authorization,
                cookie,
                html,
                idempotency_key,
                broken,
            },
        )
}

/// The statuses a route may answer with a working store; `None` for no route.
fn allowed_statuses(method: &str, path: &str, office_token: bool) -> Option<&'static [u16]> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let method = if method == "HEAD" { "GET" } else { method };
    let route: &[u16] = match (method, segments.as_slice()) {
        ("POST", ["api", "applications"]) => {
            &[201, 303, 400, 401, 403, 404, 409, 413, 415, 422, 429]
        }
        ("GET", ["api", "applications"]) => &[200, 401],
        ("GET", ["api", "applications", _]) => &[200, 404],
        ("GET", ["api", "login"]) => &[303, 400],
        ("GET", ["api", "callback"]) => &[303, 400, 403],
        ("GET", ["api", "session" | "postfach" | "status"]) => &[200],
        ("POST", ["api", "logout"]) => &[200, 303, 403],
        ("GET", ["api", "receipt"]) => &[200, 404],
        ("POST", ["api", "status"]) => &[200, 403, 404, 413, 415],
        ("GET", ["api", "office", _, _, "applications"]) if office_token => &[200, 400, 403, 404],
        ("POST", ["api", "office", "applications", _, "status"]) if office_token => {
            &[200, 400, 404, 413, 415]
        }
        ("GET", ["api", "office", _, _, "counts" | "audit" | "appointments"]) if office_token => {
            &[200, 400, 403, 404]
        }
        (
            "GET",
            ["api", "office", "applications", _] | ["api", "office", "applications", _, "export"],
        ) if office_token => &[200, 400, 404],
        ("GET", ["api", "office", _, _, "applications" | "counts" | "audit" | "appointments"])
        | (
            "GET",
            ["api", "office", "applications", _] | ["api", "office", "applications", _, "export"],
        )
        | ("POST", ["api", "office", "applications", _, "status"]) => &[401],
        ("GET", ["api", "appointments", _, _, "slots"]) => &[200, 400, 404],
        ("POST", ["api", "appointments"]) => &[201, 303, 400, 401, 403, 404, 409, 413, 415, 429],
        ("GET", ["api", "appointments", _] | ["api", "appointments", _, "ics"]) => &[200, 404],
        ("GET", ["api", "termin"] | ["api", "termin", "bestaetigung" | "status"]) => &[200, 404],
        ("POST", ["api", "termin", "status"]) => &[303, 403, 404, 413, 415],
        ("DELETE", ["api", "appointments", _]) => &[200, 403, 404, 409],
        ("DELETE", ["api", "office", "applications", _]) if office_token => &[204, 404],
        ("DELETE", ["api", "office", "applications", _]) => &[401, 403],
        ("POST", ["api", "appointments", _, "cancel"]) => &[303, 403, 404, 409, 413, 415],
        ("POST", ["api", "office", "appointments", _, "cancel"]) if office_token => {
            &[200, 400, 404, 409, 413, 415]
        }
        ("POST", ["api", "office", "appointments", _, "cancel"]) => &[401, 403],
        ("GET", ["api", "amt", "session"]) => &[200],
        ("GET", ["api", "amt", "login"]) => &[303, 400],
        ("GET", ["api", "amt", "callback"]) => &[303, 400, 403],
        ("POST", ["api", "amt", "logout"]) => &[200, 403],
        (
            _,
            ["api", "applications" | "receipt" | "status" | "login" | "callback" | "session" | "logout"
            | "postfach"]
            | ["api", "applications", _]
            | ["api", "office", _, _, "applications" | "counts" | "audit" | "appointments"]
            | ["api", "office", "applications", _, "status" | "export"]
            | ["api", "office", "applications", _]
            | ["api", "office", "appointments", _, "cancel"]
            | ["api", "appointments", _, _, "slots"]
            | ["api", "appointments"]
            | ["api", "appointments", _]
            | ["api", "appointments", _, "ics" | "cancel"]
            | ["api", "termin"]
            | ["api", "termin", "bestaetigung" | "status"]
            | ["api", "amt", "login" | "callback" | "session" | "logout"],
        ) => &[405],
        _ => return None,
    };
    Some(route)
}

const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("content-security-policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// Stores one application and builds the request from the draft.
fn prepare<S: Store>(app: &App<S, Catalogue, DiscoveryOnly>, draft: &Draft) -> (Request, String) {
    let stored = block_on(handle(app, post(NOW, None, VALID)));
    let (id, token) = if stored.status == 201 {
        let body: serde_json::Value = serde_json::from_slice(&stored.body).unwrap();
        (
            body["id"].as_str().unwrap().to_string(),
            body["token"].as_str().unwrap().to_string(),
        )
    } else {
        ("ZZZZ-ZZZZ".to_string(), "Z".repeat(26))
    };
    let fill = |text: &str| text.replace("{ID}", &id).replace("{TOKEN}", &token);
    let keys = &app.config.login.as_ref().unwrap().keys;
    let mut headers = vec![];
    if !draft.content_type.is_empty() {
        headers.push(("content-type".to_string(), draft.content_type.to_string()));
    }
    if let Some(origin) = draft.origin {
        headers.push(("origin".to_string(), origin.to_string()));
    }
    if let Some(authorization) = &draft.authorization {
        headers.push(("authorization".to_string(), fill(authorization)));
    }
    let cookie = match draft.cookie {
        1 => Some(session_cookie(TrustLevel::Low, keys)),
        2 => Some(session_cookie(TrustLevel::Substantial, keys)),
        3 => Some("lotse_session=kaputt; lotse_login=auch-kaputt".to_string()),
        4 => Some(format!("lotse_receipt_{}=kaputt", id.replace('-', ""))),
        _ => None,
    };
    if let Some(cookie) = cookie {
        headers.push(("cookie".to_string(), cookie));
    }
    if let Some(key) = &draft.idempotency_key {
        headers.push(("idempotency-key".to_string(), key.clone()));
    }
    headers.push((
        "accept".to_string(),
        if draft.html { "text/html" } else { "*/*" }.to_string(),
    ));
    let body = match String::from_utf8(draft.body.clone()) {
        Ok(text) => fill(&text).into_bytes(),
        Err(_) => draft.body.clone(),
    };
    let request = Request {
        method: draft.method.to_string(),
        path: fill(&draft.path),
        query: fill(&draft.query),
        headers,
        body,
        client: "198.51.100.7".into(),
        now_ms: NOW,
        ..Request::default()
    };
    (request, token)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    /// Every route, with login on, with and without a session, an office token, the
    /// token of a stored application; on a working store and on one that fails. The
    /// oracles can fail: the statuses each route and method may answer, the security
    /// headers on every answer, JSON that parses, never a 5xx but the broken store's 503,
    /// and no token in the operator's log.
    #[test]
    fn every_route_answers_within_its_statuses_with_login_on(draft in drafts()) {
        let answer_of = |request: Request| -> lotse_functions::Response {
            if draft.broken {
                let app = login_app(BrokenStore { calls: Cell::new(0) });
                block_on(handle(&app, request))
            } else {
                let app = login_app(SqliteStore::in_memory().unwrap());
                block_on(handle(&app, request))
            }
        };
        // The stored application (when the store works) for `{ID}` and `{TOKEN}`.
        let app = login_app(SqliteStore::in_memory().unwrap());
        let (request, token) = prepare(&app, &draft);
        let answer = if draft.broken {
            answer_of(request.clone())
        } else {
            block_on(handle(&app, request.clone()))
        };
        let what = format!("{} {}?{} -> {}: {}", request.method.escape_debug(), request.path, request.query, answer.status, String::from_utf8_lossy(&answer.body).chars().take(300).collect::<String>());

        let office_token = request.header("authorization") == Some(&format!("Bearer {OFFICE_TOKEN}"));
        let allowed = allowed_statuses(&request.method, &request.path, office_token);
        match allowed {
            Some(statuses) => prop_assert!(
                statuses.contains(&answer.status) || (draft.broken && answer.status == 503),
                "{what}: allowed {statuses:?}"
            ),
            None => prop_assert_eq!(answer.status, 404, "{}", what),
        }
        prop_assert!(answer.status < 500 || (draft.broken && answer.status == 503), "{what}");
        for (name, value) in SECURITY_HEADERS {
            prop_assert_eq!(answer.header(name), Some(value), "{}: {}", name, what);
        }
        let content_type = answer.header("content-type").unwrap_or("");
        if content_type.starts_with("application/json") {
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&answer.body).is_ok(), "{what}");
        }
        if content_type.starts_with("text/html") {
            prop_assert!(answer.body.starts_with(b"<!DOCTYPE html>"), "{what}");
        }
        if answer.status == 303 {
            prop_assert!(answer.header("location").is_some_and(|l| l.starts_with('/') || l.starts_with(ISSUER)), "{what}");
        }
        if answer.status == 503 {
            prop_assert!(answer.header("retry-after").is_some(), "{what}");
        }
        if answer.status == 401 && request.path.starts_with("/api/office/") {
            prop_assert_eq!(answer.header("www-authenticate"), Some("Bearer"), "{}", what);
        }
        for line in &answer.log {
            prop_assert!(!line.contains(&token), "the token in the log: {line}");
        }
    }
}

/// Mein Postfach links applications to the account under `AccountKey`, not under the
/// rotating session keys: after three rotations (each server generation knows only the
/// current and the previous key) the first application is still listed.
#[test]
fn mein_postfach_keeps_its_applications_across_three_session_key_rotations() {
    let store = SqliteStore::in_memory().unwrap();
    let (mut app, _) = app(store);
    let oidc = oidc();
    let accounts = AccountKey::from_bytes([42; 32]);
    let keys = |current: u8, previous: Option<u8>| SessionKeys {
        current: [current; 32],
        previous: previous.map(|p| [p; 32]),
    };
    let cookie = |keys: &SessionKeys| session_cookie(TrustLevel::Substantial, keys);

    let first = keys(1, None);
    app.config.login = Some(LoginSetup {
        oidc: oidc.clone(),
        keys: first.clone(),
        accounts: accounts.clone(),
    });
    let mut submit = post(NOW, None, VALID);
    submit.headers.push(("cookie".into(), cookie(&first)));
    let answer = block_on(handle(&app, submit));
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let id = serde_json::from_slice::<serde_json::Value>(&answer.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    for (current, previous) in [(2, 1), (3, 2), (4, 3)] {
        let rotated = keys(current, Some(previous));
        app.config.login = Some(LoginSetup {
            oidc: oidc.clone(),
            keys: rotated.clone(),
            accounts: accounts.clone(),
        });
        let mailbox = Request {
            method: "GET".into(),
            path: "/api/applications".into(),
            headers: vec![("cookie".into(), cookie(&rotated))],
            now_ms: NOW,
            ..Request::default()
        };
        let answer = block_on(handle(&app, mailbox));
        let body = String::from_utf8_lossy(&answer.body);
        assert_eq!(answer.status, 200, "rotation {current}: {body}");
        assert!(
            body.contains(&id),
            "rotation {current}: {id} is gone: {body}"
        );
    }
}
