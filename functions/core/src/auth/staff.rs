//! Staff login for the caseworkers' workspace (SPEC section 9): the city's own OpenID
//! provider, the same code flow with PKCE as the citizens' login, but another cookie,
//! other keys and a short life. The session names the `<portal>/<office>` ids the
//! person works for, read from the ID token's offices claim.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::flow::{authorization_url, check_callback, random_text, redeem_code};
use super::session::{cookie_value, open_cookie, seal_cookie, SessionKeys};
use super::{safe_return_path, AuthError, CallbackParams, HttpClient, Oidc};

/// The staff session's cookie (SameSite=Strict, see [`set_staff_cookie`]).
pub const STAFF_COOKIE: &str = "lotse_amt";
/// The pending staff login between `/api/amt/login` and `/api/amt/callback`.
pub const STAFF_LOGIN_COOKIE: &str = "lotse_amt_login";
/// A staff session ends after 15 minutes without a request …
pub const STAFF_IDLE_MS: u64 = 15 * 60 * 1000;
/// … and after 10 hours (a working day) at the latest.
pub const STAFF_MAX_MS: u64 = 10 * 60 * 60 * 1000;
/// How long a caseworker has to finish a login at the provider.
pub const STAFF_LOGIN_TTL_MS: u64 = 10 * 60 * 1000;
/// Where the workspace lives; logins return only below it.
pub const WORKSPACE_PATH: &str = "/amt/";
/// More office ids than this in one claim are not a person's work but a mistake.
const MAX_OFFICES: usize = 200;

/// The staff's provider, the keys of their cookies and the claim that lists offices.
#[derive(Clone, Debug)]
pub struct StaffLogin {
    pub oidc: std::sync::Arc<Oidc>,
    pub keys: SessionKeys,
    pub offices_claim: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct PendingStaffLogin {
    state: String,
    nonce: String,
    verifier: String,
    return_path: String,
}

/// A logged-in caseworker, as sealed into the [`STAFF_COOKIE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSession {
    /// The provider's subject: who did it, in the audit log.
    pub sub: String,
    /// How the audit log and the workspace name them.
    pub name: String,
    /// `"<portal>/<office>"` ids, sorted.
    pub offices: Vec<String>,
    /// The end of the session whatever happens (ms since the epoch).
    pub exp: u64,
    /// The end unless another request comes first.
    pub idle_until: u64,
}

impl StaffSession {
    /// Whether the session covers an office.
    pub fn covers(&self, portal: &str, office: &str) -> bool {
        self.offices
            .iter()
            .any(|id| id.split_once('/') == Some((portal, office)))
    }

    /// The session of a request (its `Cookie` header), if it opens and is alive.
    pub fn from_cookie_header(
        cookie_header: Option<&str>,
        keys: &SessionKeys,
        now_ms: u64,
    ) -> Option<StaffSession> {
        let value = cookie_value(cookie_header?, STAFF_COOKIE)?;
        let session: StaffSession = open_cookie(STAFF_COOKIE, value, keys, now_ms)?;
        (now_ms < session.exp && now_ms < session.idle_until).then_some(session)
    }

    /// The same session with its idle time starting again at `now_ms`, and the
    /// `Set-Cookie` value that carries it.
    pub fn renewed(mut self, keys: &SessionKeys, now_ms: u64) -> (StaffSession, String) {
        self.idle_until = now_ms.saturating_add(STAFF_IDLE_MS).min(self.exp);
        let ttl = self.idle_until.saturating_sub(now_ms);
        let sealed = seal_cookie(STAFF_COOKIE, &self, keys, now_ms, ttl);
        let header = set_staff_cookie(&sealed, ttl);
        (self, header)
    }
}

/// `Set-Cookie` for the staff session: only the API needs it, and only from the site
/// itself (SameSite=Strict: no other site's page can make the browser send it).
pub fn set_staff_cookie(value: &str, max_age_ms: u64) -> String {
    format!(
        "{STAFF_COOKIE}={value}; Path=/api/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        max_age_ms / 1000
    )
}

/// `Set-Cookie` that ends the staff session.
pub fn clear_staff_cookie() -> String {
    format!("{STAFF_COOKIE}=; Path=/api/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// `Set-Cookie` for the pending login: Lax, since it must come back with the
/// provider's redirect, a navigation from another site.
pub fn set_staff_login_cookie(value: &str) -> String {
    format!(
        "{STAFF_LOGIN_COOKIE}={value}; Path=/api/amt/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        STAFF_LOGIN_TTL_MS / 1000
    )
}

pub fn clear_staff_login_cookie() -> String {
    format!("{STAFF_LOGIN_COOKIE}=; Path=/api/amt/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

/// A return path into the workspace (same-site and below `/amt/`).
pub fn workspace_return_path(input: &str) -> Option<&str> {
    safe_return_path(input)
        .filter(|path| path.starts_with(WORKSPACE_PATH) && !path.contains("/../"))
}

/// Starts a staff login: the provider's authorization URL and the sealed pending login
/// for [`set_staff_login_cookie`]. `login_hint` (which account, as the provider's own
/// login form would ask) is passed on when it is plain text of up to 256 characters.
pub async fn begin_staff_login<H: HttpClient>(
    login: &StaffLogin,
    http: &H,
    return_path: Option<&str>,
    login_hint: Option<&str>,
    now_ms: u64,
) -> Result<(String, String), AuthError> {
    let return_path = match return_path.filter(|r| !r.is_empty()) {
        Some(path) => workspace_return_path(path)
            .ok_or_else(|| AuthError::BadRequest("return is not a path below /amt/".into()))?
            .to_owned(),
        None => WORKSPACE_PATH.to_owned(),
    };
    let metadata = login.oidc.metadata(http, now_ms).await?;
    let pending = PendingStaffLogin {
        state: random_text(32),
        nonce: random_text(32),
        verifier: random_text(32),
        return_path,
    };
    let mut extra = vec![("ui_locales", "de")];
    let hint = login_hint
        .filter(|h| !h.is_empty() && h.chars().count() <= 256 && !h.chars().any(char::is_control));
    if let Some(hint) = hint {
        extra.push(("login_hint", hint));
    }
    let url = authorization_url(
        &metadata.authorization_endpoint,
        &login.oidc.config,
        &pending.state,
        &pending.nonce,
        &pending.verifier,
        &extra,
    );
    let cookie = seal_cookie(
        STAFF_LOGIN_COOKIE,
        &pending,
        &login.keys,
        now_ms,
        STAFF_LOGIN_TTL_MS,
    );
    Ok((url, cookie))
}

/// Finishes a staff login: the callback against the pending login, the code exchange,
/// the ID token, and the offices of its claim. A person whose claim names no office
/// gets [`AuthError::NoOffice`].
pub async fn finish_staff_login<H: HttpClient>(
    login: &StaffLogin,
    http: &H,
    params: &CallbackParams,
    login_cookie: Option<&str>,
    now_ms: u64,
) -> Result<(StaffSession, String), AuthError> {
    let pending: PendingStaffLogin = login_cookie
        .and_then(|text| open_cookie(STAFF_LOGIN_COOKIE, text, &login.keys, now_ms))
        .ok_or(AuthError::LoginExpired)?;
    let code = check_callback(params, &pending.state, &login.oidc.config.issuer)?;
    let claims = redeem_code(
        &login.oidc,
        http,
        code,
        &pending.verifier,
        &pending.nonce,
        now_ms,
    )
    .await?;
    let offices = offices_from_claim(claims.all.get(&login.offices_claim));
    if offices.is_empty() {
        return Err(AuthError::NoOffice);
    }
    let name = claims
        .name
        .clone()
        .or_else(|| match (&claims.given_name, &claims.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        })
        .or_else(|| claims.email.clone())
        .unwrap_or_else(|| claims.sub.clone());
    let session = StaffSession {
        sub: claims.sub,
        name: name.chars().take(200).collect(),
        offices,
        exp: now_ms + STAFF_MAX_MS,
        idle_until: now_ms + STAFF_IDLE_MS,
    };
    Ok((session, pending.return_path))
}

/// The office ids of the claim: an array of strings or one space-separated string.
/// Anything but `<slug>/<slug>` is left out; sorted, without repeats.
pub fn offices_from_claim(claim: Option<&Value>) -> Vec<String> {
    let candidates: Vec<&str> = match claim {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(text)) => text.split_whitespace().collect(),
        _ => Vec::new(),
    };
    let mut offices: Vec<String> = candidates
        .into_iter()
        .filter(|id| {
            id.split_once('/').is_some_and(|(portal, office)| {
                lotse_model::slug::is_slug(portal) && lotse_model::slug::is_slug(office)
            })
        })
        .map(str::to_owned)
        .collect();
    offices.sort();
    offices.dedup();
    offices.truncate(MAX_OFFICES);
    offices
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(now: u64) -> StaffSession {
        StaffSession {
            sub: "petra".into(),
            name: "Petra Schulte".into(),
            offices: vec!["bottrop/buergerbuero".into()],
            exp: now + STAFF_MAX_MS,
            idle_until: now + STAFF_IDLE_MS,
        }
    }

    #[test]
    fn offices_claim_takes_arrays_and_strings_and_drops_the_rest() {
        assert_eq!(
            offices_from_claim(Some(&json!([
                "bottrop/standesamt",
                "bottrop/buergerbuero",
                "bottrop/standesamt"
            ]))),
            vec!["bottrop/buergerbuero", "bottrop/standesamt"]
        );
        assert_eq!(
            offices_from_claim(Some(&json!(
                "gelsenkirchen/buergerbuero  bottrop/steueramt"
            ))),
            vec!["bottrop/steueramt", "gelsenkirchen/buergerbuero"]
        );
        for bad in [
            json!(["bottrop"]),
            json!(["../x/y"]),
            json!(["Bottrop/Bürgerbüro"]),
            json!(["a/b/c"]),
            json!([7]),
            json!({"bottrop": "buergerbuero"}),
            json!(null),
        ] {
            assert!(offices_from_claim(Some(&bad)).is_empty(), "{bad}");
        }
        assert!(offices_from_claim(None).is_empty());
    }

    #[test]
    fn a_session_covers_exactly_its_offices() {
        let s = session(0);
        assert!(s.covers("bottrop", "buergerbuero"));
        assert!(!s.covers("bottrop", "standesamt"));
        assert!(!s.covers("gelsenkirchen", "buergerbuero"));
        assert!(!s.covers("bottrop/buergerbuero", ""));
    }

    #[test]
    fn the_session_ends_when_idle_and_at_its_maximum() {
        let keys = SessionKeys::random();
        let now = 1_000_000;
        let (s, header) = session(now).renewed(&keys, now);
        let value = header
            .strip_prefix("lotse_amt=")
            .and_then(|h| h.split(';').next())
            .unwrap();
        let cookie = format!("{STAFF_COOKIE}={value}");
        assert!(header.contains("SameSite=Strict") && header.contains("HttpOnly"));
        assert_eq!(
            StaffSession::from_cookie_header(Some(&cookie), &keys, now + 60_000),
            Some(s.clone())
        );
        assert_eq!(
            StaffSession::from_cookie_header(Some(&cookie), &keys, now + STAFF_IDLE_MS),
            None,
            "idle for 15 minutes"
        );
        // Renewed again and again, it still ends after the maximum.
        let late = now + STAFF_MAX_MS - 1_000;
        let (renewed, _) = s.renewed(&keys, late);
        assert_eq!(renewed.idle_until, now + STAFF_MAX_MS);
        // Another key (the citizens' session keys) opens nothing.
        assert_eq!(
            StaffSession::from_cookie_header(Some(&cookie), &SessionKeys::random(), now),
            None
        );
        // The citizen's cookie name does not carry a staff session.
        let citizen = format!("lotse_session={value}");
        assert_eq!(
            StaffSession::from_cookie_header(Some(&citizen), &keys, now),
            None
        );
    }

    #[test]
    fn logins_return_only_into_the_workspace() {
        assert_eq!(workspace_return_path("/amt/"), Some("/amt/"));
        assert_eq!(
            workspace_return_path("/amt/vorgang/?id=7K3M-9QPX"),
            Some("/amt/vorgang/?id=7K3M-9QPX")
        );
        for bad in [
            "/",
            "/bottrop/",
            "//evil.example/amt/",
            "/amt/../api/",
            "https://x/amt/",
            "/amtx",
        ] {
            assert_eq!(workspace_return_path(bad), None, "{bad}");
        }
    }
}
