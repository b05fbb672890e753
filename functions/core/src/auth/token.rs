//! ID token verification: RS256 or ES256 only, signature by the provider's key, then
//! iss, aud/azp, exp, iat, nbf, nonce and sub.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::flow::CLOCK_SKEW_S;
use super::session::Address;
use super::AuthError;

/// The only signature algorithms accepted. `none`, every HMAC algorithm (the client
/// secret is not a signing key here), and everything else are refused.
pub const ALLOWED_ALGORITHMS: [&str; 2] = ["RS256", "ES256"];

/// The verified claims of an ID token that the session uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdClaims {
    pub sub: String,
    pub acr: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: Option<String>,
    pub address: Option<Address>,
    /// The `name` claim (staff: how the audit log names them).
    pub name: Option<String>,
    /// Expiry of the ID token, seconds since the epoch.
    pub exp: u64,
    /// Every verified claim, for the ones only some logins use (the staff's offices).
    pub all: Value,
}

fn invalid(why: impl Into<String>) -> AuthError {
    AuthError::InvalidIdToken(why.into())
}

/// A printable, short excerpt of an untrusted value for the log.
fn excerpt(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}

fn numeric(claims: &Value, name: &str) -> Result<Option<u64>, AuthError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| invalid(format!("`{name}` is not a number"))),
    }
}

fn string(claims: &Value, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Picks the key that verifies a token with `alg` and `kid`: matching key type (RSA,
/// or EC on P-256), not meant for encryption, `alg` matching if the key names one.
/// Without `kid`, only an unambiguous key is used.
fn select_key<'a>(jwks: &'a JwkSet, alg: Algorithm, kid: Option<&str>) -> Option<&'a Jwk> {
    let usable = |jwk: &&Jwk| {
        let type_fits = match (&jwk.algorithm, alg) {
            (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
            (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
                ec.curve == EllipticCurve::P256
            }
            _ => false,
        };
        let use_fits = !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption));
        let alg_fits = match jwk.common.key_algorithm {
            None => true,
            Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
            Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
            Some(_) => false,
        };
        type_fits && use_fits && alg_fits
    };
    let mut candidates = jwks.keys.iter().filter(usable);
    match kid {
        Some(kid) => candidates.find(|jwk| jwk.common.key_id.as_deref() == Some(kid)),
        None => {
            let first = candidates.next()?;
            candidates.next().is_none().then_some(first)
        }
    }
}

/// Verifies an ID token from the token endpoint against the provider's key set and
/// returns its claims. `issuer`, `client_id` and `nonce` are what it must name;
/// `now_ms` is the current time. Allows [`CLOCK_SKEW_S`] seconds of clock skew for
/// `exp`, `iat` and `nbf`.
///
/// [`AuthError::UnknownKey`] means no key matches (refetch the key set and try once
/// more); every other refusal is [`AuthError::InvalidIdToken`].
pub fn verify_id_token(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now_ms: u64,
) -> Result<IdClaims, AuthError> {
    // The header is read by hand first, so `none`, HMAC and unknown algorithms are
    // refused by name before anything else looks at the token.
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 || parts.iter().take(2).any(|p| p.is_empty()) {
        return Err(invalid("not a signed JWT (three dot-separated parts)"));
    }
    let header: Value = URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| invalid("header is not base64url JSON"))?;
    let alg_name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let alg = match alg_name {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        other => {
            return Err(invalid(format!(
                "algorithm `{}` is not accepted (only RS256, ES256)",
                excerpt(other)
            )))
        }
    };
    if header.get("crit").is_some() {
        return Err(invalid("header has `crit` extensions"));
    }
    if parts[2].is_empty() {
        return Err(invalid("signature is empty"));
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let jwk = select_key(jwks, alg, kid).ok_or_else(|| {
        AuthError::UnknownKey(format!(
            "no {alg_name} key with kid `{}`",
            excerpt(kid.unwrap_or("(none)"))
        ))
    })?;
    let key = DecodingKey::from_jwk(jwk)
        .map_err(|e| AuthError::Provider(format!("JWKS key is unusable: {e}")))?;

    // Signature only; the claims are checked below against `now_ms` (WebAssembly has
    // no clock the library could use).
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims: Value = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| invalid(format!("signature check failed: {e}")))?
        .claims;
    if !claims.is_object() {
        return Err(invalid("claims are not a JSON object"));
    }

    match claims.get("iss").and_then(Value::as_str) {
        Some(iss) if iss == issuer => {}
        Some(iss) => return Err(invalid(format!("iss `{}` is not `{issuer}`", excerpt(iss)))),
        None => return Err(invalid("iss is missing")),
    }

    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => return Err(invalid("aud is missing")),
    };
    if !audiences.contains(&client_id) {
        return Err(invalid(format!(
            "aud does not contain this client (`{}`)",
            excerpt(&audiences.join(","))
        )));
    }
    let azp = claims.get("azp").and_then(Value::as_str);
    if audiences.len() > 1 && azp.is_none() {
        return Err(invalid("several audiences but no azp"));
    }
    if let Some(azp) = azp {
        if azp != client_id {
            return Err(invalid(format!(
                "azp `{}` is not this client",
                excerpt(azp)
            )));
        }
    }

    let now_s = now_ms / 1000;
    let exp = numeric(&claims, "exp")?.ok_or_else(|| invalid("exp is missing"))?;
    if now_s >= exp.saturating_add(CLOCK_SKEW_S) {
        return Err(invalid(format!("expired {} s ago", now_s - exp)));
    }
    let iat = numeric(&claims, "iat")?.ok_or_else(|| invalid("iat is missing"))?;
    if iat > now_s + CLOCK_SKEW_S {
        return Err(invalid(format!("iat is {} s in the future", iat - now_s)));
    }
    if let Some(nbf) = numeric(&claims, "nbf")? {
        if nbf > now_s + CLOCK_SKEW_S {
            return Err(invalid(format!("nbf is {} s in the future", nbf - now_s)));
        }
    }

    let token_nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if token_nonce.is_empty() || !bool::from(token_nonce.as_bytes().ct_eq(nonce.as_bytes())) {
        return Err(invalid("nonce does not match the login"));
    }

    let sub = string(&claims, "sub").ok_or_else(|| invalid("sub is missing"))?;
    if sub.len() > 255 {
        return Err(invalid("sub is longer than 255 characters"));
    }

    let address = claims
        .get("address")
        .and_then(|a| serde_json::from_value::<Address>(a.clone()).ok())
        .filter(|a| a != &Address::default());
    Ok(IdClaims {
        sub,
        acr: string(&claims, "acr"),
        given_name: string(&claims, "given_name"),
        family_name: string(&claims, "family_name"),
        email: string(&claims, "email"),
        address,
        name: string(&claims, "name"),
        exp,
        all: claims,
    })
}
