//! Idempotent retries. The first answer to a submission contains the citizen's token, so
//! it is stored encrypted (AES-256-GCM) under a key derived from the Idempotency-Key: only
//! a client that knows the key can get the answer back, and the store never holds a
//! usable token.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::hash_hex;

/// An answer worth replaying.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAnswer {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub body: String,
}

/// Idempotency-Keys are opaque strings of reasonable length (UUIDs, typically).
pub fn valid_key(key: &str) -> bool {
    (8..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())
}

/// What the store indexes by: a hash that does not reveal the key.
pub fn key_hash(key: &str) -> String {
    hash_hex(format!("lotse-idempotency-id:{key}").as_bytes())
}

fn cipher(key: &str) -> Aes256Gcm {
    let derived = Sha256::digest(format!("lotse-idempotency-key:{key}").as_bytes());
    Aes256Gcm::new_from_slice(&derived).expect("SHA-256 output is a valid AES-256 key")
}

pub fn seal(key: &str, answer: &SavedAnswer) -> String {
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).expect("the system random number generator failed");
    let plaintext = serde_json::to_vec(answer).expect("an answer always serializes");
    let ciphertext = cipher(key)
        .encrypt(&Nonce::from(nonce), plaintext.as_slice())
        .expect("AES-GCM encryption of a small message cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ciphertext);
    BASE64.encode(out)
}

/// `None` when the stored text does not decrypt under this key (which cannot happen for
/// a matching hash unless the row was tampered with).
pub fn open(key: &str, stored: &str) -> Option<SavedAnswer> {
    let bytes = BASE64.decode(stored).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let plaintext = cipher(key).decrypt(&Nonce::from(nonce), ciphertext).ok()?;
    serde_json::from_slice(&plaintext).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_key_opens_the_answer() {
        let answer = SavedAnswer {
            status: 201,
            content_type: "application/json".into(),
            location: None,
            body: r#"{"token":"GEHEIM"}"#.into(),
        };
        let sealed = seal("key-0123456789", &answer);
        assert!(!sealed.contains("GEHEIM"));
        assert_eq!(open("key-0123456789", &sealed), Some(answer));
        assert_eq!(open("key-9876543210", &sealed), None);
        assert_ne!(key_hash("key-0123456789"), key_hash("key-9876543210"));
        assert!(valid_key("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!valid_key("short"));
        assert!(!valid_key("with space inside"));
    }
}
