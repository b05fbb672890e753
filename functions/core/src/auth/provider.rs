//! The OpenID provider: configuration, discovery and the key set, cached in memory.

use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use lotse_model::{AcrMap, LoginConfig};
use serde::{Deserialize, Serialize};

use super::AuthError;

/// How the functions reach the provider. The Worker implements it with `fetch`,
/// `lotse serve` with a blocking or async client. Futures need not be `Send`.
///
/// Implementations answer `Err(AuthError::Provider(..))` for transport failures, and
/// for `get_json` also for a status other than 200 or a body that is not JSON.
/// `post_form` returns the status with the JSON body for every status (the token
/// endpoint answers errors as JSON with 400/401); a body that is not JSON is an error.
/// With `basic_auth`, send `Authorization: ` [`basic_authorization`]`(id, secret)`.
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, AuthError>;

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic_auth: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), AuthError>;

    /// `method` to `url` with these extra headers and a JSON body (if any); the status
    /// and the JSON answer (`Null` for an empty or non-JSON body) for every status.
    /// Used for the payment provider; clients that only log citizens in need not
    /// offer it.
    async fn send_json(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), AuthError> {
        let _ = (method, headers, body);
        Err(AuthError::Provider(format!(
            "{url}: this client sends no JSON requests"
        )))
    }
}

/// The `Authorization` header value for `client_secret_basic` (RFC 6749 section
/// 2.3.1: id and secret are form-urlencoded before base64).
pub fn basic_authorization(client_id: &str, client_secret: &str) -> String {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(client_secret)))
    )
}

/// Where the staff's provider sends them back (SPEC section 9).
pub const STAFF_CALLBACK_PATH: &str = "/api/amt/callback";

/// The scopes asked for: the subject, names and e-mail address.
pub const DEFAULT_SCOPE: &str = "openid profile email";

/// How long discovery metadata and the key set are trusted before they are fetched
/// again: 10 minutes. An ID token signed with an unknown `kid` refetches the key set
/// at once (the provider rotated its keys).
pub const CACHE_TTL_MS: u64 = 10 * 60 * 1000;

/// Everything needed to talk to the provider.
#[derive(Clone, PartialEq)]
pub struct OidcConfig {
    /// The provider's issuer identifier, exactly as it appears in its discovery
    /// document and in ID tokens (mind the trailing slash).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// `<site origin>/api/callback`, registered at the provider.
    pub redirect_uri: String,
    /// The `acr` values of the three trust levels.
    pub acr: AcrMap,
    /// Space-separated scopes; [`DEFAULT_SCOPE`] unless changed.
    pub scope: String,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .field("redirect_uri", &self.redirect_uri)
            .field("acr", &self.acr)
            .field("scope", &self.scope)
            .finish()
    }
}

/// `https://host[:port]` or loopback `http` (for `lotse serve` and tests).
pub(crate) fn acceptable_url(url: &str) -> bool {
    if url.bytes().any(|b| !b.is_ascii_graphic()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']')
            .next()
            .map(|h| format!("[{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]")
}

/// The origin (`scheme://host[:port]`) of a URL, without path.
fn origin(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| &url[..scheme_end + end])
}

impl OidcConfig {
    /// The configuration from region.toml's `[login]`, the client secret (Worker secret
    /// `OIDC_CLIENT_SECRET`, `LOTSE_OIDC_CLIENT_SECRET` under `lotse serve`) and the
    /// site's origin or base URL (a path part is dropped: the redirect URI is always
    /// `<origin>/api/callback`).
    pub fn new(
        login: &LoginConfig,
        client_secret: &str,
        site_url: &str,
    ) -> Result<OidcConfig, AuthError> {
        let origin = origin(site_url).ok_or_else(|| {
            AuthError::NotConfigured(format!("site URL `{site_url}` has no origin"))
        })?;
        let config = OidcConfig {
            issuer: login.issuer.clone(),
            client_id: login.client_id.clone(),
            client_secret: client_secret.to_owned(),
            redirect_uri: format!("{origin}/api/callback"),
            acr: login.acr.clone(),
            scope: DEFAULT_SCOPE.into(),
        };
        config.validate()?;
        Ok(config)
    }

    /// The staff's provider (region.toml `[office_login]`) with its client secret
    /// (`OFFICE_OIDC_CLIENT_SECRET`, `LOTSE_OFFICE_OIDC_CLIENT_SECRET`); the redirect URI
    /// is `<origin>/api/amt/callback`. Staff need no trust level, so no `acr` is asked.
    pub fn for_staff(
        login: &lotse_model::OfficeLoginConfig,
        client_secret: &str,
        site_url: &str,
    ) -> Result<OidcConfig, AuthError> {
        let origin = origin(site_url).ok_or_else(|| {
            AuthError::NotConfigured(format!("site URL `{site_url}` has no origin"))
        })?;
        let config = OidcConfig {
            issuer: login.issuer.clone(),
            client_id: login.client_id.clone(),
            client_secret: client_secret.to_owned(),
            redirect_uri: format!("{origin}{STAFF_CALLBACK_PATH}"),
            acr: AcrMap::default(),
            scope: DEFAULT_SCOPE.into(),
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks what can be checked without the network.
    pub fn validate(&self) -> Result<(), AuthError> {
        let bad = |why: String| Err(AuthError::NotConfigured(why));
        if !acceptable_url(&self.issuer) {
            return bad(format!(
                "issuer `{}` must be an https URL (http only on loopback)",
                self.issuer
            ));
        }
        if self.client_id.trim().is_empty() {
            return bad("client_id is empty".into());
        }
        if self.client_secret.is_empty() {
            return bad(
                "the client secret (OIDC_CLIENT_SECRET / LOTSE_OIDC_CLIENT_SECRET) is not set"
                    .into(),
            );
        }
        let callback = ["/api/callback", STAFF_CALLBACK_PATH]
            .iter()
            .any(|path| self.redirect_uri.ends_with(path));
        if !acceptable_url(&self.redirect_uri) || !callback {
            return bad(format!(
                "redirect URI `{}` must be <https origin>/api/callback (or {STAFF_CALLBACK_PATH})",
                self.redirect_uri
            ));
        }
        let acr = [&self.acr.low, &self.acr.substantial, &self.acr.high];
        if acr.iter().any(|v| v.trim().is_empty()) {
            return bad("an acr value in [login.acr] is empty".into());
        }
        if acr[0] == acr[1] || acr[1] == acr[2] || acr[0] == acr[2] {
            return bad("the acr values in [login.acr] must differ".into());
        }
        if !self.scope.split(' ').any(|s| s == "openid") {
            return bad("scope must contain `openid`".into());
        }
        Ok(())
    }
}

/// The parts of the discovery document the login uses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

#[derive(Default)]
struct Cache {
    metadata: Option<(ProviderMetadata, u64)>,
    jwks: Option<(JwkSet, u64)>,
}

/// The provider with its configuration and a cache of metadata and keys. Make one per
/// isolate or process and keep it (a `static` works: it is `Sync`).
pub struct Oidc {
    pub config: OidcConfig,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("config", &self.config)
            .finish()
    }
}

fn fresh<T: Clone>(entry: &Option<(T, u64)>, now_ms: u64) -> Option<T> {
    match entry {
        Some((value, at)) if now_ms >= *at && now_ms - at < CACHE_TTL_MS => Some(value.clone()),
        _ => None,
    }
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Oidc {
        Oidc {
            config,
            cache: Mutex::new(Cache::default()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves nothing half-written worth refusing.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The discovery document (`<issuer>/.well-known/openid-configuration`), cached for
    /// [`CACHE_TTL_MS`]. Its `issuer` must equal the configured one exactly, and every
    /// endpoint must be https (http only on loopback).
    pub async fn metadata<H: HttpClient>(
        &self,
        http: &H,
        now_ms: u64,
    ) -> Result<ProviderMetadata, AuthError> {
        if let Some(metadata) = fresh(&self.cache().metadata, now_ms) {
            return Ok(metadata);
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let value = http.get_json(&url).await?;
        let metadata: ProviderMetadata = serde_json::from_value(value).map_err(|e| {
            AuthError::Provider(format!("discovery document at {url} is incomplete: {e}"))
        })?;
        if metadata.issuer != self.config.issuer {
            return Err(AuthError::Provider(format!(
                "discovery document names issuer `{}`, configured is `{}`",
                metadata.issuer, self.config.issuer
            )));
        }
        for endpoint in [
            &metadata.authorization_endpoint,
            &metadata.token_endpoint,
            &metadata.jwks_uri,
        ] {
            if !acceptable_url(endpoint) {
                return Err(AuthError::Provider(format!(
                    "endpoint `{endpoint}` is not https"
                )));
            }
        }
        self.cache().metadata = Some((metadata.clone(), now_ms));
        Ok(metadata)
    }

    /// The provider's signing keys, cached for [`CACHE_TTL_MS`]; `refresh` fetches
    /// them again regardless (after an unknown `kid`). Keys this crate cannot use are
    /// skipped.
    pub async fn jwks<H: HttpClient>(
        &self,
        http: &H,
        now_ms: u64,
        refresh: bool,
    ) -> Result<JwkSet, AuthError> {
        if !refresh {
            if let Some(jwks) = fresh(&self.cache().jwks, now_ms) {
                return Ok(jwks);
            }
        }
        let metadata = self.metadata(http, now_ms).await?;
        let value = http.get_json(&metadata.jwks_uri).await?;
        let keys = value
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or_else(|| AuthError::Provider("JWKS has no `keys` array".into()))?;
        let jwks = JwkSet {
            keys: keys
                .iter()
                .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                .collect(),
        };
        self.cache().jwks = Some((jwks.clone(), now_ms));
        Ok(jwks)
    }

    /// Forgets cached metadata and keys.
    pub fn clear_cache(&self) {
        *self.cache() = Cache::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_or_loopback() {
        assert!(acceptable_url("https://id.example.org/realms/nrw"));
        assert!(acceptable_url("http://127.0.0.1:8080/x"));
        assert!(acceptable_url("http://localhost:3000"));
        assert!(acceptable_url("http://[::1]:3000/"));
        assert!(!acceptable_url("http://id.example.org"));
        assert!(!acceptable_url("http://127.0.0.1.evil.org/"));
        assert!(!acceptable_url("http://localhost@evil.org/"));
        assert!(!acceptable_url("https:///x"));
        assert!(!acceptable_url("ftp://127.0.0.1/"));
        assert!(!acceptable_url("https://a b"));
    }

    #[test]
    fn config_from_region_uses_the_origin() {
        let login = LoginConfig {
            issuer: "https://id.example.org/realms/nrw".into(),
            client_id: "lotse".into(),
            acr: AcrMap::default(),
        };
        let c = OidcConfig::new(&login, "s3cret", "https://portal.example.org/region/").unwrap();
        assert_eq!(c.redirect_uri, "https://portal.example.org/api/callback");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(OidcConfig::new(&login, "", "https://portal.example.org").is_err());
        let plain = LoginConfig {
            issuer: "http://id.example.org".into(),
            ..login.clone()
        };
        assert!(OidcConfig::new(&plain, "s", "https://portal.example.org").is_err());
        let same = LoginConfig {
            acr: AcrMap {
                low: "a".into(),
                substantial: "a".into(),
                high: "b".into(),
            },
            ..login
        };
        assert!(OidcConfig::new(&same, "s", "https://portal.example.org").is_err());
    }

    #[test]
    fn basic_authorization_encodes_first() {
        assert_eq!(
            basic_authorization("a b", "p:w"),
            format!("Basic {}", STANDARD.encode("a+b:p%3Aw"))
        );
    }
}

/// For runtimes without login configured: every request to a provider fails.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNetwork;

impl HttpClient for NoNetwork {
    async fn get_json(&self, url: &str) -> Result<serde_json::Value, AuthError> {
        Err(AuthError::Provider(format!(
            "no network configured to reach {url}"
        )))
    }

    async fn post_form(
        &self,
        url: &str,
        _form: &[(&str, &str)],
        _basic_auth: Option<(&str, &str)>,
    ) -> Result<(u16, serde_json::Value), AuthError> {
        Err(AuthError::Provider(format!(
            "no network configured to reach {url}"
        )))
    }
}
