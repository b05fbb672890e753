//! Fixtures shared by the native tests of the functions: the form schema, the `Forms`
//! catalogues, the app and its configuration, login and session cookies, and request
//! builders.
//!
//! Each test binary uses a different subset, hence the blanket `dead_code` allowance.
#![allow(dead_code)]

use std::sync::Arc;

use lotse_envelope::PrivateKey;
use lotse_functions::auth::{AccountKey, NoNetwork, Oidc, OidcConfig, Session, SessionKeys};
use lotse_functions::{App, Config, Forms, LoginSetup, OfficeTokens, Request, Store};
use lotse_model::{AcrMap, FieldType, FormField, FormSchema, LoginConfig, TrustLevel};

/// The fake clock of every request: 2026-11-23, 19:30 UTC.
pub const NOW: u64 = 1_795_462_200_000;
/// The one office token of the test apps, good for every office.
pub const OFFICE_TOKEN: &str = "office-token-0123456789";
/// The title of every form of the schema below.
pub const TITLE: &str = "Hund anmelden";
/// The login provider of the test apps.
pub const ISSUER: &str = "https://id.example.de";

/// One form, the only one its portal knows.
pub struct OneForm(pub FormSchema);

impl Forms for OneForm {
    async fn schema(&self, portal: &str, service: &str) -> Option<FormSchema> {
        (portal == self.0.portal && service == self.0.service).then(|| self.0.clone())
    }

    async fn offices(&self, portal: &str) -> Option<Vec<String>> {
        (portal == self.0.portal).then(|| vec![self.0.office.clone()])
    }
}

/// Several forms; a portal's offices are those its forms go to.
pub struct Catalogue(pub Vec<FormSchema>);

impl Forms for Catalogue {
    async fn schema(&self, portal: &str, service: &str) -> Option<FormSchema> {
        self.0
            .iter()
            .find(|s| s.portal == portal && s.service == service)
            .cloned()
    }

    async fn offices(&self, portal: &str) -> Option<Vec<String>> {
        let offices: Vec<String> = self
            .0
            .iter()
            .filter(|s| s.portal == portal)
            .map(|s| s.office.clone())
            .collect();
        (!offices.is_empty()).then_some(offices)
    }
}

/// A form of Musterstadt's Steueramt for anybody: a required name, an optional IBAN.
pub fn schema(service: &str, public_key: &str) -> FormSchema {
    FormSchema {
        portal: "musterstadt".into(),
        service: service.into(),
        title: TITLE.into(),
        office: "steueramt".into(),
        public_key: public_key.into(),
        login: TrustLevel::None,
        fields: vec![
            FormField {
                required: true,
                ..FormField::new("name", "Name", FieldType::Text)
            },
            FormField::new("iban", "IBAN", FieldType::Iban),
        ],
        fee: None,
    }
}

/// The configuration of the test apps: the office token, the rest the defaults.
pub fn config() -> Config {
    Config {
        office_tokens: OfficeTokens::default().with_every_office(OFFICE_TOKEN),
        ..Config::default()
    }
}

/// The app with the one form `hund-anmelden`, without login, and the office's private key.
pub fn app<S: Store>(store: S) -> (App<S, OneForm, NoNetwork>, PrivateKey) {
    let (private, public) = PrivateKey::generate();
    let app = App {
        store,
        forms: OneForm(schema("hund-anmelden", &public.to_base64())),
        http: NoNetwork,
        config: config(),
    };
    (app, private)
}

/// The login client for `ISSUER`.
pub fn oidc() -> Arc<Oidc> {
    let login = LoginConfig {
        issuer: ISSUER.into(),
        client_id: "lotse".into(),
        acr: AcrMap::default(),
    };
    Arc::new(Oidc::new(
        OidcConfig::new(&login, "client-secret", "https://portal.example.de").unwrap(),
    ))
}

/// Login with fixed session keys (a current and a previous one) and account key.
pub fn login_setup() -> LoginSetup {
    LoginSetup {
        oidc: oidc(),
        keys: SessionKeys {
            current: [1; 32],
            previous: Some([2; 32]),
        },
        accounts: AccountKey::from_bytes([3; 32]),
    }
}

/// The cookie of a session at `level`, sealed with `keys`, valid for a minute from `NOW`.
pub fn session_cookie(level: TrustLevel, keys: &SessionKeys) -> String {
    let session = Session {
        sub: "buerger-4711".into(),
        level,
        acr: "STORK-QAA-Level-3".into(),
        given_name: Some("Erika".into()),
        family_name: None,
        email: None,
        address: None,
        exp: NOW + 60_000,
    };
    format!("lotse_session={}", session.seal(keys, NOW))
}

/// A request without a body from the client 192.0.2.1 at `NOW`.
pub fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        client: "192.0.2.1".into(),
        now_ms: NOW,
        ..Request::default()
    }
}

/// A JSON submission at `now_ms`, with an Idempotency-Key when given. The content type
/// is the first header.
pub fn post(now_ms: u64, key: Option<&str>, body: &str) -> Request {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(key) = key {
        headers.push(("idempotency-key", key));
    }
    Request {
        body: body.as_bytes().to_vec(),
        now_ms,
        ..request("POST", "/api/applications", "", &headers)
    }
}
