//! The Cloudflare Worker: a thin adapter around [`lotse_functions::handle`].
//!
//! It converts the Workers request into the runtime-neutral [`lotse_functions::Request`],
//! builds the app from the bindings (D1 database `DB`, static assets `ASSETS`, the
//! `OFFICE_TOKENS` secret and the `RATE_LIMIT_PER_MINUTE` variable) and converts the
//! answer back. All behaviour lives in lotse-functions and is tested there natively; this
//! crate is tested end to end under `wrangler dev` (scripts/worker-dev.sh).
//!
//! The crate also compiles natively (the workspace is linted for the host), but only
//! runs on wasm32: every `worker` call is a JavaScript import.

mod assets;
mod d1;
mod http;
mod mail;

use futures_util::StreamExt;
use lotse_functions::auth::SessionKeys;
use lotse_functions::{handle, App, Config, HashSecret, OfficeTokens};
use worker::{
    console_error, event, Context, Env, Headers, ResponseBuilder, ScheduleContext, ScheduledEvent,
};

pub use assets::AssetForms;
pub use d1::D1Store;

#[event(fetch)]
async fn fetch(
    request: worker::Request,
    env: Env,
    ctx: Context,
) -> worker::Result<worker::Response> {
    // `run_worker_first = ["/api/*"]` in wrangler.toml sends only the API here; anything
    // else (a misconfigured route, say) goes on to the static site.
    if !request.path().starts_with("/api/") {
        return env.assets("ASSETS")?.fetch_request(request).await;
    }
    let origin = origin_of(&request.inner().url());
    let mut config = config(&env);
    config.login = http::login_setup(&env, &origin, string_binding);
    let forms = AssetForms::new(env.assets("ASSETS")?);
    // Only the workspace's routes need the staff's provider (and its asset).
    let path = request.path();
    if path.starts_with("/api/amt/") || path.starts_with("/api/office/") {
        config.staff_login =
            http::staff_setup(&env, &origin, string_binding, forms.office_login().await);
    }
    let app = App {
        store: D1Store::new(env.d1("DB")?, env.bucket("FILES").ok()),
        forms,
        http: http::FetchHttp,
        config,
    };
    let request = into_core(request, &app.config).await?;
    // (A message, a status with a note, an appointment cancelled with a message.)
    let office_wrote = request.method == "POST" && request.path.starts_with("/api/office/");
    let now_ms = request.now_ms;
    let response = handle(&app, request).await;
    // What the office wrote may have queued a notification: send it once the answer is
    // out, without delaying it. The Cron Trigger retries whatever this does not send.
    if office_wrote && (200..300).contains(&response.status) {
        let env = env.clone();
        ctx.wait_until(async move { mail::deliver(&env, now_ms).await });
    }
    // Open payments are also settled from requests, at most once per re-check pause
    // and isolate: the Cron Trigger's work, sooner where there is traffic (and the
    // only way under wrangler dev, which cannot fire it for a workers-rs worker).
    if sweep_due(now_ms, app.config.payment_recheck_ms) {
        let env = env.clone();
        ctx.wait_until(async move { reconcile(&env, now_ms).await });
    }
    // The functions' lines for the operator (what failed, with the application's id;
    // never a token or a field value), in the Worker's log (`wrangler tail`).
    for line in &response.log {
        console_error!("{line}");
    }
    from_core(response)
}

/// The Cron Trigger: settles open payments with their providers, and sends the
/// notifications the outbox holds (functions/worker/src/mail.rs), retrying what could
/// not be sent right after the office wrote. (Under `wrangler dev`
/// 4.86, `/cdn-cgi/handler/scheduled` cannot reach a workers-rs entry point:
/// "DataCloneError: Could not serialize object of type ScheduledController". The same
/// `mail::deliver` runs from `fetch`, which the HTTP suite tests.)
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let now_ms = worker::Date::now().as_millis();
    reconcile(&env, now_ms).await;
    mail::deliver(&env, now_ms).await;
}

thread_local! {
    static LAST_SWEEP: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Whether this isolate last settled payments at least `pause_ms` ago (and notes now).
fn sweep_due(now_ms: u64, pause_ms: u64) -> bool {
    LAST_SWEEP.with(|last| {
        let due = now_ms.saturating_sub(last.get()) >= pause_ms;
        if due {
            last.set(now_ms);
        }
        due
    })
}

/// Asks the payment providers about open payments (SPEC section 7).
async fn reconcile(env: &Env, now_ms: u64) {
    let app = match (env.d1("DB"), env.assets("ASSETS")) {
        (Ok(db), Ok(assets)) => App {
            store: D1Store::new(db, None),
            forms: AssetForms::new(assets),
            http: http::FetchHttp,
            config: config(env),
        },
        _ => {
            console_error!("payments: DB or ASSETS is not bound");
            return;
        }
    };
    for line in lotse_functions::reconcile_payments(&app, now_ms).await {
        console_error!("{line}");
    }
}

/// The configuration from the Worker's secrets and variables. A broken value is logged and
/// replaced by the safe default rather than failing every request.
pub fn config(env: &Env) -> Config {
    let mut config = Config::default();
    if let Some(text) = string_binding(env, "OFFICE_TOKENS") {
        match OfficeTokens::from_json(&text) {
            Ok(tokens) => config.office_tokens = tokens,
            // The message names the problem, never a token.
            Err(message) => {
                console_error!("OFFICE_TOKENS ignored, no office can log in: {message}")
            }
        }
    }
    if let Some(text) = string_binding(env, "RATE_LIMIT_PER_MINUTE") {
        match parse_rate_limit(&text) {
            Some(limit) => config.rate_limit_per_minute = limit,
            None => console_error!(
                "RATE_LIMIT_PER_MINUTE = {text:?} is not a positive whole number; using {}",
                config.rate_limit_per_minute
            ),
        }
    }
    if let Some(name) = string_binding(env, "SITE_NAME").filter(|n| !n.trim().is_empty()) {
        config.site_name = name;
    }
    config.hash_secret = hash_secret(env);
    config.receipt_keys = receipt_keys(env);
    config.payment_client_secret =
        string_binding(env, "PAYMENT_CLIENT_SECRET").filter(|s| !s.trim().is_empty());
    config.payment_base_url =
        string_binding(env, "PAYMENT_BASE_URL").filter(|s| !s.trim().is_empty());
    if let Some(ms) = string_binding(env, "PAYMENT_RECHECK_MS") {
        match ms.trim().parse() {
            Ok(ms) => config.payment_recheck_ms = ms,
            Err(_) => console_error!(
                "PAYMENT_RECHECK_MS = {ms:?} is not a whole number of milliseconds; using {}",
                config.payment_recheck_ms
            ),
        }
    }
    config
}

/// The key of the receipt cookie, which must open in whichever isolate serves the
/// receipt page: the `RECEIPT_SECRET` secret (format of `SESSION_SECRET`), else one
/// derived from the first secret of `SESSION_SECRET`, `ACCOUNT_SECRET` and
/// `OFFICE_TOKENS` that is set. Without any, a key per isolate (and a log line): a
/// receipt page served by another isolate then shows the status form instead.
fn receipt_keys(env: &Env) -> SessionKeys {
    if let Some(text) = string_binding(env, "RECEIPT_SECRET") {
        match SessionKeys::parse(&text) {
            Ok(keys) => return keys,
            Err(e) => console_error!("RECEIPT_SECRET ignored: {}", e.log_reason()),
        }
    }
    for name in ["SESSION_SECRET", "ACCOUNT_SECRET", "OFFICE_TOKENS"] {
        if let Some(text) = string_binding(env, name).filter(|t| !t.trim().is_empty()) {
            return SessionKeys::derive("lotse/receipt-key/v1", text.trim().as_bytes());
        }
    }
    static ISOLATE_KEY: std::sync::OnceLock<SessionKeys> = std::sync::OnceLock::new();
    ISOLATE_KEY
        .get_or_init(|| {
            console_error!("no RECEIPT_SECRET (nor SESSION_SECRET, ACCOUNT_SECRET, OFFICE_TOKENS): receipt cookies are sealed per isolate");
            SessionKeys::random()
        })
        .clone()
}

/// The secret of the keyed hashes (client addresses, Idempotency-Keys): `HASH_SECRET`
/// (base64 of 32 bytes). Without it (or with a malformed one) the Worker still answers
/// and rate limiting still works, with hashes every isolate computes alike: keyed under
/// one derived from `ACCOUNT_SECRET`, which is never rotated, else under the built-in
/// public stand-in (as unprotected as a plain hash). Either is logged once per isolate.
fn hash_secret(env: &Env) -> HashSecret {
    let problem = match string_binding(env, "HASH_SECRET") {
        Some(text) => match HashSecret::parse(&text) {
            Ok(secret) => return secret,
            Err(message) => format!("HASH_SECRET ignored: {message}"),
        },
        None => "HASH_SECRET is not set".to_string(),
    };
    let account = string_binding(env, "ACCOUNT_SECRET").filter(|t| !t.trim().is_empty());
    let (secret, fallback) = match account {
        Some(text) => (
            HashSecret::derived("lotse/hash-secret-from-account/v1", text.trim().as_bytes()),
            "a key derived from ACCOUNT_SECRET",
        ),
        None => (
            HashSecret::unconfigured(),
            "the built-in PUBLIC key: a copy of the database reveals the client addresses",
        ),
    };
    static LOGGED: std::sync::Once = std::sync::Once::new();
    LOGGED.call_once(|| {
        console_error!(
            "{problem}; client addresses and Idempotency-Keys are hashed under {fallback}. \
             Set it: `openssl rand -base64 32 | wrangler secret put HASH_SECRET` (docs/deploy.md)"
        )
    });
    secret
}

/// `RATE_LIMIT_PER_MINUTE`: a positive whole number.
pub fn parse_rate_limit(text: &str) -> Option<u32> {
    text.trim().parse::<u32>().ok().filter(|n| *n > 0)
}

/// A secret (`wrangler secret put`) or a plain variable (`[vars]`, `--var`) of that name.
fn string_binding(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

/// The request for lotse-functions. Its body is read up to the route's limit and one byte
/// more (enough to answer 413), and not at all when the declared length is over it.
async fn into_core(
    mut request: worker::Request,
    config: &Config,
) -> worker::Result<lotse_functions::Request> {
    let url = request.inner().url();
    let (path, query) = split_url(&url);
    let headers: Vec<(String, String)> = request
        .headers()
        .entries()
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect();
    let client = request
        .headers()
        .get("cf-connecting-ip")?
        .unwrap_or_default();
    let method = request.method().to_string();
    let limit = lotse_functions::body_limit(config, &path);
    let declared = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    let body = if matches!(method.as_str(), "GET" | "HEAD") || declared.is_some_and(|d| d > limit) {
        Vec::new()
    } else {
        read_body(&mut request, limit).await?
    };
    Ok(lotse_functions::Request {
        method,
        path,
        query,
        headers,
        body,
        client,
        now_ms: worker::Date::now().as_millis(),
        origin: origin_of(&url),
    })
}

/// Path and query of the absolute URL the runtime hands over, already serialized by it
/// (percent-encoded). Splitting the string spares parsing the URL again, and the `url`
/// crate's Unicode tables in the wasm.
pub fn split_url(url: &str) -> (String, String) {
    let without_fragment = url.split('#').next().unwrap_or_default();
    let (before_query, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let path = match before_query.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |slash| &rest[slash..]),
        None => before_query,
    };
    let path = if path.is_empty() { "/" } else { path };
    (path.to_string(), query.to_string())
}

/// `https://host:port` of an absolute URL.
pub fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{host}")
        }
        None => String::new(),
    }
}

/// Reads the body up to `limit` bytes and one more; the rest is never buffered.
async fn read_body(request: &mut worker::Request, limit: usize) -> worker::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut stream = match request.stream() {
        Ok(stream) => stream,
        // No body at all.
        Err(_) => return Ok(body),
    };
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk?);
        if body.len() > limit {
            body.truncate(limit + 1);
            break;
        }
    }
    Ok(body)
}

fn from_core(response: lotse_functions::Response) -> worker::Result<worker::Response> {
    let headers = Headers::new();
    for (name, value) in &response.headers {
        headers.append(name, value)?;
    }
    let builder = ResponseBuilder::new()
        .with_status(response.status)
        .with_headers(headers);
    // 204, 304 and friends must not have a body, not even an empty one.
    Ok(if response.body.is_empty() {
        builder.empty()
    } else {
        builder.fixed(response.body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_path_and_query() {
        let split = split_url;
        assert_eq!(
            split("https://a.example/api/x?b=1&c=%20#f"),
            ("/api/x".into(), "b=1&c=%20".into())
        );
        assert_eq!(
            split("http://127.0.0.1:8787/api/applications"),
            ("/api/applications".into(), String::new())
        );
        assert_eq!(split("https://a.example"), ("/".into(), String::new()));
        assert_eq!(split("https://a.example?x=1"), ("/".into(), "x=1".into()));
        assert_eq!(
            split("https://a.example/p?q=a?b"),
            ("/p".into(), "q=a?b".into())
        );
    }

    #[test]
    fn origins_of_urls() {
        assert_eq!(
            origin_of("https://a.example/api/x?y#z"),
            "https://a.example"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8787/api/login"),
            "http://127.0.0.1:8787"
        );
    }

    #[test]
    fn rate_limit_must_be_a_positive_number() {
        assert_eq!(parse_rate_limit("60"), Some(60));
        assert_eq!(parse_rate_limit(" 5 "), Some(5));
        assert_eq!(parse_rate_limit("0"), None);
        assert_eq!(parse_rate_limit("-1"), None);
        assert_eq!(parse_rate_limit("sechzig"), None);
    }
}
