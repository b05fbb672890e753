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
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{App, Config, Forms, OfficeTokens, Request, Response};
use lotse_model::FormSchema;

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
}

pub type LocalApp = App<SqliteStore, SiteForms>;

/// Opens the store in `data` and reads the configuration from the environment:
/// `LOTSE_OFFICE_TOKEN` (one bearer token for every office) and `LOTSE_RATE_LIMIT`
/// (submissions per client and minute).
pub fn local_app(
    data: &Path,
    files: Arc<RwLock<Arc<MemorySink>>>,
    site_name: String,
) -> Result<LocalApp> {
    let store = SqliteStore::open(&data.join("lotse.sqlite3"))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot open the store in {}", data.display()))?;
    let office_tokens = match std::env::var("LOTSE_OFFICE_TOKEN") {
        Ok(token) if !token.trim().is_empty() => OfficeTokens::All(token.trim().to_string()),
        _ => OfficeTokens::None,
    };
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
        config: Config {
            office_tokens,
            rate_limit_per_minute,
            site_name,
            ..Config::default()
        },
    })
}

/// The axum handler for `/api/*`.
pub async fn api(
    State(app): State<Arc<LocalApp>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: HttpRequest<Body>,
) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let limit = app.config.body_limit;
    // A body over the limit is cut at limit + 1 bytes: enough for the functions to
    // answer 413, without reading the rest.
    let body = to_bytes(body, limit + 1)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_else(|_| vec![0; limit + 1]);
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
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect(),
        body,
        client: peer.ip().to_string(),
        now_ms,
    };
    // The SQLite store answers synchronously; run it off the async threads.
    let answer = tokio::task::spawn_blocking(move || {
        futures_executor::block_on(lotse_functions::handle(&app, core_request))
    })
    .await;
    match answer {
        Ok(response) => to_http(response),
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
