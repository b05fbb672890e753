//! The test payment provider (`tests/payment-provider/server.mjs`: XBezahldienste 1.0 on
//! loopback, Node's built-in modules only, no `npm ci`), started per test and stopped
//! when the test ends, with its test controls (`/__control`) and its request log
//! (`/__requests`) as methods. tests/payment-provider/README.md has the wire format and
//! every knob.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use super::servers::{repo, Running};

/// The tenant the provider knows unless `ORIGINATOR_ID` / `ENDPOINT_ID` say otherwise.
pub const ORIGINATOR_ID: &str = "lotse-test";
pub const ENDPOINT_ID: &str = "gebuehren";

/// Every variable the provider reads; cleared before the test's own are set, so that
/// nothing leaks in from the environment `cargo test` runs in.
const VARIABLES: &[&str] = &[
    "PORT",
    "ORIGINATOR_ID",
    "ENDPOINT_ID",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "TOKEN_TTL",
    "PUBLIC_URL",
    "PAYMENT_DELAY_MS",
    "FAILED_THEN_PAYED",
    "DOWN",
    "LATENCY_MS",
    "CREATE_STATUS",
    "REFERENCE_AT",
    "TRANSACTION_ID",
    "EXPIRE_AFTER_MS",
    "AUTH_FAILURE_STATUS",
];

/// A running test payment provider.
pub struct PaymentProvider {
    /// `http://127.0.0.1:<port>`: the `base_url` of a `[payment]` table.
    pub base: String,
    _running: Running,
}

/// An answer of the provider: status, `Location` and body.
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Starts the provider with `env` (e.g. `CLIENT_ID` and `CLIENT_SECRET` for OAuth2,
/// `TOKEN_TTL`, `PAYMENT_DELAY_MS`; README "Knobs") on a free port.
pub fn start_payment_provider(env: &[(&str, &str)]) -> PaymentProvider {
    let dir = repo().join("tests/payment-provider");
    let mut command = Command::new("node");
    command.args(["server.mjs", "0"]).current_dir(&dir);
    for name in VARIABLES {
        command.env_remove(name);
    }
    command
        .envs(env.iter().copied())
        // A pipe on stdin: the provider leaves when this process is gone.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!("node starts the test payment provider ({e}); it needs Node.js >= 20 on PATH")
    });
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(base) = line.strip_prefix("listening ") {
                let _ = tx.send(base.trim().to_string());
                break;
            }
        }
        for _ in lines {}
    });
    let running = Running { child, data: None };
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the payment provider reports `listening <base>` within 30 s");
    PaymentProvider {
        base,
        _running: running,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

impl PaymentProvider {
    /// The token endpoint (`token_url` of a `[payment]` table) when started with
    /// `CLIENT_ID` and `CLIENT_SECRET`.
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.base)
    }

    /// A request to the provider, as a test (not Lotse) makes it.
    pub fn request(
        &self,
        method: &str,
        path_or_url: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Reply {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        let request = builder.body(body.as_bytes().to_vec()).unwrap();
        let mut response = agent()
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Reply {
            status: response.status().as_u16(),
            location,
            body: response.body_mut().read_to_string().unwrap_or_default(),
        }
    }

    fn control(&self, path: &str, body: &Value) -> Reply {
        let reply = self.request("POST", path, Some("application/json"), &body.to_string());
        assert!(
            reply.status < 300,
            "POST {path} {body}: {} {}",
            reply.status,
            reply.body
        );
        reply
    }

    /// Turns knobs (`{"delay_ms": 2000}`, `{"down": true}`, …); answers the new state.
    pub fn set(&self, knobs: Value) -> Value {
        self.control("/__control", &knobs).json()
    }

    /// Knobs, tokens issued and every transaction (`GET /__control`).
    pub fn state(&self) -> Value {
        self.request("GET", "/__control", None, "").json()
    }

    /// How many access tokens the token endpoint has handed out.
    pub fn tokens_issued(&self) -> u64 {
        self.state()["tokensIssued"].as_u64().unwrap()
    }

    /// Every transaction: `originatorId`, `endpointId`, `transactionId`, `requestId`,
    /// `status`, `pending`, `transactionReference`.
    pub fn transactions(&self) -> Vec<Value> {
        self.state()["transactions"].as_array().unwrap().clone()
    }

    /// The citizen paid and closed the tab: PAYED now, no redirect. Answers the
    /// PaymentTransaction.
    pub fn pay(&self, transaction_id: &str) -> Value {
        self.control(&format!("/__control/pay/{transaction_id}"), &json!({}))
            .json()
    }

    /// Sets a transaction's status now (`INITIAL`, `PAYED`, `FAILED`, `CANCELED`).
    pub fn set_status(&self, transaction_id: &str, status: &str) -> Value {
        self.control(
            &format!("/__control/status/{transaction_id}"),
            &json!({ "status": status }),
        )
        .json()
    }

    /// Makes every access token handed out so far invalid.
    pub fn revoke_tokens(&self) {
        self.control("/__control/revoke-tokens", &json!({}));
    }

    /// Back to the start: no transactions, no tokens, an empty log, the knobs as started.
    pub fn reset(&self) {
        self.control("/__control/reset", &json!({}));
    }

    /// What a citizen's browser does without JavaScript on the payment page
    /// (`transactionRedirectUrl`): submits its form with `action` = `pay`, `cancel` or
    /// `fail`. A click that counts answers 303 to the request's `redirectUrl`.
    pub fn click(&self, payment_page: &str, action: &str) -> Reply {
        let body = format!("paymentMethod=CREDITCARD&action={action}");
        self.request(
            "POST",
            payment_page,
            Some("application/x-www-form-urlencoded"),
            &body,
        )
    }

    /// Every request the provider received (the test controls aside): `seq`, `time`,
    /// `method`, `path`, `headers` (an `authorization` value as `<scheme> [redacted]`),
    /// `body` (JSON parsed, a form as an object, else text), `status`.
    pub fn requests(&self) -> Vec<Value> {
        self.request("GET", "/__requests", None, "")
            .json()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        let reply = self.request("DELETE", "/__requests", None, "");
        assert_eq!(reply.status, 204, "DELETE /__requests: {}", reply.body);
    }

    /// The canary: the recorded requests (path, headers or body) that contain any of
    /// `values`, as `value in METHOD path` lines; empty when none leaked.
    pub fn leaks(&self, values: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for entry in self.requests() {
            let text = format!("{} {} {}", entry["path"], entry["headers"], entry["body"]);
            for value in values {
                // As sent, as JSON escapes it, and as a URL or form encodes it.
                let escaped = json!(value).to_string();
                let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
                let variants = [
                    value.to_string(),
                    escaped.trim_matches('"').to_string(),
                    form.clone(),
                    form.replace('+', "%20"),
                ];
                if variants.iter().any(|v| text.contains(v.as_str())) {
                    found.push(format!(
                        "{value} in {} {}",
                        entry["method"].as_str().unwrap_or(""),
                        entry["path"].as_str().unwrap_or("")
                    ));
                }
            }
        }
        found
    }
}
