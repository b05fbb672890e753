//! Keyed hashes. What the store indexes by when the value itself must not be recoverable
//! from a copy of the store (client addresses for the rate limit, Idempotency-Keys) is an
//! HMAC-SHA256 under the edge's hash secret: `HASH_SECRET` on Workers, `LOTSE_HASH_SECRET`
//! (or a key kept in the data folder) under `lotse serve`. An unkeyed SHA-256 of an IPv4
//! address is reversed by trying all 2^32 of them; the HMAC is not, without the secret.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The secret of the keyed hashes. Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct HashSecret {
    key: [u8; 32],
}

impl std::fmt::Debug for HashSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.key == BUILT_IN {
            false => f.write_str("HashSecret(<32 bytes>)"),
            true => f.write_str("HashSecret(<built-in, public>)"),
        }
    }
}

/// Without a configured secret, hashes are keyed with this public value: they stay stable
/// across isolates and restarts (so rate limits and retries keep working), but protect
/// no better than a plain hash. The adapters log loudly when they fall back to it.
const BUILT_IN: [u8; 32] = *b"lotse-hash-secret-not-configured";

impl HashSecret {
    /// Base64 (standard or URL-safe, padding optional) of 32 bytes, as
    /// `openssl rand -base64 32` makes. The error names the problem, never the value.
    pub fn parse(text: &str) -> Result<HashSecret, String> {
        decode_key32(text)
            .map(HashSecret::from_bytes)
            .ok_or_else(|| {
                "the hash secret is not base64 of 32 bytes (make one with `openssl rand -base64 32`)"
                    .to_string()
            })
    }

    pub fn from_bytes(key: [u8; 32]) -> HashSecret {
        HashSecret { key }
    }

    /// A secret derived from another one of the configuration (for a Worker without
    /// `HASH_SECRET`), so that every isolate derives the same.
    pub fn derived(label: &str, secret: &[u8]) -> HashSecret {
        HashSecret::from_bytes(hmac(label.as_bytes(), &[secret]))
    }

    /// Whether this is a secret of the configuration, not the built-in stand-in.
    pub fn is_configured(&self) -> bool {
        self.key != BUILT_IN
    }

    /// The built-in public stand-in, for a deployment without a secret.
    pub fn unconfigured() -> HashSecret {
        HashSecret { key: BUILT_IN }
    }

    /// HMAC-SHA256 under a key derived for `label`, over the parts, each preceded by its
    /// length (4 bytes, big-endian), so that no two lists of parts hash alike.
    pub(crate) fn mac(&self, label: &str, parts: &[&[u8]]) -> [u8; 32] {
        let derived = hmac(&self.key, &[label.as_bytes()]);
        let mut mac = HmacSha256::new_from_slice(&derived).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(&(part.len() as u32).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// [`HashSecret::mac`], hex-encoded.
    pub(crate) fn mac_hex(&self, label: &str, parts: &[&[u8]]) -> String {
        hex(&self.mac(label, parts))
    }

    /// The rate limit's key for a client address ([`rate_subject`]: an IPv6 client is
    /// its /64, so that one network cannot pass the limit by changing addresses).
    pub(crate) fn client_hash(&self, client: &str) -> String {
        self.mac_hex("lotse/rate-client/v1", &[rate_subject(client).as_bytes()])
    }
}

/// What one client is for the rate limit: an IPv4 address as it is (an IPv4-mapped
/// IPv6 address as IPv4), an IPv6 address as its /64 (one subscriber's or one host's
/// network gets a /64, and can pick any address in it), anything else as given.
pub(crate) fn rate_subject(client: &str) -> String {
    use core::net::IpAddr;
    match client.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => client.to_string(),
    }
}

/// A 32-byte key from base64 (standard or URL-safe, padding optional), the form of every
/// secret of the configuration (`openssl rand -base64 32`).
pub(crate) fn decode_key32(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
}

/// HMAC-SHA256 of the concatenated parts under `key`.
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Seals a small value for the store: base64(nonce[12] ‖ AES-256-GCM(`key`, plaintext,
/// aad) ‖ tag), under a fresh random nonce.
pub(crate) fn seal_base64(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> String {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce).expect("the system random number generator failed");
    let sealed = aes_gcm::Aes256Gcm::new_from_slice(key)
        .expect("32 bytes are an AES-256 key")
        .encrypt(
            &aes_gcm::Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("AES-GCM encryption of a small value cannot fail");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    STANDARD.encode(out)
}

/// Opens [`seal_base64`]; `None` for another key or aad, or a damaged value.
pub(crate) fn open_base64(
    key: &[u8; 32],
    sealed: &str,
    aad: &[u8],
) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let bytes = STANDARD.decode(sealed).ok()?;
    let (nonce, ciphertext) = bytes.split_at_checked(12)?;
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    aes_gcm::Aes256Gcm::new_from_slice(key)
        .ok()?
        .decrypt(
            &aes_gcm::Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
        .map(zeroize::Zeroizing::new)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        assert_eq!(rate_subject("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            rate_subject("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            rate_subject("2001:0db8:0001:0002::9")
        );
        assert_ne!(
            rate_subject("2001:db8:1:2::1"),
            rate_subject("2001:db8:1:3::1")
        );
        assert_eq!(rate_subject("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(rate_subject("192.0.2.7"), "192.0.2.7");
        assert_ne!(rate_subject("192.0.2.7"), rate_subject("192.0.2.8"));
        assert_eq!(rate_subject("unbekannt"), "unbekannt");
        let secret = HashSecret::from_bytes([1; 32]);
        assert_eq!(
            secret.client_hash("2001:db8:1:2::1"),
            secret.client_hash("2001:db8:1:2::dead:beef")
        );
    }

    #[test]
    fn client_hashes_depend_on_the_secret() {
        let a = HashSecret::from_bytes([1; 32]);
        let b = HashSecret::from_bytes([2; 32]);
        assert_eq!(a.client_hash("192.0.2.1"), a.client_hash("192.0.2.1"));
        assert_ne!(a.client_hash("192.0.2.1"), b.client_hash("192.0.2.1"));
        assert_ne!(a.client_hash("192.0.2.1"), a.client_hash("192.0.2.2"));
        // Not the unkeyed hash of 0001.
        assert_ne!(
            a.client_hash("192.0.2.1"),
            crate::ids::hash_hex(b"lotse-rate:192.0.2.1")
        );
        assert_eq!(a.mac_hex("x", &[b"ab", b"c"]).len(), 64);
        assert_ne!(a.mac("x", &[b"ab", b"c"]), a.mac("x", &[b"a", b"bc"]));
        assert!(!format!("{a:?}").contains('1'));
    }

    #[test]
    fn secrets_parse_from_base64_of_32_bytes() {
        let text = STANDARD.encode([7u8; 32]);
        assert_eq!(
            HashSecret::parse(&text),
            Ok(HashSecret::from_bytes([7; 32]))
        );
        assert!(HashSecret::parse("kurz").is_err());
        assert!(HashSecret::parse(&STANDARD.encode([7u8; 31])).is_err());
        // Configured or the public stand-in: Debug says which, never the key.
        let unconfigured = format!("{:?}", HashSecret::unconfigured());
        assert!(unconfigured.contains("built-in"), "{unconfigured}");
        let parsed = format!("{:?}", HashSecret::parse(&text).unwrap());
        assert!(
            parsed.contains("<32 bytes>") && !parsed.contains("built-in"),
            "{parsed}"
        );
    }
}
