//! Sessions without server state: the session (and the pending login) live in cookies
//! sealed with AES-256-GCM under a secret only the functions know.
//!
//! Secret format (`LOTSE_SESSION_SECRET` under `lotse serve`, the `SESSION_SECRET`
//! Worker secret): `base64key[,base64previous]`, each standard base64 (padding optional;
//! URL-safe base64 is accepted too) of exactly 32 random bytes. New cookies are sealed
//! under the first key; cookies sealed under the second still open, so a key can be
//! rotated without logging everyone out: put the new key first, the old one second, and
//! drop the old one after the longest cookie lifetime has passed.
//!
//! From each key the cookie cipher's key is derived with HMAC-SHA256; the mailbox link
//! uses its own, stable secret ([`AccountKey`]). The cookie name is bound as associated data, so a
//! login cookie can never be presented as a session cookie.
//!
//! Sealed format: `base64url(nonce[12] || AES-256-GCM(key, nonce, json, aad = name))`
//! with `json = {"exp": <ms since epoch>, "v": <value>}`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use lotse_model::TrustLevel;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::AuthError;
use crate::keyed::{decode_key32, hex, hmac};

/// The cookie that carries a citizen's session.
pub const SESSION_COOKIE: &str = "lotse_session";
/// The cookie that carries a pending login between `/api/login` and `/api/callback`.
pub const LOGIN_COOKIE: &str = "lotse_login";
/// How long a session lasts: 30 minutes, then the citizen logs in again.
pub const SESSION_TTL_MS: u64 = 30 * 60 * 1000;
/// How long a citizen has to finish a login at the provider: 10 minutes.
pub const LOGIN_TTL_MS: u64 = 10 * 60 * 1000;

/// The session secret: the key new cookies are sealed with and, during a rotation, the
/// previous one. Debug output never shows key material.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    pub current: [u8; 32],
    pub previous: Option<[u8; 32]>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("current", &"<32 bytes>")
            .field("previous", &self.previous.map(|_| "<32 bytes>"))
            .finish()
    }
}

impl SessionKeys {
    /// Parses `base64key[,base64previous]`. The error names the problem, never the key.
    pub fn parse(secret: &str) -> Result<SessionKeys, AuthError> {
        let parts: Vec<&str> = secret.split(',').map(str::trim).collect();
        let bad = |what: &str| {
            AuthError::NotConfigured(format!(
                "the session secret's {what} key is not base64 of 32 bytes (format: base64key[,base64previous]; make one with `openssl rand -base64 32`)"
            ))
        };
        match parts.as_slice() {
            [current] => Ok(SessionKeys {
                current: decode_key32(current).ok_or_else(|| bad("first"))?,
                previous: None,
            }),
            [current, previous] => Ok(SessionKeys {
                current: decode_key32(current).ok_or_else(|| bad("first"))?,
                previous: if previous.is_empty() {
                    None
                } else {
                    Some(decode_key32(previous).ok_or_else(|| bad("second"))?)
                },
            }),
            _ => Err(AuthError::NotConfigured(
                "the session secret has more than two keys (format: base64key[,base64previous])"
                    .into(),
            )),
        }
    }

    /// A key derived from another secret for one purpose (HMAC-SHA256 under `purpose`),
    /// for cookies that need sealing where no secret of their own is configured (the
    /// receipt cookie on Workers).
    pub fn derive(purpose: &str, secret: &[u8]) -> SessionKeys {
        SessionKeys {
            current: hmac(secret, &[purpose.as_bytes()]),
            previous: None,
        }
    }

    /// A fresh random key, for cookies that only need to last as long as the process
    /// (the receipt cookie under `lotse serve`).
    pub fn random() -> SessionKeys {
        let mut current = [0u8; 32];
        getrandom::fill(&mut current).expect("the system random number generator failed");
        SessionKeys {
            current,
            previous: None,
        }
    }

    /// The keys, current first.
    fn all(&self) -> impl Iterator<Item = &[u8; 32]> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }
}

fn cookie_cipher(secret: &[u8; 32]) -> Aes256Gcm {
    let key = hmac(secret, &[b"lotse/cookie-key/v1"]);
    Aes256Gcm::new_from_slice(&key).expect("32 bytes are an AES-256 key")
}

#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    exp: u64,
    v: T,
}

/// Seals `value` into a cookie value for the cookie `name`, valid for `ttl_ms` from
/// `now_ms`. The result is URL-safe base64 (no `;`, `,`, `=` or spaces).
pub fn seal_cookie(
    name: &str,
    value: &impl Serialize,
    keys: &SessionKeys,
    now_ms: u64,
    ttl_ms: u64,
) -> String {
    let plaintext = serde_json::to_vec(&Sealed {
        exp: now_ms.saturating_add(ttl_ms),
        v: value,
    })
    .expect("a cookie value always serializes");
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).expect("the system random number generator failed");
    let ciphertext = cookie_cipher(&keys.current)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &plaintext,
                aad: name.as_bytes(),
            },
        )
        .expect("AES-GCM encryption of a small message cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ciphertext);
    URL_SAFE_NO_PAD.encode(out)
}

/// Opens a cookie sealed by [`seal_cookie`] under either key for the same `name`.
/// `None` when it is malformed, tampered with, sealed for another cookie name or under
/// an unknown key, or expired at `now_ms`.
pub fn open_cookie<T: DeserializeOwned>(
    name: &str,
    text: &str,
    keys: &SessionKeys,
    now_ms: u64,
) -> Option<T> {
    if text.len() > 8192 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    if bytes.len() < 12 + 16 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let plaintext = keys.all().find_map(|key| {
        cookie_cipher(key)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: name.as_bytes(),
                },
            )
            .ok()
    })?;
    let sealed: Sealed<T> = serde_json::from_slice(&plaintext).ok()?;
    (now_ms < sealed.exp).then_some(sealed.v)
}

/// A postal address as the standard `address` claim carries it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A logged-in citizen, as kept in the sealed session cookie.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The provider's subject identifier (pseudonymous for BundID). Never stored next
    /// to applications: use [`account_hash`].
    pub sub: String,
    pub level: TrustLevel,
    /// The `acr` value the level was derived from.
    pub acr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// End of the session, milliseconds since the epoch.
    pub exp: u64,
}

impl Session {
    /// The cookie value for this session (valid until `self.exp`).
    pub fn seal(&self, keys: &SessionKeys, now_ms: u64) -> String {
        seal_cookie(
            SESSION_COOKIE,
            self,
            keys,
            now_ms,
            self.exp.saturating_sub(now_ms),
        )
    }

    /// The session of a request, from its `Cookie` header; `None` when there is none or
    /// it does not open (expired, tampered, unknown key).
    pub fn from_cookie_header(
        cookie_header: Option<&str>,
        keys: &SessionKeys,
        now_ms: u64,
    ) -> Option<Session> {
        let value = cookie_value(cookie_header?, SESSION_COOKIE)?;
        let session: Session = open_cookie(SESSION_COOKIE, value, keys, now_ms)?;
        (now_ms < session.exp).then_some(session)
    }

    /// A name to greet the citizen with.
    pub fn display_name(&self) -> Option<String> {
        match (&self.given_name, &self.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        }
    }
}

/// The secret an application is linked to the citizen's account by (Mein Postfach):
/// `ACCOUNT_SECRET` on Workers, `LOTSE_ACCOUNT_SECRET` under `lotse serve`, base64 of
/// 32 random bytes. Unlike the session keys it never rotates, so the link outlives any
/// number of session key rotations. Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountKey([u8; 32]);

impl std::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountKey(<32 bytes>)")
    }
}

impl AccountKey {
    pub fn parse(secret: &str) -> Result<AccountKey, AuthError> {
        decode_key32(secret).map(AccountKey).ok_or_else(|| {
            AuthError::NotConfigured(
                "the account secret is not base64 of 32 bytes (make one with `openssl rand -base64 32`)"
                    .into(),
            )
        })
    }

    pub fn from_bytes(key: [u8; 32]) -> AccountKey {
        AccountKey(key)
    }

    /// The keyed hash stored next to a logged-in citizen's application: HMAC-SHA256 of
    /// the subject, hex. The subject itself is never stored.
    pub fn account_hash(&self, sub: &str) -> String {
        let key = hmac(&self.0, &[b"lotse/account-link/v2"]);
        hex(&hmac(&key, &[sub.as_bytes()]))
    }

    /// The key a logged-in citizen's application keys are wrapped under: derived from
    /// the account secret and the subject, so it exists only while the citizen's session
    /// names the subject (see [`crate::conversation::wrap_for_account`]).
    pub fn wrapping_key(&self, sub: &str) -> [u8; 32] {
        let key = hmac(&self.0, &[b"lotse/account-wrap/v1"]);
        hmac(&key, &[sub.as_bytes()])
    }

    /// Every hash the citizen's applications may be stored under, the current one first:
    /// applications linked before the account secret existed were linked under the
    /// session keys of their time (`lotse/account-key/v1`); those still configured find
    /// them.
    pub fn account_hashes(&self, sessions: &SessionKeys, sub: &str) -> Vec<String> {
        let legacy = sessions.all().map(|key| legacy_account_hash(key, sub));
        std::iter::once(self.account_hash(sub))
            .chain(legacy)
            .collect()
    }
}

fn legacy_account_hash(secret: &[u8; 32], sub: &str) -> String {
    let key = hmac(secret, &[b"lotse/account-key/v1"]);
    hex(&hmac(&key, &[sub.as_bytes()]))
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn cookie_value<'a>(cookie_header: &'a str, name: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (n, v) = pair.split_once('=')?;
        (n.trim() == name).then(|| v.trim().trim_matches('"'))
    })
}

/// A `Set-Cookie` header value: HttpOnly, Secure, SameSite=Lax, `Path=/`, expiring after
/// `max_age_ms`.
pub fn set_cookie(name: &str, value: &str, max_age_ms: u64) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        max_age_ms / 1000
    )
}

/// A `Set-Cookie` header value that removes cookie `name` (logout, finished login).
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn keys(current: u8, previous: Option<u8>) -> SessionKeys {
        SessionKeys {
            current: [current; 32],
            previous: previous.map(|p| [p; 32]),
        }
    }

    #[test]
    fn secret_parses_one_or_two_keys() {
        let a = STANDARD.encode([1u8; 32]);
        let b = URL_SAFE_NO_PAD.encode([2u8; 32]);
        assert_eq!(SessionKeys::parse(&a).unwrap(), keys(1, None));
        assert_eq!(
            SessionKeys::parse(&format!("{a}, {b}")).unwrap(),
            keys(1, Some(2))
        );
        assert!(SessionKeys::parse("").is_err());
        assert!(SessionKeys::parse(&STANDARD.encode([1u8; 16])).is_err());
        assert!(SessionKeys::parse(&format!("{a},{a},{a}")).is_err());
        let err = SessionKeys::parse(&format!("{a},nope")).unwrap_err();
        assert!(!err.log_reason().contains(&a));
        assert!(!format!("{:?}", keys(1, Some(2))).contains("1, 1"));
    }

    #[test]
    fn cookies_open_only_under_their_name_keys_and_lifetime() {
        let k = keys(1, None);
        let sealed = seal_cookie("a", &"hallo", &k, 1_000, 500);
        assert_eq!(
            open_cookie::<String>("a", &sealed, &k, 1_499),
            Some("hallo".into())
        );
        assert_eq!(open_cookie::<String>("a", &sealed, &k, 1_500), None);
        assert_eq!(open_cookie::<String>("b", &sealed, &k, 1_100), None);
        assert_eq!(
            open_cookie::<String>("a", &sealed, &keys(3, None), 1_100),
            None
        );
        // Rotation: the old key is still accepted as `previous`.
        assert_eq!(
            open_cookie::<String>("a", &sealed, &keys(2, Some(1)), 1_100),
            Some("hallo".into())
        );
        // Any flipped bit is refused.
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 0x01;
            let text = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(open_cookie::<String>("a", &text, &k, 1_100), None);
            bytes[i] ^= 0x01;
        }
        assert_eq!(open_cookie::<String>("a", "", &k, 1_100), None);
        assert_eq!(open_cookie::<String>("a", "!!!", &k, 1_100), None);
    }

    #[test]
    fn account_hash_is_keyed_and_outlives_session_key_rotations() {
        let account = AccountKey::from_bytes([7; 32]);
        let h = account.account_hash("buerger-4711");
        assert_eq!(h.len(), 64);
        assert_ne!(
            h,
            AccountKey::from_bytes([8; 32]).account_hash("buerger-4711")
        );
        assert_ne!(h, account.account_hash("buerger-4712"));
        // Three rotations of the session keys: the account's hash stays first.
        for rotation in [keys(2, Some(1)), keys(3, Some(2)), keys(4, Some(3))] {
            assert_eq!(account.account_hashes(&rotation, "buerger-4711")[0], h);
        }
        // Applications linked the old way, under a session key still configured.
        let old = legacy_account_hash(&[1; 32], "buerger-4711");
        assert!(account
            .account_hashes(&keys(2, Some(1)), "buerger-4711")
            .contains(&old));
        assert!(format!("{account:?}").contains("<32 bytes>"));
        assert!(AccountKey::parse("zu kurz").is_err());
    }

    #[test]
    fn cookie_headers() {
        assert_eq!(
            cookie_value("a=1; lotse_session=xyz; b=2", "lotse_session"),
            Some("xyz")
        );
        assert_eq!(cookie_value("a=1", "lotse_session"), None);
        let set = set_cookie("lotse_session", "v", SESSION_TTL_MS);
        for part in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Max-Age=1800",
            "Path=/",
        ] {
            assert!(set.contains(part), "{set}");
        }
        assert!(clear_cookie("lotse_login").contains("Max-Age=0"));
    }
}
