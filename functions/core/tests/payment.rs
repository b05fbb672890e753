//! The payment provider's OAuth2 client credentials (pmPayment style), natively against
//! the real test provider (tests/payment-provider/server.mjs, XBezahldienste 1.0 on
//! loopback): one token for many calls, a refused token fetched anew once, a wrong
//! secret keeps the application.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{post, schema, OneForm, NOW};
use futures_executor::block_on;
use lotse_envelope::PrivateKey;
use lotse_functions::auth::{basic_authorization, AuthError, HttpClient};
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{handle, App, Store};
use lotse_model::payment::{Cents, Fee, PaymentProvider};
use serde_json::Value;

struct Provider {
    child: Child,
    base: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_provider() -> Provider {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/payment-provider");
    let mut child = Command::new("node")
        .args(["server.mjs", "0"])
        .current_dir(dir)
        .env("CLIENT_ID", "lotse-portal")
        .env("CLIENT_SECRET", "richtiges-geheimnis")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs tests/payment-provider/server.mjs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening ")
        .expect("the provider says where it listens")
        .to_string();
    Provider { child, base }
}

/// A blocking client on loopback, as `lotse serve` has one.
struct Ureq(ureq::Agent);

impl HttpClient for Ureq {
    async fn get_json(&self, url: &str) -> Result<Value, AuthError> {
        Err(AuthError::Provider(format!("{url}: not used here")))
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic_auth: Option<(&str, &str)>,
    ) -> Result<(u16, Value), AuthError> {
        let mut request = self.0.post(url);
        if let Some((id, secret)) = basic_auth {
            request = request.header("authorization", &basic_authorization(id, secret));
        }
        let mut response = request
            .send_form(form.iter().copied())
            .map_err(|e| AuthError::Provider(e.to_string()))?;
        let status = response.status().as_u16();
        Ok((
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        ))
    }

    async fn send_json(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(u16, Value), AuthError> {
        let mut builder = ureq::http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut response = self
            .0
            .run(builder.body(bytes).unwrap())
            .map_err(|e| AuthError::Provider(e.to_string()))?;
        let status = response.status().as_u16();
        Ok((
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        ))
    }
}

fn control(provider: &Provider, path: &str) -> Value {
    ureq::post(&format!("{}{path}", provider.base))
        .config()
        .http_status_as_error(false)
        .build()
        .send_json(serde_json::json!({}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap_or(Value::Null)
}

fn tokens_issued(provider: &Provider) -> u64 {
    let state: Value = ureq::get(&format!("{}/__control", provider.base))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    state["tokensIssued"].as_u64().unwrap()
}

fn app(provider: &Provider, secret: &str) -> App<SqliteStore, OneForm, Ureq> {
    let (_, public) = PrivateKey::generate();
    let mut form = schema("urkunde", &public.to_base64());
    form.fee = Some(Fee {
        amount: Cents(1230),
        purpose: "Urkunde".into(),
        provider: PaymentProvider {
            base_url: provider.base.clone(),
            originator_id: "lotse-test".into(),
            endpoint_id: "gebuehren".into(),
            token_url: Some(format!("{}/oauth/token", provider.base)),
            client_id: Some("lotse-portal".into()),
        },
    });
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    App {
        store: SqliteStore::in_memory().unwrap(),
        forms: OneForm(form),
        http: Ureq(agent),
        config: lotse_functions::Config {
            payment_client_secret: Some(secret.into()),
            ..common::config()
        },
    }
}

const BODY: &str =
    r#"{"portal":"musterstadt","service":"urkunde","fields":{"name":"Erika Klartext"}}"#;

fn submit(app: &App<SqliteStore, OneForm, Ureq>) -> Value {
    let answer = block_on(handle(app, post(NOW, None, BODY)));
    assert_eq!(
        answer.status,
        201,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    serde_json::from_slice(&answer.body).unwrap()
}

#[test]
fn one_token_serves_many_calls_and_a_refused_one_is_fetched_again() {
    let provider = start_provider();
    let app = app(&provider, "richtiges-geheimnis");
    for _ in 0..3 {
        let answer = submit(&app);
        assert_eq!(answer["status"], "awaiting_payment");
        assert!(answer["payment_url"].as_str().is_some(), "{answer}");
    }
    assert_eq!(tokens_issued(&provider), 1, "the token is cached");
    control(&provider, "/__control/revoke-tokens");
    let answer = submit(&app);
    assert!(answer["payment_url"].as_str().is_some(), "{answer}");
    assert_eq!(
        tokens_issued(&provider),
        2,
        "a refused token is fetched anew"
    );
}

#[test]
fn a_wrong_secret_keeps_the_application_awaiting_payment() {
    let provider = start_provider();
    let app = app(&provider, "falsches-geheimnis");
    let answer = submit(&app);
    assert_eq!(answer["status"], "awaiting_payment");
    assert!(answer["payment_url"].is_null(), "{answer}");
    let id = answer["id"].as_str().unwrap();
    let stored = block_on(app.store.application(id)).unwrap().unwrap();
    assert_eq!(stored.status, "awaiting_payment");
    let payment = block_on(app.store.payment(id)).unwrap().unwrap();
    assert_eq!((payment.status.as_str(), payment.amount), ("open", 1230));
    assert_eq!(payment.transaction_id, None);
}
