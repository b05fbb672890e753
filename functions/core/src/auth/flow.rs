//! The two halves of a login: [`begin_login`] sends the citizen to the provider,
//! [`finish_login`] takes the answer back and makes a [`Session`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use lotse_model::{AcrMap, TrustLevel};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::provider::{HttpClient, Oidc};
use super::session::{
    open_cookie, seal_cookie, SessionKeys, LOGIN_COOKIE, LOGIN_TTL_MS, SESSION_TTL_MS,
};
use super::token::{verify_id_token, IdClaims};
use super::{AuthError, Session};

/// Clock skew tolerated between the provider and the functions, in seconds.
pub const CLOCK_SKEW_S: u64 = 60;

/// The trust level an `acr` value stands for, by the configured map (exact match).
pub fn level_from_acr(map: &AcrMap, acr: &str) -> Option<TrustLevel> {
    [
        (&map.high, TrustLevel::High),
        (&map.substantial, TrustLevel::Substantial),
        (&map.low, TrustLevel::Low),
    ]
    .into_iter()
    .find(|(value, _)| value.as_str() == acr)
    .map(|(_, level)| level)
}

/// The `acr` value to ask for at a trust level (`None` asks for `low`).
pub fn acr_for_level(map: &AcrMap, level: TrustLevel) -> &str {
    match level {
        TrustLevel::None | TrustLevel::Low => &map.low,
        TrustLevel::Substantial => &map.substantial,
        TrustLevel::High => &map.high,
    }
}

/// A `return` target the citizen may be sent back to: a path on this site. It must
/// start with one `/` (not `//`, which browsers read as another host), contain no `\`
/// (read as `/`), and only visible ASCII (no spaces, no control characters; other
/// characters arrive percent-encoded). Up to 1024 bytes.
pub fn safe_return_path(input: &str) -> Option<&str> {
    let ok = input.starts_with('/')
        && !input.starts_with("//")
        && input.len() <= 1024
        && input.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    ok.then_some(input)
}

fn valid_portal(portal: &str) -> bool {
    portal.len() <= 64
        && portal
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A login in progress, sealed into the [`LOGIN_COOKIE`] between `/api/login` and
/// `/api/callback`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    pub return_path: String,
    pub portal: String,
    /// The level the service needs; the login must reach it.
    pub level: TrustLevel,
}

/// Starts a login for `portal`: where to send the citizen, and the value of the
/// [`LOGIN_COOKIE`] to set (valid [`LOGIN_TTL_MS`]).
///
/// `return_path` must pass [`safe_return_path`]; without one the citizen returns to
/// `/<portal>/`. `level` is what the service needs (`None` logs in at `low`); it is
/// asked for with `acr_values`. State and nonce carry 256 random bits, the PKCE verifier
/// 256 bits (43 characters, S256 challenge).
pub async fn begin_login<H: HttpClient>(
    oidc: &Oidc,
    http: &H,
    keys: &SessionKeys,
    portal: &str,
    return_path: Option<&str>,
    level: TrustLevel,
    now_ms: u64,
) -> Result<(String, String), AuthError> {
    if !valid_portal(portal) {
        return Err(AuthError::BadRequest("portal is not a slug".into()));
    }
    let return_path = match return_path.filter(|r| !r.is_empty()) {
        Some(r) => safe_return_path(r)
            .ok_or_else(|| AuthError::BadRequest("return is not a same-site path".into()))?
            .to_owned(),
        None if portal.is_empty() => "/".to_owned(),
        None => format!("/{portal}/"),
    };
    let level = level.max(TrustLevel::Low);
    let metadata = oidc.metadata(http, now_ms).await?;

    let pending = PendingLogin {
        state: random_text(32),
        nonce: random_text(32),
        verifier: random_text(32),
        return_path,
        portal: portal.to_owned(),
        level,
    };
    let acr = acr_for_level(&oidc.config.acr, level);
    let mut extra = vec![("acr_values", acr), ("ui_locales", "de")];
    // `acr_values` is only a wish: a provider may answer from its single sign-on
    // session at the level the citizen logged in with before, and that answer is then
    // refused as too low, on every retry. From "substantial" on (ELSTER, eID) the
    // citizen proves their identity anew for each login anyway, so ask for it.
    if level >= TrustLevel::Substantial {
        extra.push(("prompt", "login"));
    }
    let url = authorization_url(
        &metadata.authorization_endpoint,
        &oidc.config,
        &pending.state,
        &pending.nonce,
        &pending.verifier,
        &extra,
    );
    let cookie = seal_cookie(LOGIN_COOKIE, &pending, keys, now_ms, LOGIN_TTL_MS);
    Ok((url, cookie))
}

/// The query of `/api/callback`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// RFC 9207 issuer identification; checked when present.
    pub iss: Option<String>,
    pub error: Option<String>,
}

impl CallbackParams {
    /// Reads `code`, `state`, `iss` and `error` from a raw query string (without `?`).
    pub fn from_query(query: &str) -> CallbackParams {
        let mut params = CallbackParams::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
                "code" => &mut params.code,
                "state" => &mut params.state,
                "iss" => &mut params.iss,
                "error" => &mut params.error,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        params
    }
}

/// Finishes a login: checks the callback against the pending login in
/// `login_cookie` (the [`LOGIN_COOKIE`] value), exchanges the code at the token
/// endpoint (with the PKCE verifier, client authentication `client_secret_basic`),
/// verifies the ID token, maps its `acr` to a trust level and requires the level the
/// login was started for. Returns the session (valid [`SESSION_TTL_MS`]) and the path
/// to send the citizen back to.
///
/// The router clears the login cookie whatever the outcome.
pub async fn finish_login<H: HttpClient>(
    oidc: &Oidc,
    http: &H,
    keys: &SessionKeys,
    params: &CallbackParams,
    login_cookie: Option<&str>,
    now_ms: u64,
) -> Result<(Session, String), AuthError> {
    let config = &oidc.config;
    let pending: PendingLogin = login_cookie
        .and_then(|text| open_cookie(LOGIN_COOKIE, text, keys, now_ms))
        .ok_or(AuthError::LoginExpired)?;
    let code = check_callback(params, &pending.state, &config.issuer)?;
    let claims = redeem_code(oidc, http, code, &pending.verifier, &pending.nonce, now_ms).await?;
    let acr = claims
        .acr
        .ok_or_else(|| AuthError::UnknownAcr("(none)".into()))?;
    let level = level_from_acr(&config.acr, &acr).ok_or_else(|| {
        AuthError::UnknownAcr(
            acr.chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect(),
        )
    })?;
    if level < pending.level {
        return Err(AuthError::LevelTooLow {
            required: pending.level,
            actual: level,
        });
    }
    let session = Session {
        sub: claims.sub,
        level,
        acr,
        given_name: claims.given_name,
        family_name: claims.family_name,
        email: claims.email,
        address: claims.address,
        exp: now_ms + SESSION_TTL_MS,
    };
    Ok((session, pending.return_path))
}

/// Checks a callback against the pending login's `state` (in constant time), the
/// provider's error and the RFC 9207 `iss`; returns the authorization code.
pub(crate) fn check_callback<'a>(
    params: &'a CallbackParams,
    expected_state: &str,
    issuer: &str,
) -> Result<&'a str, AuthError> {
    let state = params.state.as_deref().unwrap_or("");
    if state.is_empty() || !bool::from(state.as_bytes().ct_eq(expected_state.as_bytes())) {
        return Err(AuthError::StateMismatch);
    }
    if let Some(error) = &params.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return Err(AuthError::Denied { error });
    }
    if let Some(iss) = &params.iss {
        if iss != issuer {
            return Err(AuthError::BadRequest(
                "iss of the authorization response is not the configured issuer".into(),
            ));
        }
    }
    params
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 4096)
        .ok_or_else(|| AuthError::BadRequest("callback without code".into()))
}

/// Exchanges the code at the token endpoint (with the PKCE verifier, client
/// authentication `client_secret_basic`) and verifies the ID token (refetching the key
/// set once for an unknown key).
pub(crate) async fn redeem_code<H: HttpClient>(
    oidc: &Oidc,
    http: &H,
    code: &str,
    verifier: &str,
    nonce: &str,
    now_ms: u64,
) -> Result<IdClaims, AuthError> {
    let config = &oidc.config;
    let metadata = oidc.metadata(http, now_ms).await?;
    let (status, body) = http
        .post_form(
            &metadata.token_endpoint,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &config.redirect_uri),
                ("code_verifier", verifier),
            ],
            Some((&config.client_id, &config.client_secret)),
        )
        .await?;
    if status != 200 {
        let error: String = body
            .get("error")
            .and_then(|e| e.as_str())
            .unwrap_or("(no error code)")
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return Err(AuthError::TokenExchange(format!(
            "token endpoint answered {status} `{error}`"
        )));
    }
    let id_token = body
        .get("id_token")
        .and_then(|t| t.as_str())
        .ok_or_else(|| AuthError::TokenExchange("answer without id_token".into()))?;
    let jwks = oidc.jwks(http, now_ms, false).await?;
    let verify = |jwks| {
        verify_id_token(
            id_token,
            jwks,
            &config.issuer,
            &config.client_id,
            nonce,
            now_ms,
        )
    };
    match verify(&jwks) {
        Err(AuthError::UnknownKey(_)) => verify(&oidc.jwks(http, now_ms, true).await?),
        other => other,
    }
}

/// The authorization request (code flow, PKCE S256) with `extra` parameters.
pub(crate) fn authorization_url(
    endpoint: &str,
    config: &super::OidcConfig,
    state: &str,
    nonce: &str,
    verifier: &str,
    extra: &[(&str, &str)],
) -> String {
    let challenge = pkce_challenge(verifier);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", &config.client_id)
        .append_pair("redirect_uri", &config.redirect_uri)
        .append_pair("scope", &config.scope)
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    query.extend_pairs(extra.iter().copied());
    let query = query.finish();
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    format!("{endpoint}{separator}{query}")
}

/// A random URL-safe text of `bytes` random bytes (state, nonce, PKCE verifier).
pub(crate) fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the system random number generator failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// The S256 PKCE challenge of a verifier.
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acr_maps_both_ways() {
        let map = AcrMap::default();
        assert_eq!(
            level_from_acr(&map, "STORK-QAA-Level-1"),
            Some(TrustLevel::Low)
        );
        assert_eq!(
            level_from_acr(&map, "STORK-QAA-Level-3"),
            Some(TrustLevel::Substantial)
        );
        assert_eq!(
            level_from_acr(&map, "STORK-QAA-Level-4"),
            Some(TrustLevel::High)
        );
        assert_eq!(level_from_acr(&map, "STORK-QAA-Level-2"), None);
        assert_eq!(level_from_acr(&map, "stork-qaa-level-4"), None);
        assert_eq!(level_from_acr(&map, ""), None);
        for level in [TrustLevel::Low, TrustLevel::Substantial, TrustLevel::High] {
            assert_eq!(
                level_from_acr(&map, acr_for_level(&map, level)),
                Some(level)
            );
        }
        assert_eq!(acr_for_level(&map, TrustLevel::None), "STORK-QAA-Level-1");
    }

    #[test]
    fn only_same_site_paths_return() {
        for ok in ["/", "/bottrop/", "/bottrop/hundesteuer?x=1#f", "/a/%2F%2Fb"] {
            assert_eq!(safe_return_path(ok), Some(ok), "{ok}");
        }
        for bad in [
            "",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "/\t/evil.example",
            "/ok\r\nSet-Cookie: x=1",
            "/a b",
            "/\u{7f}",
            "/ümlaut",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_path(&format!("/{}", "a".repeat(1100))), None);
    }

    #[test]
    fn callback_query_is_read() {
        let p = CallbackParams::from_query("code=abc&state=x%2By&iss=http%3A%2F%2Fi&state=second");
        assert_eq!(p.code.as_deref(), Some("abc"));
        assert_eq!(p.state.as_deref(), Some("x+y"));
        assert_eq!(p.iss.as_deref(), Some("http://i"));
        assert_eq!(p.error, None);
    }
}
