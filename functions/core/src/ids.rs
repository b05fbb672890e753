//! Application ids, citizen tokens and hashing.
//!
//! Ids are read over the phone, so they use Crockford's base32 alphabet (no I, L, O, U)
//! in two groups of four: `7K3M-9QPX`, 40 random bits. Tokens carry 130 random bits and
//! are stored only as SHA-256 hashes.

use sha2::{Digest, Sha256};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn random_symbols(count: usize) -> String {
    let mut bytes = vec![0u8; count];
    getrandom::fill(&mut bytes).expect("the system random number generator failed");
    bytes
        .iter()
        .map(|b| CROCKFORD[(b & 31) as usize] as char)
        .collect()
}

/// A new application id such as `7K3M-9QPX`.
pub fn new_id() -> String {
    let s = random_symbols(8);
    format!("{}-{}", &s[..4], &s[4..])
}

/// A new citizen token: 26 symbols of 5 bits = 130 bits.
pub fn new_token() -> String {
    random_symbols(26)
}

/// A new id of a message or attachment: 16 symbols, 80 random bits.
pub fn new_object_id() -> String {
    random_symbols(16)
}

/// Normalises what a citizen types as an id: case, spaces, and the look-alikes Crockford
/// base32 maps (O -> 0, I/L -> 1).
pub fn normalize_id(input: &str) -> Option<String> {
    let symbols: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    let valid = symbols.len() == 8 && symbols.bytes().all(|b| CROCKFORD.contains(&b));
    valid.then(|| format!("{}-{}", &symbols[..4], &symbols[4..]))
}

/// SHA-256 of `data`, hex-encoded.
pub fn hash_hex(data: &[u8]) -> String {
    crate::keyed::hex(&Sha256::digest(data))
}

/// Compares a presented token with a stored hash in constant time.
pub fn token_matches(token: &str, stored_hash: &str) -> bool {
    use subtle::ConstantTimeEq;
    let presented = hash_hex(token.as_bytes());
    presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_readable_and_normalisable() {
        let id = new_id();
        assert_eq!(id.len(), 9);
        assert_eq!(&id[4..5], "-");
        assert_eq!(normalize_id(&id.to_lowercase()), Some(id.clone()));
        assert_eq!(normalize_id("7k3m 9qpo"), Some("7K3M-9QP0".into()));
        assert_eq!(normalize_id("7K3M-9QP"), None);
        assert_eq!(normalize_id("7K3M-9QPU"), None);
    }

    #[test]
    fn tokens_are_long_random_and_compared_by_hash() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 26);
        assert_ne!(a, b);
        let stored = hash_hex(a.as_bytes());
        assert!(token_matches(&a, &stored));
        assert!(!token_matches(&b, &stored));
        assert_eq!(
            hash_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
