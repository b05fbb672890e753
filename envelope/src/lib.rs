//! Application envelopes: a citizen's application encrypted to the public key of the
//! office that handles it, so that the edge that stores it can never read it.
//!
//! Suite (RFC 9180, base mode): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM.
//! The routing data (format, id, portal, service, office, time) travels in clear, is
//! bound to the ciphertext as associated data, and so cannot be changed without the
//! decryption failing. The format is described in docs/envelope.md.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub mod message;

pub(crate) type Kem = X25519HkdfSha256;

/// The value of the `format` field, also the HPKE `info` string.
pub const FORMAT: &str = "lotse-envelope-v1";
/// Human-readable name of the cipher suite, stored in every envelope.
pub const SUITE: &str = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM";
const KEY_FILE_HEADER: &str = "# Lotse office private key (X25519, base64).";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A key is not 32 bytes of valid base64.
    InvalidKey(String),
    /// The envelope is not in the expected format.
    InvalidEnvelope(String),
    /// Wrong key, or ciphertext or routing data were altered.
    DecryptionFailed,
    Encryption,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Error::InvalidEnvelope(why) => write!(f, "invalid envelope: {why}"),
            Error::DecryptionFailed => {
                write!(f, "cannot decrypt: wrong key, or the envelope was altered")
            }
            Error::Encryption => write!(f, "encryption failed"),
        }
    }
}

impl std::error::Error for Error {}

/// An office's public key, as published in portal.toml.
#[derive(Clone)]
pub struct PublicKey(pub(crate) <Kem as hpke::Kem>::PublicKey);

impl PublicKey {
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|e| Error::InvalidKey(e.to_string()))?;
        <Kem as hpke::Kem>::PublicKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| Error::InvalidKey("not a 32-byte X25519 public key".into()))
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0.to_bytes())
    }
}

/// An office's private key. Lives only in city hall, in a key file.
pub struct PrivateKey(pub(crate) <Kem as hpke::Kem>::PrivateKey);

impl PrivateKey {
    /// A new random key pair.
    pub fn generate() -> (PrivateKey, PublicKey) {
        let (private, public) = Kem::gen_keypair();
        (PrivateKey(private), PublicKey(public))
    }

    /// Reads a key file: comment lines starting with `#`, then the base64 key.
    pub fn from_key_file(text: &str) -> Result<Self, Error> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or_else(|| Error::InvalidKey("the key file holds no key".into()))?;
        let bytes = Zeroizing::new(
            BASE64
                .decode(line)
                .map_err(|e| Error::InvalidKey(e.to_string()))?,
        );
        <Kem as hpke::Kem>::PrivateKey::from_bytes(&bytes)
            .map(PrivateKey)
            .map_err(|_| Error::InvalidKey("not a 32-byte X25519 private key".into()))
    }

    pub fn to_key_file(&self) -> Zeroizing<String> {
        let bytes = Zeroizing::new(self.0.to_bytes().to_vec());
        Zeroizing::new(format!(
            "{KEY_FILE_HEADER} Keep it secret; it opens every application to this office.\n{}\n",
            BASE64.encode(&*bytes)
        ))
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey(Kem::sk_to_pk(&self.0))
    }

    /// The key pair derived from a secret for one application (RFC 9180 DeriveKeyPair
    /// over the length-prefixed label, application id and secret): the citizen's key of
    /// an application, derived from the token only the citizen holds. The same secret
    /// and id give the same key; anything else an unrelated one.
    pub fn derive(secret: &[u8], application: &str) -> PrivateKey {
        let mut ikm = Zeroizing::new(length_prefixed(&["lotse-citizen-key-v1", application]));
        ikm.extend_from_slice(&(secret.len() as u32).to_be_bytes());
        ikm.extend_from_slice(secret);
        PrivateKey(Kem::derive_keypair(&ikm).0)
    }

    /// The 32 raw key bytes, for wrapping under another key.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.to_bytes().to_vec())
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PrivateKey, Error> {
        <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes)
            .map(PrivateKey)
            .map_err(|_| Error::InvalidKey("not a 32-byte X25519 private key".into()))
    }
}

/// Each part as a 4-byte big-endian length followed by its bytes, so that no two
/// different lists of parts give the same bytes.
pub(crate) fn length_prefixed(parts: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    for part in parts {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

/// Where an application goes; stored in clear and authenticated with the ciphertext.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    pub id: String,
    pub portal: String,
    pub service: String,
    pub office: String,
    /// RFC 3339 time of submission.
    pub created_at: String,
}

/// One encrypted application, as stored and as listed to the office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub format: String,
    pub suite: String,
    #[serde(flatten)]
    pub routing: Routing,
    /// The HPKE encapsulated key, base64.
    pub enc: String,
    /// AES-256-GCM ciphertext with tag, base64.
    pub ciphertext: String,
}

impl Envelope {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes")
    }

    pub fn from_json(text: &str) -> Result<Envelope, Error> {
        serde_json::from_str(text).map_err(|e| Error::InvalidEnvelope(e.to_string()))
    }
}

/// The associated data: every routing field, length-prefixed so that no two different
/// routings can produce the same bytes.
fn associated_data(routing: &Routing) -> Vec<u8> {
    length_prefixed(&[
        FORMAT,
        &routing.id,
        &routing.portal,
        &routing.service,
        &routing.office,
        &routing.created_at,
    ])
}

/// Encrypts `plaintext` to `recipient`.
pub fn seal(recipient: &PublicKey, routing: Routing, plaintext: &[u8]) -> Result<Envelope, Error> {
    let aad = associated_data(&routing);
    let (enc, ciphertext) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, Kem>(
        &OpModeS::Base,
        &recipient.0,
        FORMAT.as_bytes(),
        plaintext,
        &aad,
    )
    .map_err(|_| Error::Encryption)?;
    Ok(Envelope {
        format: FORMAT.into(),
        suite: SUITE.into(),
        routing,
        enc: BASE64.encode(enc.to_bytes()),
        ciphertext: BASE64.encode(ciphertext),
    })
}

/// Decrypts an envelope with the office's private key.
pub fn open(key: &PrivateKey, envelope: &Envelope) -> Result<Zeroizing<Vec<u8>>, Error> {
    if envelope.format != FORMAT {
        return Err(Error::InvalidEnvelope(format!(
            "unknown format `{}`, expected `{FORMAT}`",
            envelope.format
        )));
    }
    let enc_bytes = BASE64
        .decode(&envelope.enc)
        .map_err(|e| Error::InvalidEnvelope(format!("enc: {e}")))?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc_bytes)
        .map_err(|_| Error::InvalidEnvelope("enc is not an X25519 key".into()))?;
    let ciphertext = BASE64
        .decode(&envelope.ciphertext)
        .map_err(|e| Error::InvalidEnvelope(format!("ciphertext: {e}")))?;
    hpke::single_shot_open::<AesGcm256, HkdfSha256, Kem>(
        &OpModeR::Base,
        &key.0,
        &enc,
        FORMAT.as_bytes(),
        &ciphertext,
        &associated_data(&envelope.routing),
    )
    .map(Zeroizing::new)
    .map_err(|_| Error::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing() -> Routing {
        Routing {
            id: "EL-7K3M-9QPX".into(),
            portal: "bottrop".into(),
            service: "hund-anmelden".into(),
            office: "steueramt".into(),
            created_at: "2026-11-23T19:50:00Z".into(),
        }
    }

    #[test]
    fn round_trips_through_json_and_key_files() {
        let (private, public) = PrivateKey::generate();
        let envelope = seal(&public, routing(), b"{\"name\":\"Erika\"}").unwrap();
        assert!(!envelope.to_json().contains("Erika"));
        let reread = Envelope::from_json(&envelope.to_json()).unwrap();
        let key = PrivateKey::from_key_file(&private.to_key_file()).unwrap();
        assert_eq!(&*open(&key, &reread).unwrap(), b"{\"name\":\"Erika\"}");
        assert_eq!(
            PublicKey::from_base64(&public.to_base64())
                .unwrap()
                .to_base64(),
            key.public_key().to_base64()
        );
    }

    #[test]
    fn refuses_altered_routing_ciphertext_and_wrong_keys() {
        let (private, public) = PrivateKey::generate();
        let envelope = seal(&public, routing(), b"geheim").unwrap();

        let mut moved = envelope.clone();
        moved.routing.office = "ordnungsamt".into();
        assert_eq!(open(&private, &moved).unwrap_err(), Error::DecryptionFailed);

        let mut flipped = envelope.clone();
        let mut bytes = BASE64.decode(&flipped.ciphertext).unwrap();
        bytes[0] ^= 1;
        flipped.ciphertext = BASE64.encode(bytes);
        assert_eq!(
            open(&private, &flipped).unwrap_err(),
            Error::DecryptionFailed
        );

        let (other, _) = PrivateKey::generate();
        assert_eq!(
            open(&other, &envelope).unwrap_err(),
            Error::DecryptionFailed
        );
    }

    #[test]
    fn rejects_bad_keys() {
        assert!(PublicKey::from_base64("AAAA").is_err());
        assert!(PublicKey::from_base64("not base64").is_err());
        assert!(PrivateKey::from_key_file("# only a comment\n").is_err());
    }

    #[test]
    fn reads_the_example_region_key_files() {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/office-keys/bottrop/steueramt.key"
        );
        let text = std::fs::read_to_string(root).unwrap();
        let key = PrivateKey::from_key_file(&text).unwrap();
        let toml = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../content/portals/bottrop/portal.toml"
        ))
        .unwrap();
        assert!(
            toml.contains(&key.public_key().to_base64()),
            "public key of the example key file is in portal.toml"
        );
    }
}
