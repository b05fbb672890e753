//! Idempotent retries (SPEC section 5: a retry with the same `Idempotency-Key` gets the
//! first answer instead of a second application).
//!
//! - The key is claimed in the store (insert-or-get on its hash) before the application
//!   is stored, and only the claim's owner may store it: concurrent retries never store
//!   a second application; they get the first answer, or 409 while it is in flight.
//! - The key is bound to what the request asked for ([`Asked`]): a retry with another
//!   service, other fields, the other answer form or another account gets 422.
//! - The first answer contains the citizen's token, so it is stored encrypted
//!   (AES-256-GCM) under a key derived from the Idempotency-Key and the edge's hash
//!   secret: neither the store alone nor the key alone reads it back.
//!
//! docs/envelope.md describes the binding and the hashes.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::keyed::{hex, HashSecret};

/// Idempotency-Keys are opaque strings of reasonable length (UUIDs, typically).
pub const MIN_KEY_LEN: usize = 8;
pub const MAX_KEY_LEN: usize = 200;

/// An unanswered claim older than this belongs to a request that died (the worker was
/// evicted, the server stopped) and may be taken over by a retry.
pub const STALE_CLAIM_MS: u64 = 30_000;

/// An answer worth replaying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAnswer {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub body: String,
}

/// 8 to 200 visible ASCII characters (no space, no control, nothing beyond ASCII).
pub fn valid_key(key: &str) -> bool {
    (MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What a request with an Idempotency-Key asked for. Its fingerprint is stored with the
/// claim; a retry must ask for the same.
pub struct Asked<'a> {
    pub portal: &'a str,
    pub service: &'a str,
    /// The validated, normalised values (as sealed into the envelope), so that a retry
    /// sent as a form instead of JSON, or with an IBAN spaced differently, still matches.
    pub fields: &'a std::collections::BTreeMap<String, String>,
    /// Whether the answer is the HTML one (303 to the receipt) or JSON (201).
    pub html: bool,
    /// The account the application is linked to (keyed hash), if the citizen is logged in.
    pub account: Option<&'a str>,
}

/// The parts of a fingerprint, in order, with the reason a mismatch in each gives.
const PARTS: [&str; 4] = ["service", "fields", "answer", "account"];

/// An Idempotency-Key as the functions use it: its hash (what the store indexes by),
/// the fingerprints of requests and the cipher of the answer, all derived from the key
/// and the hash secret.
pub struct IdempotencyKey {
    hash: String,
    secret: HashSecret,
    key: String,
}

impl IdempotencyKey {
    pub fn new(secret: &HashSecret, key: &str) -> IdempotencyKey {
        IdempotencyKey {
            hash: secret.mac_hex("lotse/idempotency-id/v2", &[key.as_bytes()]),
            secret: secret.clone(),
            key: key.to_string(),
        }
    }

    /// What the store indexes by: reveals neither the key nor, without the secret,
    /// whether a guessed key was used.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// `v2;<service>;<fields>;<answer>;<account>`: one keyed hash (128 bits, hex) per
    /// part, so that a mismatch can say which part differs, and none reveals a value.
    pub fn fingerprint(&self, asked: &Asked<'_>) -> String {
        let mut fields: Vec<&[u8]> = Vec::with_capacity(asked.fields.len() * 2);
        for (name, value) in asked.fields {
            fields.push(name.as_bytes());
            fields.push(value.as_bytes());
        }
        let parts: [Vec<&[u8]>; 4] = [
            vec![asked.portal.as_bytes(), asked.service.as_bytes()],
            fields,
            vec![if asked.html { b"html" } else { b"json" }],
            vec![asked.account.unwrap_or("").as_bytes()],
        ];
        let mut out = String::from("v2");
        for (name, values) in PARTS.iter().zip(parts.iter()) {
            let mut all: Vec<&[u8]> = vec![self.key.as_bytes()];
            all.extend(values.iter().copied());
            let mac = self
                .secret
                .mac(&format!("lotse/idempotency-{name}/v2"), &all);
            out.push(';');
            out.push_str(&hex(&mac[..16]));
        }
        out
    }

    fn cipher(&self) -> Aes256Gcm {
        let derived = self
            .secret
            .mac("lotse/idempotency-answer/v2", &[self.key.as_bytes()]);
        Aes256Gcm::new_from_slice(&derived).expect("32 bytes are an AES-256 key")
    }

    pub fn seal(&self, answer: &SavedAnswer) -> String {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).expect("the system random number generator failed");
        let plaintext = serde_json::to_vec(answer).expect("an answer always serializes");
        let ciphertext = self
            .cipher()
            .encrypt(&Nonce::from(nonce), plaintext.as_slice())
            .expect("AES-GCM encryption of a small message cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        BASE64.encode(out)
    }

    /// `None` when the stored text does not decrypt under this key (which cannot happen
    /// for a matching hash unless the row was tampered with).
    pub fn open(&self, stored: &str) -> Option<SavedAnswer> {
        let bytes = BASE64.decode(stored).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plaintext = self
            .cipher()
            .decrypt(&Nonce::from(nonce), ciphertext)
            .ok()?;
        serde_json::from_slice(&plaintext).ok()
    }
}

/// Which part of the request differs from the one the key was first used for: `None`
/// when they match. A fingerprint of another format (never written by this version)
/// differs as a whole (`"request"`).
pub fn mismatch(stored: &str, presented: &str) -> Option<&'static str> {
    use subtle::ConstantTimeEq;
    if bool::from(stored.as_bytes().ct_eq(presented.as_bytes())) {
        return None;
    }
    let (stored, presented): (Vec<&str>, Vec<&str>) =
        (stored.split(';').collect(), presented.split(';').collect());
    if stored.len() != presented.len() || stored.first() != presented.first() {
        return Some("request");
    }
    PARTS
        .iter()
        .zip(stored.iter().skip(1).zip(presented.iter().skip(1)))
        .find(|(_, (a, b))| a != b)
        .map(|(name, _)| *name)
        .or(Some("request"))
}

/// A random id for the request that claims a key.
pub fn new_owner() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system random number generator failed");
    hex(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn asked<'a>(fields: &'a BTreeMap<String, String>, html: bool) -> Asked<'a> {
        Asked {
            portal: "bottrop",
            service: "fundsache-melden",
            fields,
            html,
            account: None,
        }
    }

    #[test]
    fn only_the_same_key_and_secret_open_the_answer() {
        let answer = SavedAnswer {
            status: 201,
            content_type: "application/json".into(),
            location: None,
            body: r#"{"token":"GEHEIM"}"#.into(),
        };
        let secret = HashSecret::from_bytes([3; 32]);
        let key = IdempotencyKey::new(&secret, "key-0123456789");
        let sealed = key.seal(&answer);
        assert!(!sealed.contains("GEHEIM"));
        assert_eq!(key.open(&sealed), Some(answer));
        let other_key = IdempotencyKey::new(&secret, "key-9876543210");
        assert_eq!(other_key.open(&sealed), None);
        let other_secret = IdempotencyKey::new(&HashSecret::from_bytes([4; 32]), "key-0123456789");
        assert_eq!(other_secret.open(&sealed), None);
        assert_ne!(key.hash(), other_key.hash());
        assert_ne!(key.hash(), other_secret.hash());
        assert!(valid_key("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!valid_key("short"));
        assert!(!valid_key("with space inside"));
        assert!(!valid_key("schl\u{fc}ssel-0123"));
        assert!(!valid_key(&"x".repeat(201)));
        assert!(valid_key(&"x".repeat(200)));
    }

    #[test]
    fn fingerprints_name_the_part_that_differs() {
        let key = IdempotencyKey::new(&HashSecret::from_bytes([5; 32]), "key-0123456789");
        let fields: BTreeMap<String, String> = [("ort".to_string(), "Bottrop".to_string())].into();
        let first = key.fingerprint(&asked(&fields, false));
        assert_eq!(
            mismatch(&first, &key.fingerprint(&asked(&fields, false))),
            None
        );
        let other: BTreeMap<String, String> = [("ort".to_string(), "Gladbeck".to_string())].into();
        assert_eq!(
            mismatch(&first, &key.fingerprint(&asked(&other, false))),
            Some("fields")
        );
        assert_eq!(
            mismatch(&first, &key.fingerprint(&asked(&fields, true))),
            Some("answer")
        );
        let service = Asked {
            service: "hund-anmelden",
            ..asked(&fields, false)
        };
        assert_eq!(
            mismatch(&first, &key.fingerprint(&service)),
            Some("service")
        );
        let account = Asked {
            account: Some("abc"),
            ..asked(&fields, false)
        };
        assert_eq!(
            mismatch(&first, &key.fingerprint(&account)),
            Some("account")
        );
        assert_eq!(mismatch("v1;x", &first), Some("request"));
        // The values themselves are not in the fingerprint.
        assert!(!first.contains("Bottrop"));
        // Another key gives other hashes for the same request.
        let other_key = IdempotencyKey::new(&HashSecret::from_bytes([5; 32]), "key-other-0001");
        assert_ne!(first, other_key.fingerprint(&asked(&fields, false)));
    }
}
