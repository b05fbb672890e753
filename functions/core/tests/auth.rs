//! Citizen login end to end against a real OpenID provider (the `oidc-provider` npm
//! package in tests/oidc-provider, started once per test run on 127.0.0.1), plus the
//! refusals of crafted ID tokens fed to the verification directly.
//!
//! Only loopback is used. Needs Node (>= 20) and npm; `npm ci` runs in
//! tests/oidc-provider when its node_modules are missing.

use std::cell::RefCell;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_executor::block_on;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lotse_functions::auth::{
    basic_authorization, begin_login, finish_login, open_cookie, seal_cookie, verify_id_token,
    AuthError, CallbackParams, HttpClient, Oidc, OidcConfig, PendingLogin, Session, SessionKeys,
    LOGIN_COOKIE, LOGIN_TTL_MS, SESSION_COOKIE, SESSION_TTL_MS,
};
use lotse_model::{AcrMap, TrustLevel};
use serde_json::{json, Value};

const CLIENT_ID: &str = "lotse-test";
const CLIENT_SECRET: &str = "lotse-test-secret-0123456789abcdef";
/// Registered at the provider; never contacted (the test stops at the redirect to it).
const REDIRECT_URI: &str = "http://127.0.0.1:9/api/callback";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn assert_loopback(url: &str) {
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "the tests only talk to loopback, not to {url}"
    );
}

// ---------------------------------------------------------------------------------
// The provider process

struct ProviderProcess {
    issuer: String,
    // Kept open: the server exits when its stdin closes, i.e. when this process ends.
    _child: Mutex<(Child, ChildStdin)>,
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc-provider")
}

fn start_provider() -> ProviderProcess {
    let dir = fixture_dir();
    if !dir.join("node_modules/oidc-provider/package.json").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status();
        match status {
            Ok(s) if s.success() => {}
            other => panic!(
                "could not install the test OpenID provider: `npm ci` in {} failed ({other:?}). \
                 The login tests need Node >= 20, npm and the npm registry (or a prepared \
                 node_modules) there.",
                dir.display()
            ),
        }
    }
    let mut child = Command::new("node")
        .arg("server.mjs")
        .arg("0")
        .current_dir(&dir)
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .env("REDIRECT_URI", REDIRECT_URI)
        .env_remove("FORCE_ACR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "could not start `node server.mjs` in {}: {e} (is Node installed?)",
                dir.display()
            )
        });
    let stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(issuer) = line.strip_prefix("listening ") {
                let _ = tx.send(issuer.trim().to_owned());
                break;
            }
        }
        // Keep draining, so the server never blocks on a full pipe.
        for _ in lines {}
    });
    let issuer = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the test OpenID provider did not report `listening` within 60 s");
    assert_loopback(&issuer);
    ProviderProcess {
        issuer,
        _child: Mutex::new((child, stdin)),
    }
}

fn issuer() -> &'static str {
    static PROVIDER: OnceLock<ProviderProcess> = OnceLock::new();
    &PROVIDER.get_or_init(start_provider).issuer
}

// ---------------------------------------------------------------------------------
// A blocking HttpClient with ureq, counting what it fetches

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .new_agent()
}

#[derive(Default)]
struct UreqHttp {
    agent: Option<ureq::Agent>,
    gets: RefCell<Vec<String>>,
    /// Answer the first JWKS request with this instead (a provider that rotated).
    stale_jwks: RefCell<Option<Value>>,
}

impl UreqHttp {
    fn new() -> UreqHttp {
        UreqHttp {
            agent: Some(agent()),
            ..UreqHttp::default()
        }
    }

    fn count(&self, suffix: &str) -> usize {
        self.gets
            .borrow()
            .iter()
            .filter(|u| u.ends_with(suffix))
            .count()
    }
}

impl HttpClient for UreqHttp {
    async fn get_json(&self, url: &str) -> Result<Value, AuthError> {
        assert_loopback(url);
        self.gets.borrow_mut().push(url.to_owned());
        if url.ends_with("/jwks") {
            if let Some(stale) = self.stale_jwks.borrow_mut().take() {
                return Ok(stale);
            }
        }
        let mut response = self
            .agent
            .as_ref()
            .unwrap()
            .get(url)
            .call()
            .map_err(|e| AuthError::Provider(format!("GET {url}: {e}")))?;
        if response.status() != 200 {
            return Err(AuthError::Provider(format!(
                "GET {url}: status {}",
                response.status()
            )));
        }
        response
            .body_mut()
            .read_json()
            .map_err(|e| AuthError::Provider(format!("GET {url}: {e}")))
    }

    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic_auth: Option<(&str, &str)>,
    ) -> Result<(u16, Value), AuthError> {
        assert_loopback(url);
        let mut request = self.agent.as_ref().unwrap().post(url);
        if let Some((id, secret)) = basic_auth {
            request = request.header("authorization", basic_authorization(id, secret));
        }
        let mut response = request
            .send_form(form.iter().copied())
            .map_err(|e| AuthError::Provider(format!("POST {url}: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_json()
            .map_err(|e| AuthError::Provider(format!("POST {url}: {e}")))?;
        Ok((status, body))
    }
}

// ---------------------------------------------------------------------------------
// The citizen's browser: follows redirects with a cookie jar until the callback

fn browse_to_callback(authorization_url: &str) -> String {
    let browser = agent(); // its own cookie jar: a fresh browser
    let mut url = authorization_url.to_owned();
    for _ in 0..12 {
        assert_loopback(&url);
        let mut response = browser.get(&url).call().expect("provider reachable");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        match location {
            Some(location) if (300..400).contains(&status) => {
                let next = if location.starts_with('/') {
                    format!("{}{location}", issuer())
                } else {
                    location
                };
                if next.starts_with(REDIRECT_URI) {
                    return next;
                }
                url = next;
            }
            _ => {
                let body = response.body_mut().read_to_string().unwrap_or_default();
                panic!("provider answered {status} at {url} instead of redirecting: {body}");
            }
        }
    }
    panic!("too many redirects from {authorization_url}");
}

fn query_of(url: &str) -> &str {
    url.split_once('?').map(|(_, q)| q).unwrap_or("")
}

fn query_param(url: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query_of(url).as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

// ---------------------------------------------------------------------------------
// Set-up helpers

fn keys() -> SessionKeys {
    SessionKeys::parse("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=").unwrap()
}

fn config_for(client_id: &str) -> OidcConfig {
    OidcConfig {
        issuer: issuer().to_owned(),
        client_id: client_id.to_owned(),
        client_secret: CLIENT_SECRET.to_owned(),
        redirect_uri: REDIRECT_URI.to_owned(),
        acr: AcrMap::default(),
        scope: "openid profile email".into(),
    }
}

fn oidc() -> Oidc {
    let config = config_for(CLIENT_ID);
    config.validate().unwrap();
    Oidc::new(config)
}

/// Runs the login up to the callback: the callback's parameters and the login cookie.
fn login_until_callback(
    oidc: &Oidc,
    http: &UreqHttp,
    level: TrustLevel,
    return_path: Option<&str>,
    test_acr: Option<&str>,
) -> (CallbackParams, String) {
    let (mut url, cookie) = block_on(begin_login(
        oidc,
        http,
        &keys(),
        "bottrop",
        return_path,
        level,
        now_ms(),
    ))
    .expect("begin_login");
    if let Some(acr) = test_acr {
        url.push_str("&test_acr=");
        url.push_str(&form_urlencoded::byte_serialize(acr.as_bytes()).collect::<String>());
    }
    let callback = browse_to_callback(&url);
    (CallbackParams::from_query(query_of(&callback)), cookie)
}

fn finish(
    oidc: &Oidc,
    http: &UreqHttp,
    params: &CallbackParams,
    cookie: Option<&str>,
) -> Result<(Session, String), AuthError> {
    block_on(finish_login(oidc, http, &keys(), params, cookie, now_ms()))
}

// ---------------------------------------------------------------------------------
// The whole flow against the provider

#[test]
fn full_login_rs256_gives_a_session_at_the_requested_level() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let start = now_ms();
    let (url, cookie) = block_on(begin_login(
        &oidc,
        &http,
        &keys(),
        "bottrop",
        Some("/bottrop/hundesteuer-anmelden?schritt=2"),
        TrustLevel::Substantial,
        start,
    ))
    .unwrap();
    // What the authorization request carries.
    assert!(url.starts_with(&format!("{}/auth?", issuer())));
    assert_eq!(query_param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(query_param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        query_param(&url, "redirect_uri").as_deref(),
        Some(REDIRECT_URI)
    );
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(&url, "acr_values").as_deref(),
        Some("STORK-QAA-Level-3")
    );
    // From "substantial" on, the provider must not answer from an older, lower login.
    assert_eq!(query_param(&url, "prompt").as_deref(), Some("login"));
    let state = query_param(&url, "state").unwrap();
    let nonce = query_param(&url, "nonce").unwrap();
    assert!(state.len() >= 43 && nonce.len() >= 43 && state != nonce);
    // The pending login is sealed, not readable.
    assert!(!cookie.contains(&state) && !cookie.contains("hundesteuer"));
    let pending: PendingLogin = open_cookie(LOGIN_COOKIE, &cookie, &keys(), start).unwrap();
    assert_eq!(pending.state, state);
    assert_eq!(pending.level, TrustLevel::Substantial);
    let challenge = query_param(&url, "code_challenge").unwrap();
    use sha2::Digest;
    assert_eq!(
        challenge,
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(pending.verifier.as_bytes()))
    );

    let callback = browse_to_callback(&url);
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(state.as_str())
    );
    let params = CallbackParams::from_query(query_of(&callback));
    assert_eq!(params.iss.as_deref(), Some(issuer()));
    let (session, return_path) = finish(&oidc, &http, &params, Some(&cookie)).unwrap();

    assert_eq!(return_path, "/bottrop/hundesteuer-anmelden?schritt=2");
    assert_eq!(session.sub, "buerger-4711");
    assert_eq!(session.level, TrustLevel::Substantial);
    assert_eq!(session.acr, "STORK-QAA-Level-3");
    assert_eq!(session.given_name.as_deref(), Some("Erika"));
    assert_eq!(session.family_name.as_deref(), Some("Mustermann"));
    assert_eq!(session.email.as_deref(), Some("erika@example.org"));
    assert_eq!(session.display_name().as_deref(), Some("Erika Mustermann"));
    assert!(session.exp >= start + SESSION_TTL_MS && session.exp <= now_ms() + SESSION_TTL_MS);

    // The session cookie round-trips, and is gone after its lifetime.
    let now = now_ms();
    let sealed = session.seal(&keys(), now);
    assert!(!sealed.contains("Erika") && !sealed.contains("4711"));
    let header = format!("theme=dark; {SESSION_COOKIE}={sealed}");
    assert_eq!(
        Session::from_cookie_header(Some(&header), &keys(), now + 1000),
        Some(session.clone())
    );
    assert_eq!(
        Session::from_cookie_header(Some(&header), &keys(), session.exp),
        None
    );
    // The mailbox links by a keyed hash, never the subject.
    let hash = lotse_functions::auth::AccountKey::from_bytes([9; 32]).account_hash(&session.sub);
    assert_eq!(hash.len(), 64);
    assert!(!hash.contains("4711"));
}

#[test]
fn full_login_es256_with_address_at_level_high() {
    let mut config = config_for(&format!("{CLIENT_ID}-es256"));
    config.scope = "openid profile email address".into();
    let (oidc, http) = (Oidc::new(config), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::High, None, None);
    let (session, return_path) = finish(&oidc, &http, &params, Some(&cookie)).unwrap();
    assert_eq!(return_path, "/bottrop/", "no return: the portal's home");
    assert_eq!(session.level, TrustLevel::High);
    assert_eq!(session.acr, "STORK-QAA-Level-4");
    let address = session.address.expect("address claim");
    assert_eq!(address.locality.as_deref(), Some("Köln"));
    assert_eq!(address.postal_code.as_deref(), Some("51147"));
}

#[test]
fn only_substantial_and_high_force_a_fresh_login() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    for (level, prompt) in [
        (TrustLevel::Low, None),
        (TrustLevel::Substantial, Some("login")),
        (TrustLevel::High, Some("login")),
    ] {
        let (url, _) = block_on(begin_login(
            &oidc,
            &http,
            &keys(),
            "bottrop",
            None,
            level,
            now_ms(),
        ))
        .unwrap();
        assert_eq!(query_param(&url, "prompt").as_deref(), prompt, "{level:?}");
    }
}

#[test]
fn a_higher_level_satisfies_a_lower_one() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(
        &oidc,
        &http,
        TrustLevel::Low,
        None,
        Some("STORK-QAA-Level-4"),
    );
    let (session, _) = finish(&oidc, &http, &params, Some(&cookie)).unwrap();
    assert_eq!(session.level, TrustLevel::High);
}

#[test]
fn a_lower_level_than_requested_is_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(
        &oidc,
        &http,
        TrustLevel::Substantial,
        None,
        Some("STORK-QAA-Level-1"),
    );
    let err = finish(&oidc, &http, &params, Some(&cookie)).unwrap_err();
    assert_eq!(
        err,
        AuthError::LevelTooLow {
            required: TrustLevel::Substantial,
            actual: TrustLevel::Low
        }
    );
    assert_eq!(err.status(), 403);
    assert!(
        err.user_message().contains("ELSTER"),
        "{}",
        err.user_message()
    );
}

#[test]
fn an_unknown_acr_is_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(
        &oidc,
        &http,
        TrustLevel::Low,
        None,
        Some("urn:example:loa:unknown"),
    );
    let err = finish(&oidc, &http, &params, Some(&cookie)).unwrap_err();
    assert!(
        matches!(err, AuthError::UnknownAcr(ref acr) if acr == "urn:example:loa:unknown"),
        "{err:?}"
    );
}

#[test]
fn wrong_or_missing_state_is_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);

    let wrong = CallbackParams {
        state: Some(format!("{}x", params.state.as_deref().unwrap())),
        ..params.clone()
    };
    assert_eq!(
        finish(&oidc, &http, &wrong, Some(&cookie)),
        Err(AuthError::StateMismatch)
    );
    let missing = CallbackParams {
        state: None,
        ..params.clone()
    };
    assert_eq!(
        finish(&oidc, &http, &missing, Some(&cookie)),
        Err(AuthError::StateMismatch)
    );

    // The callback of one login with the cookie of another (login CSRF).
    let (_, other_cookie) = block_on(begin_login(
        &oidc,
        &http,
        &keys(),
        "bottrop",
        None,
        TrustLevel::Low,
        now_ms(),
    ))
    .unwrap();
    assert_eq!(
        finish(&oidc, &http, &params, Some(&other_cookie)),
        Err(AuthError::StateMismatch)
    );

    // None of these used up the code: the right pair still works.
    assert!(finish(&oidc, &http, &params, Some(&cookie)).is_ok());
}

#[test]
fn a_replayed_code_is_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
    assert!(finish(&oidc, &http, &params, Some(&cookie)).is_ok());
    let err = finish(&oidc, &http, &params, Some(&cookie)).unwrap_err();
    assert!(
        matches!(err, AuthError::TokenExchange(ref why) if why.contains("invalid_grant")),
        "{err:?}"
    );
}

/// The pending login in `cookie`, changed by `edit` and sealed again with the right keys
/// (what an attacker holding the keys could forge).
fn reseal(cookie: &str, edit: impl FnOnce(&mut PendingLogin)) -> String {
    let now = now_ms();
    let mut pending: PendingLogin = open_cookie(LOGIN_COOKIE, cookie, &keys(), now).unwrap();
    edit(&mut pending);
    seal_cookie(LOGIN_COOKIE, &pending, &keys(), now, LOGIN_TTL_MS)
}

#[test]
fn a_wrong_pkce_verifier_is_refused_by_the_provider() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
    let forged = reseal(&cookie, |pending| pending.verifier = "x".repeat(43));
    let err = finish(&oidc, &http, &params, Some(&forged)).unwrap_err();
    assert!(matches!(err, AuthError::TokenExchange(_)), "{err:?}");
}

#[test]
fn a_wrong_nonce_is_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
    // The same pending login, but expecting another nonce than the provider put in the
    // ID token (as if the token belonged to another login).
    let forged = reseal(&cookie, |pending| {
        pending.nonce = "another-nonce-entirely".into()
    });
    let err = finish(&oidc, &http, &params, Some(&forged)).unwrap_err();
    assert!(
        matches!(err, AuthError::InvalidIdToken(ref why) if why.contains("nonce")),
        "{err:?}"
    );
}

#[test]
fn missing_tampered_expired_or_foreign_login_cookies_are_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
    assert_eq!(
        finish(&oidc, &http, &params, None),
        Err(AuthError::LoginExpired)
    );

    let mut bytes = URL_SAFE_NO_PAD.decode(&cookie).unwrap();
    let last = bytes.len() - 20;
    bytes[last] ^= 0x40;
    let tampered = URL_SAFE_NO_PAD.encode(&bytes);
    assert_eq!(
        finish(&oidc, &http, &params, Some(&tampered)),
        Err(AuthError::LoginExpired)
    );
    assert_eq!(
        finish(&oidc, &http, &params, Some("bm90IGEgY29va2ll")),
        Err(AuthError::LoginExpired)
    );

    let later = now_ms() + LOGIN_TTL_MS + 1;
    assert_eq!(
        block_on(finish_login(
            &oidc,
            &http,
            &keys(),
            &params,
            Some(&cookie),
            later
        )),
        Err(AuthError::LoginExpired)
    );

    // A session cookie is no login cookie, even under the same key.
    let pending: PendingLogin = open_cookie(LOGIN_COOKIE, &cookie, &keys(), now_ms()).unwrap();
    let misnamed = seal_cookie(SESSION_COOKIE, &pending, &keys(), now_ms(), LOGIN_TTL_MS);
    assert_eq!(
        finish(&oidc, &http, &params, Some(&misnamed)),
        Err(AuthError::LoginExpired)
    );

    // Sealed under another secret.
    let other = SessionKeys {
        current: [7; 32],
        previous: None,
    };
    let foreign = seal_cookie(LOGIN_COOKIE, &pending, &other, now_ms(), LOGIN_TTL_MS);
    assert_eq!(
        finish(&oidc, &http, &params, Some(&foreign)),
        Err(AuthError::LoginExpired)
    );
}

#[test]
fn foreign_return_urls_are_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    for bad in [
        "https://evil.example/",
        "http://127.0.0.1:9/x",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "data:text/html,hi",
        "evil.example",
        "/%0d%0a\r\nLocation: https://evil.example",
        "/\u{0}",
    ] {
        let err = block_on(begin_login(
            &oidc,
            &http,
            &keys(),
            "bottrop",
            Some(bad),
            TrustLevel::Low,
            now_ms(),
        ))
        .unwrap_err();
        assert!(matches!(err, AuthError::BadRequest(_)), "{bad:?}: {err:?}");
        assert_eq!(err.status(), 400);
    }
    let err = block_on(begin_login(
        &oidc,
        &http,
        &keys(),
        "../evil",
        None,
        TrustLevel::Low,
        now_ms(),
    ))
    .unwrap_err();
    assert!(matches!(err, AuthError::BadRequest(_)));
}

#[test]
fn provider_errors_and_foreign_issuers_in_the_callback_are_refused() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
    let denied = CallbackParams {
        code: None,
        error: Some("access_denied".into()),
        ..params.clone()
    };
    let err = finish(&oidc, &http, &denied, Some(&cookie)).unwrap_err();
    assert_eq!(
        err,
        AuthError::Denied {
            error: "access_denied".into()
        }
    );
    assert!(err.user_message().contains("abgebrochen"));

    let mixed_up = CallbackParams {
        iss: Some("http://127.0.0.1:1".into()),
        ..params.clone()
    };
    assert!(matches!(
        finish(&oidc, &http, &mixed_up, Some(&cookie)),
        Err(AuthError::BadRequest(_))
    ));
    let no_code = CallbackParams {
        code: None,
        ..params
    };
    assert!(matches!(
        finish(&oidc, &http, &no_code, Some(&cookie)),
        Err(AuthError::BadRequest(_))
    ));
}

#[test]
fn discovery_must_name_the_configured_issuer() {
    let mut config = config_for(CLIENT_ID);
    config.issuer = format!("{}/", issuer()); // differs by the trailing slash
    let (oidc, http) = (Oidc::new(config), UreqHttp::new());
    let err = block_on(begin_login(
        &oidc,
        &http,
        &keys(),
        "bottrop",
        None,
        TrustLevel::Low,
        now_ms(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, AuthError::Provider(ref why) if why.contains("issuer")),
        "{err:?}"
    );
    assert_eq!(err.status(), 502);
}

#[test]
fn metadata_and_keys_are_cached_and_refetched_on_an_unknown_kid() {
    let (oidc, http) = (oidc(), UreqHttp::new());
    for _ in 0..2 {
        let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
        finish(&oidc, &http, &params, Some(&cookie)).unwrap();
    }
    assert_eq!(http.count("/.well-known/openid-configuration"), 1);
    assert_eq!(http.count("/jwks"), 1);

    // A cached key set without the provider's current key: the unknown kid makes the
    // login fetch the key set once more, and succeed.
    let (oidc, http) = (self::oidc(), UreqHttp::new());
    *http.stale_jwks.borrow_mut() = Some(json!({"keys": [rsa_key().1]}));
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
    finish(&oidc, &http, &params, Some(&cookie)).unwrap();
    assert_eq!(http.count("/jwks"), 2);

    // Within the cache lifetime nothing is fetched; after it, both are fetched again.
    let soon = now_ms() + 60_000;
    block_on(oidc.metadata(&http, soon)).unwrap();
    block_on(oidc.jwks(&http, soon, false)).unwrap();
    assert_eq!(http.count("/.well-known/openid-configuration"), 1);
    assert_eq!(http.count("/jwks"), 2);
    let later = now_ms() + lotse_functions::auth::CACHE_TTL_MS + 1;
    block_on(oidc.metadata(&http, later)).unwrap();
    let fetched = block_on(oidc.jwks(&http, later, false)).unwrap();
    assert!(fetched.find("rsa-1").is_some() && fetched.find("ec-1").is_some());
    assert_eq!(http.count("/.well-known/openid-configuration"), 2);
    assert_eq!(http.count("/jwks"), 3);
}

#[test]
fn session_cookies_survive_a_key_rotation_but_not_an_unknown_key() {
    let old = keys();
    let rotated = SessionKeys {
        current: [9; 32],
        previous: Some(old.current),
    };
    let dropped = SessionKeys {
        current: [9; 32],
        previous: None,
    };
    let now = now_ms();
    let session = Session {
        sub: "buerger-4711".into(),
        level: TrustLevel::High,
        acr: "STORK-QAA-Level-4".into(),
        given_name: Some("Erika".into()),
        family_name: Some("Mustermann".into()),
        email: None,
        address: None,
        exp: now + SESSION_TTL_MS,
    };
    let header = format!("{SESSION_COOKIE}={}", session.seal(&old, now));
    assert_eq!(
        Session::from_cookie_header(Some(&header), &rotated, now),
        Some(session.clone())
    );
    assert_eq!(
        Session::from_cookie_header(Some(&header), &dropped, now),
        None
    );
    // New cookies are sealed under the new key, which the old configuration rejects.
    let fresh = format!("{SESSION_COOKIE}={}", session.seal(&rotated, now));
    assert!(Session::from_cookie_header(Some(&fresh), &rotated, now).is_some());
    assert_eq!(Session::from_cookie_header(Some(&fresh), &old, now), None);
    // Tampering with any byte is detected.
    let sealed = session.seal(&old, now);
    let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
    bytes[20] ^= 1;
    let tampered = format!("{SESSION_COOKIE}={}", URL_SAFE_NO_PAD.encode(&bytes));
    assert_eq!(
        Session::from_cookie_header(Some(&tampered), &old, now),
        None
    );
    // The secret's text format, with the previous key second.
    let text = format!(
        "{},{}",
        base64::engine::general_purpose::STANDARD.encode([9u8; 32]),
        base64::engine::general_purpose::STANDARD.encode(old.current)
    );
    assert_eq!(SessionKeys::parse(&text).unwrap(), rotated);

    // A login started before the rotation still finishes after it.
    let (oidc, http) = (oidc(), UreqHttp::new());
    let (params, cookie) = login_until_callback(&oidc, &http, TrustLevel::Low, None, None);
    let result = block_on(finish_login(
        &oidc,
        &http,
        &rotated,
        &params,
        Some(&cookie),
        now_ms(),
    ));
    assert!(result.is_ok(), "{result:?}");
}

// ---------------------------------------------------------------------------------
// Crafted ID tokens, verified directly against a key set made here

const ISS: &str = "https://id.example.org/realms/nrw";
const AUD: &str = "lotse";
const NONCE: &str = "n-0S6_WzA2Mj";

/// An RSA key made once per test run: (signing key, public JWK with kid `rsa-test`).
fn rsa_key() -> &'static (EncodingKey, Value) {
    static KEY: OnceLock<(EncodingKey, Value)> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let key = EncodingKey::from_rsa_der(private.to_pkcs1_der().unwrap().as_bytes());
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap()).unwrap();
        jwk["kid"] = json!("rsa-test");
        jwk["use"] = json!("sig");
        (key, jwk)
    })
}

/// A fresh P-256 key: (signing key, public JWK with the given kid).
fn ec_key(kid: &str) -> (EncodingKey, Value) {
    use p256::pkcs8::EncodePrivateKey;
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let key = EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
    let mut jwk =
        serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap()).unwrap();
    jwk["kid"] = json!(kid);
    (key, jwk)
}

fn jwks(keys: &[&Value]) -> JwkSet {
    serde_json::from_value(json!({ "keys": keys })).unwrap()
}

fn claims(now_s: u64) -> Value {
    json!({
        "iss": ISS, "aud": AUD, "sub": "buerger-4711", "nonce": NONCE,
        "iat": now_s, "exp": now_s + 300, "acr": "STORK-QAA-Level-4",
        "given_name": "Erika", "family_name": "Mustermann",
    })
}

fn sign(alg: Algorithm, kid: &str, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn rs256(claims: &Value) -> String {
    sign(Algorithm::RS256, "rsa-test", &rsa_key().0, claims)
}

/// A token assembled by hand: any header, any signature.
fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

fn verify(
    token: &str,
    set: &JwkSet,
    now_ms: u64,
) -> Result<lotse_functions::auth::IdClaims, AuthError> {
    verify_id_token(token, set, ISS, AUD, NONCE, now_ms)
}

fn refused_because(result: Result<lotse_functions::auth::IdClaims, AuthError>, needle: &str) {
    match result {
        Err(AuthError::InvalidIdToken(why)) => {
            assert!(
                why.contains(needle),
                "refused, but for `{why}`, not `{needle}`"
            )
        }
        other => panic!("expected a refusal for `{needle}`, got {other:?}"),
    }
}

#[test]
fn crafted_valid_tokens_pass_rs256_and_es256() {
    let now = now_ms();
    let (ec, ec_jwk) = ec_key("ec-test");
    let set = jwks(&[&rsa_key().1, &ec_jwk]);
    let claims = claims(now / 1000);
    let verified = verify(&rs256(&claims), &set, now).unwrap();
    assert_eq!(verified.sub, "buerger-4711");
    assert_eq!(verified.acr.as_deref(), Some("STORK-QAA-Level-4"));
    assert_eq!(verified.given_name.as_deref(), Some("Erika"));
    assert!(verify(&sign(Algorithm::ES256, "ec-test", &ec, &claims), &set, now).is_ok());
    // Several audiences are fine with azp naming this client.
    let mut multi = claims.clone();
    multi["aud"] = json!([AUD, "broker"]);
    multi["azp"] = json!(AUD);
    assert!(verify(&rs256(&multi), &set, now).is_ok());
    // Within the clock skew.
    let mut skewed = claims.clone();
    skewed["iat"] = json!(now / 1000 + 50);
    assert!(verify(&rs256(&skewed), &set, now).is_ok());
}

#[test]
fn unsigned_tokens_are_refused() {
    let now = now_ms();
    let set = jwks(&[&rsa_key().1]);
    let claims = claims(now / 1000);
    for alg in ["none", "None", "NONE"] {
        let token = raw_token(&json!({"alg": alg, "typ": "JWT"}), &claims, b"");
        refused_because(verify(&token, &set, now), "not accepted");
        let token = raw_token(&json!({"alg": alg, "kid": "rsa-test"}), &claims, b"x");
        refused_because(verify(&token, &set, now), "not accepted");
    }
    let no_alg = raw_token(&json!({"kid": "rsa-test"}), &claims, b"x");
    refused_because(verify(&no_alg, &set, now), "not accepted");
    // A valid RS256 token with its signature stripped.
    let good = rs256(&claims);
    let stripped = format!("{}.", good.rsplit_once('.').unwrap().0);
    refused_because(verify(&stripped, &set, now), "signature");
    refused_because(verify("", &set, now), "three");
    refused_because(verify("a.b", &set, now), "three");
}

#[test]
fn hmac_signed_tokens_are_refused() {
    let now = now_ms();
    let claims = claims(now / 1000);
    // Signed with the client secret, as a confused provider or an attacker might.
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let token = sign(
            alg,
            "rsa-test",
            &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
            &claims,
        );
        refused_because(verify(&token, &jwks(&[&rsa_key().1]), now), "not accepted");
    }
    // Key confusion: an HMAC token "signed" with the RSA public key's bytes, or a key set
    // that offers a symmetric key under the kid.
    let n = rsa_key().1["n"].as_str().unwrap().to_owned();
    let token = sign(
        Algorithm::HS256,
        "rsa-test",
        &EncodingKey::from_secret(n.as_bytes()),
        &claims,
    );
    refused_because(verify(&token, &jwks(&[&rsa_key().1]), now), "not accepted");
    let oct = json!({"kty": "oct", "kid": "oct-1", "k": URL_SAFE_NO_PAD.encode(CLIENT_SECRET)});
    let token = sign(
        Algorithm::HS256,
        "oct-1",
        &EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
        &claims,
    );
    refused_because(verify(&token, &jwks(&[&oct]), now), "not accepted");
    // An RS256 header pointing at the symmetric key finds no usable key.
    let token = raw_token(&json!({"alg": "RS256", "kid": "oct-1"}), &claims, b"sig");
    assert!(matches!(
        verify(&token, &jwks(&[&oct]), now),
        Err(AuthError::UnknownKey(_))
    ));
}

#[test]
fn expired_or_future_tokens_are_refused() {
    let now = now_ms();
    let now_s = now / 1000;
    let set = jwks(&[&rsa_key().1]);
    let mut expired = claims(now_s - 3600);
    expired["exp"] = json!(now_s - 600);
    refused_because(verify(&rs256(&expired), &set, now), "expired");
    let mut just = claims(now_s - 400);
    just["exp"] = json!(now_s - 61);
    refused_because(verify(&rs256(&just), &set, now), "expired");
    let mut no_exp = claims(now_s);
    no_exp.as_object_mut().unwrap().remove("exp");
    refused_because(verify(&rs256(&no_exp), &set, now), "exp is missing");
    let mut text_exp = claims(now_s);
    text_exp["exp"] = json!("tomorrow");
    refused_because(verify(&rs256(&text_exp), &set, now), "not a number");
    let future = claims(now_s + 3600);
    refused_because(verify(&rs256(&future), &set, now), "future");
    let mut no_iat = claims(now_s);
    no_iat.as_object_mut().unwrap().remove("iat");
    refused_because(verify(&rs256(&no_iat), &set, now), "iat is missing");
    let mut nbf = claims(now_s);
    nbf["nbf"] = json!(now_s + 600);
    refused_because(verify(&rs256(&nbf), &set, now), "nbf");
}

#[test]
fn wrong_audience_or_issuer_is_refused() {
    let now = now_ms();
    let set = jwks(&[&rsa_key().1]);
    let base = claims(now / 1000);
    let with = |key: &str, value: Value| {
        let mut c = base.clone();
        c[key] = value;
        rs256(&c)
    };
    refused_because(
        verify(&with("aud", json!("another-client")), &set, now),
        "aud",
    );
    refused_because(
        verify(&with("aud", json!(["another-client", "broker"])), &set, now),
        "aud",
    );
    refused_because(
        verify(&with("aud", json!(null)), &set, now),
        "aud is missing",
    );
    refused_because(
        verify(&with("aud", json!([AUD, "broker"])), &set, now),
        "azp",
    );
    refused_because(
        verify(&with("azp", json!("another-client")), &set, now),
        "azp",
    );
    refused_because(
        verify(&with("iss", json!("https://evil.example")), &set, now),
        "iss",
    );
    refused_because(
        verify(&with("iss", json!(format!("{ISS}/"))), &set, now),
        "iss",
    );
    refused_because(
        verify(&with("iss", json!(null)), &set, now),
        "iss is missing",
    );
    refused_because(verify(&with("nonce", json!("other")), &set, now), "nonce");
    refused_because(verify(&with("nonce", json!(null)), &set, now), "nonce");
    refused_because(verify(&with("sub", json!("")), &set, now), "sub");
}

#[test]
fn signatures_must_come_from_the_providers_key() {
    let now = now_ms();
    let claims = claims(now / 1000);
    let (ec, ec_jwk) = ec_key("ec-test");
    let (other_ec, _) = ec_key("ec-test");
    let set = jwks(&[&rsa_key().1, &ec_jwk]);
    // Same kid, another key.
    refused_because(
        verify(
            &sign(Algorithm::ES256, "ec-test", &other_ec, &claims),
            &set,
            now,
        ),
        "signature",
    );
    // Claims changed after signing.
    let token = rs256(&claims);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut changed = claims.clone();
    changed["sub"] = json!("buerger-0815");
    parts[1] = URL_SAFE_NO_PAD.encode(changed.to_string());
    refused_because(verify(&parts.join("."), &set, now), "signature");
    // Unknown kid, and a kid whose key type does not fit the algorithm.
    assert!(matches!(
        verify(
            &sign(Algorithm::ES256, "ec-unknown", &ec, &claims),
            &set,
            now
        ),
        Err(AuthError::UnknownKey(_))
    ));
    assert!(matches!(
        verify(
            &sign(Algorithm::RS256, "ec-test", &rsa_key().0, &claims),
            &set,
            now
        ),
        Err(AuthError::UnknownKey(_))
    ));
    // No kid: only an unambiguous key is used.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = None;
    let no_kid = jsonwebtoken::encode(&header, &claims, &rsa_key().0).unwrap();
    assert!(verify(&no_kid, &set, now).is_ok());
    let second_rsa = {
        let mut k = rsa_key().1.clone();
        k["kid"] = json!("rsa-2");
        k
    };
    assert!(matches!(
        verify(&no_kid, &jwks(&[&rsa_key().1, &second_rsa]), now),
        Err(AuthError::UnknownKey(_))
    ));
    // Keys marked for encryption are not used to verify.
    let mut enc = rsa_key().1.clone();
    enc["use"] = json!("enc");
    assert!(matches!(
        verify(&rs256(&claims), &jwks(&[&enc]), now),
        Err(AuthError::UnknownKey(_))
    ));
}

#[test]
fn every_error_speaks_german_to_citizens_and_english_to_the_log() {
    let errors = [
        AuthError::NotConfigured("x".into()),
        AuthError::BadRequest("x".into()),
        AuthError::Provider("x".into()),
        AuthError::LoginExpired,
        AuthError::StateMismatch,
        AuthError::Denied {
            error: "access_denied".into(),
        },
        AuthError::TokenExchange("x".into()),
        AuthError::InvalidIdToken("x".into()),
        AuthError::UnknownKey("x".into()),
        AuthError::UnknownAcr("x".into()),
        AuthError::LevelTooLow {
            required: TrustLevel::High,
            actual: TrustLevel::Low,
        },
    ];
    for error in errors {
        let (de, en) = (error.user_message(), error.log_reason());
        assert!(
            de.contains("Anmeld") || de.contains("Online-Ausweis"),
            "{de}"
        );
        assert_ne!(de, en);
        assert_eq!(error.to_string(), en);
        assert!((400..600).contains(&error.status()));
        assert!(error.code().starts_with("login_"));
    }
}
