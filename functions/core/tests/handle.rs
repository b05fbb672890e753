//! The functions natively, without a server: arbitrary requests never panic, storage
//! failures answer 503 and lose nothing, and the store holds no plaintext.

use std::cell::Cell;

use futures_executor::block_on;
use lotse_envelope::PrivateKey;
use lotse_functions::auth::NoNetwork;
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::store::{Completion, IdempotencyRecord, RateSlot, StatusEntry, StoreResult};
use lotse_functions::{
    handle, App, Config, Forms, OfficeTokens, Request, Store, StoreError, StoredApplication,
};
use lotse_model::{FieldType, FormField, FormSchema, TrustLevel};
use proptest::prelude::*;

struct OneForm(FormSchema);

impl Forms for OneForm {
    async fn schema(&self, portal: &str, service: &str) -> Option<FormSchema> {
        (portal == self.0.portal && service == self.0.service).then(|| self.0.clone())
    }

    async fn offices(&self, portal: &str) -> Option<Vec<String>> {
        (portal == self.0.portal).then(|| vec![self.0.office.clone()])
    }
}

fn schema(public_key: String) -> FormSchema {
    let field = |id: &str, kind: FieldType, required: bool| FormField {
        required,
        ..FormField::new(id, id, kind)
    };
    FormSchema {
        portal: "musterstadt".into(),
        service: "hund-anmelden".into(),
        title: "Hund anmelden".into(),
        office: "steueramt".into(),
        public_key,
        login: TrustLevel::None,
        fields: vec![
            field("name", FieldType::Text, true),
            field("iban", FieldType::Iban, false),
        ],
    }
}

fn app<S: Store>(store: S) -> (App<S, OneForm, NoNetwork>, PrivateKey) {
    let (private, public) = PrivateKey::generate();
    let app = App {
        store,
        forms: OneForm(schema(public.to_base64())),
        http: NoNetwork,
        config: Config {
            office_tokens: OfficeTokens::All("office-token-0123456789".into()),
            ..Config::default()
        },
    };
    (app, private)
}

fn post(body: &str) -> Request {
    Request {
        method: "POST".into(),
        path: "/api/applications".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
        client: "192.0.2.1".into(),
        now_ms: 1_795_462_200_000,
        ..Request::default()
    }
}

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
    async fn set_status(&self, _: &str, _: &StatusEntry) -> StoreResult<bool> {
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
    let answer = block_on(handle(&app, post(VALID)));
    assert_eq!(answer.status, 503);
    assert!(answer.header("retry-after").is_some());
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["error"], "unavailable");
    assert!(app.store.calls.get() >= 1);
}

#[test]
fn an_accepted_application_is_stored_encrypted_and_decryptable() {
    let (app, private) = app(SqliteStore::in_memory().unwrap());
    let answer = block_on(handle(&app, post(VALID)));
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

fn arbitrary_request() -> impl Strategy<Value = Request> {
    let methods = prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "OPTIONS", "G\u{0}T"]);
    let paths = prop_oneof![
        Just("/api/applications".to_string()),
        Just("/api/status".to_string()),
        Just("/api/receipt".to_string()),
        "/api/applications/[A-Z0-9-]{0,12}",
        "/api/office/[a-z]{0,8}/[a-z]{0,8}/applications",
        "/api/office/applications/[A-Z0-9-]{0,12}/status",
        "/[ -~]{0,40}",
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
        "[ -~]{0,200}".prop_map(String::into_bytes),
        r#"\{"portal":"musterstadt","service":"hund-anmelden","fields":\{"name":"[^"]{0,20}","x":[0-9]{1,3}\}\}"#.prop_map(String::into_bytes),
        "portal=musterstadt&service=hund-anmelden&name=[a-z%]{0,20}&iban=[A-Z0-9 ]{0,30}".prop_map(String::into_bytes),
    ];
    let header_values = "[ -~]{0,60}";
    (
        methods,
        paths,
        "[ -~]{0,40}",
        content_types,
        bodies,
        header_values,
        header_values,
        any::<u64>(),
    )
        .prop_map(
            |(method, path, query, content_type, body, origin, auth, now_ms)| {
                let mut headers = vec![];
                if !content_type.is_empty() {
                    headers.push(("content-type".to_string(), content_type.to_string()));
                }
                if origin.len() % 3 == 0 {
                    headers.push(("origin".to_string(), origin));
                }
                headers.push(("authorization".to_string(), format!("Bearer {auth}")));
                headers.push((
                    "accept".to_string(),
                    if now_ms % 2 == 0 { "text/html" } else { "*/*" }.to_string(),
                ));
                Request {
                    method: method.to_string(),
                    path,
                    query,
                    headers,
                    body,
                    client: "198.51.100.7".into(),
                    now_ms,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn no_request_panics_and_every_answer_is_well_formed(request in arbitrary_request()) {
        let (app, _) = app(SqliteStore::in_memory().unwrap());
        let answer = block_on(handle(&app, request));
        prop_assert!((200..600).contains(&answer.status));
        prop_assert!(answer.header("content-security-policy").is_some());
        prop_assert!(answer.status != 500);
    }
}

/// Mein Postfach links applications to the account under `AccountKey`, not under the
/// rotating session keys: after three rotations (each server generation knows only the
/// current and the previous key) the first application is still listed.
#[test]
fn mein_postfach_keeps_its_applications_across_three_session_key_rotations() {
    use lotse_functions::auth::{AccountKey, Oidc, OidcConfig, Session, SessionKeys};
    use lotse_functions::LoginSetup;
    use lotse_model::{AcrMap, LoginConfig};

    let store = SqliteStore::in_memory().unwrap();
    let (mut app, _) = app(store);
    let login = LoginConfig {
        issuer: "https://id.example.de".into(),
        client_id: "lotse".into(),
        acr: AcrMap::default(),
    };
    let oidc = std::sync::Arc::new(Oidc::new(
        OidcConfig::new(&login, "client-secret", "https://portal.example.de").unwrap(),
    ));
    let accounts = AccountKey::from_bytes([42; 32]);
    let keys = |current: u8, previous: Option<u8>| SessionKeys {
        current: [current; 32],
        previous: previous.map(|p| [p; 32]),
    };
    let now = 1_795_462_200_000;
    let session = Session {
        sub: "buerger-4711".into(),
        level: TrustLevel::Substantial,
        acr: "STORK-QAA-Level-3".into(),
        given_name: None,
        family_name: None,
        email: None,
        address: None,
        exp: now + 60_000,
    };
    let cookie = |keys: &SessionKeys| format!("lotse_session={}", session.seal(keys, now));

    let first = keys(1, None);
    app.config.login = Some(LoginSetup {
        oidc: oidc.clone(),
        keys: first.clone(),
        accounts: accounts.clone(),
    });
    let mut submit = post(VALID);
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
            now_ms: now,
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
