//! The edge functions, run natively by `lotse serve`: the same `lotse_functions::handle`
//! as on Cloudflare, on an embedded SQLite store, with the form schemas of the site
//! being served.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderName, HeaderValue, Request as HttpRequest, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use lotse_functions::auth::staff::StaffLogin;
use lotse_functions::auth::{
    basic_authorization, AccountKey, AuthError, HttpClient, Oidc, OidcConfig, SessionKeys,
};
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{
    App, Config, Forms, HashSecret, LoginSetup, OfficeTokens, Request, Response,
};
use lotse_model::{FormSchema, LoginConfig, Region};

use crate::serve::MemorySink;

/// Form schemas from the current rendering of the site (`forms/<portal>/<service>.json`).
pub struct SiteForms {
    pub files: Arc<RwLock<Arc<MemorySink>>>,
}

impl Forms for SiteForms {
    async fn schema(&self, portal: &str, service: &str) -> Option<FormSchema> {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner()).clone();
        let bytes = files.get(&format!("forms/{portal}/{service}.json"))?;
        serde_json::from_slice(&bytes).ok()
    }

    async fn offices(&self, portal: &str) -> Option<Vec<String>> {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner()).clone();
        let bytes = files.get(&lotse_functions::offices_path(portal))?;
        let list: lotse_functions::OfficeList = serde_json::from_slice(&bytes).ok()?;
        (list.portal == portal).then_some(list.offices)
    }

    async fn appointment(
        &self,
        portal: &str,
        service: &str,
    ) -> Option<lotse_model::appointment::BookableService> {
        let files = self.files.read().unwrap_or_else(|p| p.into_inner()).clone();
        let path = lotse_model::appointment::appointment_path(portal, service);
        serde_json::from_slice(&files.get(&path)?).ok()
    }
}

/// Reaches the OpenID provider with a blocking client: the functions run on a blocking
/// thread under `lotse serve`.
pub struct BlockingHttp {
    agent: ureq::Agent,
}

impl BlockingHttp {
    fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .build()
            .into();
        BlockingHttp { agent }
    }
}

fn provider_error(url: &str, e: impl std::fmt::Display) -> AuthError {
    AuthError::Provider(format!("{url}: {e}"))
}

impl HttpClient for BlockingHttp {
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, AuthError> {
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| provider_error(url, e))?;
        if response.status() != 200 {
            return Err(provider_error(
                url,
                format!("answered {}", response.status()),
            ));
        }
        response
            .body_mut()
            .read_json()
            .map_err(|e| provider_error(url, e))
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic_auth: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), AuthError> {
        let mut request = self.agent.post(url);
        if let Some((id, secret)) = basic_auth {
            request = request.header("authorization", &basic_authorization(id, secret));
        }
        let mut response = request
            .send_form(form.iter().copied())
            .map_err(|e| provider_error(url, e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_json()
            .unwrap_or(serde_json::Value::Null);
        Ok((status, body))
    }

    async fn send_json(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), AuthError> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("accept", "application/json, application/problem+json");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let bytes = match body {
            Some(json) => {
                builder = builder.header("content-type", "application/json");
                json.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        let request = builder.body(bytes).map_err(|e| provider_error(url, e))?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| provider_error(url, e))?;
        let status = response.status().as_u16();
        let json = response
            .body_mut()
            .read_json::<serde_json::Value>()
            .unwrap_or(serde_json::Value::Null);
        Ok((status, json))
    }
}

pub type LocalApp = App<SqliteStore, SiteForms, BlockingHttp>;

/// Login under `lotse serve`: the region's `[login]`, the client secret from
/// `LOTSE_OIDC_CLIENT_SECRET` (without it there is no login), the issuer optionally
/// replaced by `LOTSE_OIDC_ISSUER`, session keys from `LOTSE_SESSION_SECRET` (or random
/// ones that last as long as the server), and the account key from
/// `LOTSE_ACCOUNT_SECRET` (or one kept in the data folder, made on first use, so that
/// Mein Postfach finds its applications after a restart).
fn login_setup(
    login: Option<&LoginConfig>,
    site_url: &str,
    data: &Path,
) -> Result<Option<LoginSetup>> {
    let Some(login) = login else {
        return Ok(None);
    };
    let Ok(secret) = std::env::var("LOTSE_OIDC_CLIENT_SECRET") else {
        eprintln!(
            "login: off (set LOTSE_OIDC_CLIENT_SECRET to log in at {})",
            login.issuer
        );
        return Ok(None);
    };
    let mut login = login.clone();
    if let Ok(issuer) = std::env::var("LOTSE_OIDC_ISSUER") {
        login.issuer = issuer;
    }
    let keys = match std::env::var("LOTSE_SESSION_SECRET") {
        Ok(text) => SessionKeys::parse(&text)
            .map_err(|e| anyhow::anyhow!("LOTSE_SESSION_SECRET: {}", e.log_reason()))?,
        Err(_) => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            use base64::Engine as _;
            SessionKeys::parse(&base64::engine::general_purpose::STANDARD.encode(key))
                .map_err(|e| anyhow::anyhow!(e.log_reason()))?
        }
    };
    let accounts = account_key(data)?;
    let config = OidcConfig::new(&login, &secret, site_url)
        .map_err(|e| anyhow::anyhow!("login: {}", e.log_reason()))?;
    eprintln!("login: {} as client {}", login.issuer, login.client_id);
    Ok(Some(LoginSetup {
        oidc: Arc::new(Oidc::new(config)),
        keys,
        accounts,
    }))
}

/// Staff login to the workspace under `lotse serve` (SPEC section 9): the region's
/// `[office_login]`, the client secret from `LOTSE_OFFICE_OIDC_CLIENT_SECRET` (without
/// it the workspace's login is off; the bearer tokens still work), the issuer optionally
/// replaced by `LOTSE_OFFICE_OIDC_ISSUER`, the staff cookie's keys from
/// `LOTSE_STAFF_SESSION_SECRET` or random ones that last as long as the server.
fn staff_setup(
    login: Option<&lotse_model::OfficeLoginConfig>,
    site_url: &str,
) -> Result<Option<StaffLogin>> {
    let Some(login) = login else {
        return Ok(None);
    };
    let Some(secret) = env_value("LOTSE_OFFICE_OIDC_CLIENT_SECRET") else {
        eprintln!(
            "workspace login: off (set LOTSE_OFFICE_OIDC_CLIENT_SECRET to log staff in at {})",
            login.issuer
        );
        return Ok(None);
    };
    let mut login = login.clone();
    if let Some(issuer) = env_value("LOTSE_OFFICE_OIDC_ISSUER") {
        login.issuer = issuer;
    }
    let keys = match env_value("LOTSE_STAFF_SESSION_SECRET") {
        Some(text) => SessionKeys::parse(&text)
            .map_err(|e| anyhow::anyhow!("LOTSE_STAFF_SESSION_SECRET: {}", e.log_reason()))?,
        None => SessionKeys::random(),
    };
    let config = OidcConfig::for_staff(&login, &secret, site_url)
        .map_err(|e| anyhow::anyhow!("workspace login: {}", e.log_reason()))?;
    eprintln!(
        "workspace login: {} as client {}",
        login.issuer, login.client_id
    );
    Ok(Some(StaffLogin {
        oidc: Arc::new(Oidc::new(config)),
        keys,
        offices_claim: login.offices_claim,
    }))
}

/// `LOTSE_ACCOUNT_SECRET`, or the key in `<data>/account.key` (made on first use,
/// readable by the owner only).
fn account_key(data: &Path) -> Result<AccountKey> {
    let parse = |text: &str| AccountKey::parse(text).map_err(|e| e.log_reason().to_string());
    kept_secret(
        data,
        "LOTSE_ACCOUNT_SECRET",
        "account.key",
        parse,
        AccountKey::from_bytes,
    )
}

/// `LOTSE_HASH_SECRET`, or the key in `<data>/hash.key` (made on first use, readable by
/// the owner only): the secret of the keyed hashes of client addresses and
/// Idempotency-Keys, kept so that rate windows and retries survive a restart.
fn hash_secret(data: &Path) -> Result<HashSecret> {
    kept_secret(
        data,
        "LOTSE_HASH_SECRET",
        "hash.key",
        HashSecret::parse,
        HashSecret::from_bytes,
    )
}

/// A 32-byte secret from the environment variable `variable`, else from the file `file`
/// in the data folder, else made and written there (base64, mode 0600).
fn kept_secret<K>(
    data: &Path,
    variable: &str,
    file: &str,
    parse: impl Fn(&str) -> std::result::Result<K, String>,
    from_bytes: impl Fn([u8; 32]) -> K,
) -> Result<K> {
    use base64::Engine as _;
    if let Ok(text) = std::env::var(variable) {
        return parse(&text).map_err(|e| anyhow::anyhow!("{variable}: {e}"));
    }
    let path = data.join(file);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write as _;
    options
        .open(&path)
        .and_then(|mut file| {
            file.write_all(
                base64::engine::general_purpose::STANDARD
                    .encode(key)
                    .as_bytes(),
            )
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(from_bytes(key))
}

/// Opens the store in `data` and reads the configuration from the environment:
/// `LOTSE_OFFICE_TOKENS` (a token per office, the JSON object the worker's
/// `OFFICE_TOKENS` secret holds), or the development shortcut `LOTSE_OFFICE_TOKEN` (one
/// token for every office), `LOTSE_RATE_LIMIT` (submissions per client and minute) and
/// `LOTSE_HASH_SECRET` (see [`hash_secret`]), `LOTSE_PAYMENT_CLIENT_SECRET` (the payment
/// provider's OAuth2 secret) and `LOTSE_PAYMENT_BASE_URL` (another address for every
/// payment provider: a local test provider).
pub fn local_app(
    data: &Path,
    files: Arc<RwLock<Arc<MemorySink>>>,
    region: &Region,
    site_url: &str,
) -> Result<LocalApp> {
    let store = SqliteStore::open(&data.join("lotse.sqlite3"))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot open the store in {}", data.display()))?;
    let mut office_tokens = match std::env::var("LOTSE_OFFICE_TOKENS") {
        Ok(map) if !map.trim().is_empty() => OfficeTokens::from_json(&map)
            .map_err(|e| anyhow::anyhow!("LOTSE_OFFICE_TOKENS: {e}"))?,
        _ => OfficeTokens::default(),
    };
    // SPEC section 5: when set, the bearer token of every office, next to the others.
    if let Ok(token) = std::env::var("LOTSE_OFFICE_TOKEN") {
        if !token.trim().is_empty() {
            office_tokens = office_tokens.with_every_office(token.trim());
        }
    }
    let rate_limit_per_minute = match std::env::var("LOTSE_RATE_LIMIT") {
        Ok(value) => value
            .trim()
            .parse()
            .context("LOTSE_RATE_LIMIT must be a whole number of submissions per minute")?,
        Err(_) => Config::default().rate_limit_per_minute,
    };
    Ok(App {
        store,
        forms: SiteForms { files },
        http: BlockingHttp::new(),
        config: Config {
            office_tokens,
            rate_limit_per_minute,
            site_name: region.name.clone(),
            login: login_setup(region.login.as_ref(), site_url, data)?,
            staff_login: staff_setup(region.office_login.as_ref(), site_url)?,
            hash_secret: hash_secret(data)?,
            payment_client_secret: env_value("LOTSE_PAYMENT_CLIENT_SECRET"),
            payment_base_url: env_value("LOTSE_PAYMENT_BASE_URL"),
            payment_recheck_ms: match env_value("LOTSE_PAYMENT_RECHECK_MS") {
                Some(ms) => ms
                    .parse()
                    .context("LOTSE_PAYMENT_RECHECK_MS must be a whole number of milliseconds")?,
                None => Config::default().payment_recheck_ms,
            },
            ..Config::default()
        },
    })
}

/// An environment variable that is set and not blank.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The axum handler for `/api/*`.
pub async fn api(
    State(app): State<Arc<LocalApp>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: HttpRequest<Body>,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let limit = lotse_functions::body_limit(&app.config, parts.uri.path());
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    // A body declared over the limit is not read at all (the functions answer 413 from
    // the declared length); one that turns out longer is cut at limit + 1 bytes.
    let body = match tokio::time::timeout(crate::serve::listener::BODY_TIMEOUT, async {
        if declared.is_some_and(|d| d > limit) {
            return Ok(axum::body::Bytes::new());
        }
        to_bytes(body, limit + 1).await
    })
    .await
    {
        Ok(Ok(bytes)) => bytes.to_vec(),
        Ok(Err(_)) => vec![0; limit + 1],
        // A body that does not arrive in time: 408, and the connection closes.
        Err(_) => {
            let mut response = (StatusCode::REQUEST_TIMEOUT, "Zeit abgelaufen\n").into_response();
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                HeaderValue::from_static("close"),
            );
            return response;
        }
    };
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let core_request = Request {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            // A value with bytes beyond ASCII is handed on (lossily decoded), not dropped:
            // the functions refuse what they cannot take (an Idempotency-Key with an
            // umlaut is 400) instead of acting as if the header were missing.
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_string(), value)
            })
            .collect(),
        body,
        client: peer.ip().to_string(),
        now_ms,
        // `lotse serve` speaks plain HTTP; the origin is what the browser used to reach it.
        origin: parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .map(|host| format!("http://{host}"))
            .unwrap_or_default(),
    };
    // The SQLite store answers synchronously; run it off the async threads.
    let answer = tokio::task::spawn_blocking(move || {
        futures_executor::block_on(lotse_functions::handle(&app, core_request))
    })
    .await;
    match answer {
        Ok(response) => {
            for line in &response.log {
                eprintln!("functions: {line}");
            }
            to_http(response)
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn to_http(response: Response) -> HttpResponse {
    let mut http = HttpResponse::new(Body::from(response.body));
    *http.status_mut() =
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            http.headers_mut().append(name, value);
        }
    }
    http
}
