//! Message envelopes: one message of the conversation on an application (SPEC section
//! 6), readable by the office and by the citizen, by nobody else.
//!
//! A message is encrypted once under a fresh random content key (AES-256-GCM); that key
//! is sealed with HPKE to each recipient: the office's key, and the application's
//! citizen key (derived from the citizen's token, see [`PrivateKey::derive`]). Every
//! attachment is encrypted under its own fresh key, which travels inside the sealed
//! message. The routing (application, portal, office, message id, sender, time) is the
//! associated data of every part, so a message or file moved to another application or
//! office fails to open. The format is described in docs/envelope.md.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{length_prefixed, Error, Kem, PrivateKey, PublicKey, SUITE};

/// The `format` of a message envelope, also the HPKE `info` of its sealed keys.
pub const MESSAGE_FORMAT: &str = "lotse-message-v1";
/// The first part of an attachment's associated data.
pub const ATTACHMENT_FORMAT: &str = "lotse-attachment-v1";
const NONCE_LEN: usize = 12;

/// Where a message belongs; in clear, authenticated with every part of the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRouting {
    /// The application's id.
    pub application: String,
    pub portal: String,
    pub office: String,
    /// The message's own id.
    pub message: String,
    /// `citizen` or `office`.
    pub from: String,
    /// RFC 3339 time the edge accepted the message.
    pub at: String,
}

impl MessageRouting {
    fn associated_data(&self) -> Vec<u8> {
        length_prefixed(&[
            MESSAGE_FORMAT,
            &self.application,
            &self.portal,
            &self.office,
            &self.message,
            &self.from,
            &self.at,
        ])
    }

    fn attachment_data(&self, attachment: &str) -> Vec<u8> {
        length_prefixed(&[
            ATTACHMENT_FORMAT,
            &self.application,
            &self.portal,
            &self.office,
            &self.message,
            &self.from,
            &self.at,
            attachment,
        ])
    }
}

/// The content key sealed to one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    /// The HPKE encapsulated key, base64.
    pub enc: String,
    /// The sealed 32-byte content key with its tag, base64.
    pub key: String,
}

/// One message, as stored and as listed to the office.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEnvelope {
    pub format: String,
    pub suite: String,
    #[serde(flatten)]
    pub routing: MessageRouting,
    /// The content key per recipient: `office`, `citizen`.
    pub recipients: BTreeMap<String, SealedKey>,
    /// Nonce and AES-256-GCM ciphertext with tag of the [`MessageContent`] JSON, base64.
    pub ciphertext: String,
}

impl MessageEnvelope {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes")
    }

    pub fn from_json(text: &str) -> Result<MessageEnvelope, Error> {
        serde_json::from_str(text).map_err(|e| Error::InvalidEnvelope(e.to_string()))
    }
}

/// What a message says, once opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageContent {
    pub text: String,
    /// The status the office set with this message, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentKey>,
}

/// An attachment as the opened message describes it: what it is and the key of its
/// separately stored ciphertext.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentKey {
    pub id: String,
    /// The file name the sender gave.
    pub name: String,
    /// `application/pdf`, `image/png` or `image/jpeg`.
    #[serde(rename = "type")]
    pub media_type: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// The file's AES-256 key, base64.
    pub key: String,
}

/// A file to attach, before sealing.
pub struct NewAttachment<'a> {
    pub id: String,
    pub name: String,
    pub media_type: String,
    pub bytes: &'a [u8],
}

/// A sealed attachment: what to store (in R2 or the data folder) under its id.
pub struct SealedAttachment {
    pub id: String,
    /// Nonce and AES-256-GCM ciphertext with tag.
    pub ciphertext: Vec<u8>,
}

fn random_key() -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut()).expect("the system random number generator failed");
    key
}

/// Encrypts under a fresh nonce; the result is nonce || ciphertext || tag.
fn encrypt(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| Error::Encryption)?;
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| Error::Encryption)?;
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| Error::Encryption)?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn decrypt(key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    if sealed.len() < NONCE_LEN + 16 {
        return Err(Error::InvalidEnvelope("ciphertext too short".into()));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at the nonce length");
    let cipher = Aes256Gcm::new_from_slice(key)
        .map_err(|_| Error::InvalidEnvelope("not a 32-byte content key".into()))?;
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| Error::DecryptionFailed)
}

/// Seals a message with its attachments to every recipient (`"office"`, `"citizen"`).
pub fn seal_message(
    routing: MessageRouting,
    text: &str,
    status: Option<&str>,
    attachments: &[NewAttachment<'_>],
    recipients: &[(&str, &PublicKey)],
) -> Result<(MessageEnvelope, Vec<SealedAttachment>), Error> {
    let mut keys = Vec::with_capacity(attachments.len());
    let mut sealed_files = Vec::with_capacity(attachments.len());
    for attachment in attachments {
        let key = random_key();
        let ciphertext = encrypt(
            &key,
            attachment.bytes,
            &routing.attachment_data(&attachment.id),
        )?;
        keys.push(AttachmentKey {
            id: attachment.id.clone(),
            name: attachment.name.clone(),
            media_type: attachment.media_type.clone(),
            size: attachment.bytes.len() as u64,
            sha256: hex(&Sha256::digest(attachment.bytes)),
            key: BASE64.encode(key.as_ref()),
        });
        sealed_files.push(SealedAttachment {
            id: attachment.id.clone(),
            ciphertext,
        });
    }
    let content = Zeroizing::new(
        serde_json::to_vec(&MessageContent {
            text: text.to_string(),
            status: status.map(str::to_string),
            attachments: keys,
        })
        .expect("message content always serializes"),
    );
    let aad = routing.associated_data();
    let content_key = random_key();
    let ciphertext = encrypt(&content_key, &content, &aad)?;
    let mut sealed_keys = BTreeMap::new();
    for (name, public) in recipients {
        let (enc, key) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, Kem>(
            &OpModeS::Base,
            &public.0,
            MESSAGE_FORMAT.as_bytes(),
            content_key.as_ref(),
            &aad,
        )
        .map_err(|_| Error::Encryption)?;
        sealed_keys.insert(
            name.to_string(),
            SealedKey {
                enc: BASE64.encode(enc.to_bytes()),
                key: BASE64.encode(key),
            },
        );
    }
    let envelope = MessageEnvelope {
        format: MESSAGE_FORMAT.into(),
        suite: SUITE.into(),
        routing,
        recipients: sealed_keys,
        ciphertext: BASE64.encode(ciphertext),
    };
    Ok((envelope, sealed_files))
}

/// Opens a message as `recipient` (`"office"` or `"citizen"`) with that party's key.
pub fn open_message(
    envelope: &MessageEnvelope,
    recipient: &str,
    key: &PrivateKey,
) -> Result<MessageContent, Error> {
    if envelope.format != MESSAGE_FORMAT {
        return Err(Error::InvalidEnvelope(format!(
            "unknown format `{}`, expected `{MESSAGE_FORMAT}`",
            envelope.format
        )));
    }
    let sealed = envelope
        .recipients
        .get(recipient)
        .ok_or_else(|| Error::InvalidEnvelope(format!("not sealed to the {recipient}")))?;
    let base64 = |what: &str, text: &str| {
        BASE64
            .decode(text)
            .map_err(|e| Error::InvalidEnvelope(format!("{what}: {e}")))
    };
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&base64("enc", &sealed.enc)?)
        .map_err(|_| Error::InvalidEnvelope("enc is not an X25519 key".into()))?;
    let aad = envelope.routing.associated_data();
    let content_key = Zeroizing::new(
        hpke::single_shot_open::<AesGcm256, HkdfSha256, Kem>(
            &OpModeR::Base,
            &key.0,
            &enc,
            MESSAGE_FORMAT.as_bytes(),
            &base64("key", &sealed.key)?,
            &aad,
        )
        .map_err(|_| Error::DecryptionFailed)?,
    );
    let content = decrypt(
        &content_key,
        &base64("ciphertext", &envelope.ciphertext)?,
        &aad,
    )?;
    serde_json::from_slice(&content)
        .map_err(|e| Error::InvalidEnvelope(format!("message content: {e}")))
}

/// Opens an attachment of an opened message; checks its SHA-256 too.
pub fn open_attachment(
    routing: &MessageRouting,
    attachment: &AttachmentKey,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let key = Zeroizing::new(
        BASE64
            .decode(&attachment.key)
            .map_err(|e| Error::InvalidEnvelope(format!("attachment key: {e}")))?,
    );
    let bytes = decrypt(&key, ciphertext, &routing.attachment_data(&attachment.id))?;
    if hex(&Sha256::digest(&*bytes)) != attachment.sha256 {
        return Err(Error::DecryptionFailed);
    }
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing() -> MessageRouting {
        MessageRouting {
            application: "7K3M-9QPX".into(),
            portal: "bottrop".into(),
            office: "buergerbuero".into(),
            message: "M-1".into(),
            from: "office".into(),
            at: "2026-12-01T10:00:00Z".into(),
        }
    }

    #[test]
    fn both_recipients_open_text_and_files() {
        let (office, office_public) = PrivateKey::generate();
        let citizen = PrivateKey::derive(b"token", "7K3M-9QPX");
        let pdf = b"%PDF-1.7 Bescheid".to_vec();
        let (envelope, files) = seal_message(
            routing(),
            "Ihr Bescheid",
            Some("completed"),
            &[NewAttachment {
                id: "A-1".into(),
                name: "bescheid.pdf".into(),
                media_type: "application/pdf".into(),
                bytes: &pdf,
            }],
            &[
                ("office", &office_public),
                ("citizen", &citizen.public_key()),
            ],
        )
        .unwrap();
        let json = envelope.to_json();
        assert!(!json.contains("Bescheid") && !json.contains("bescheid.pdf"));
        assert!(!files[0].ciphertext.windows(7).any(|w| w == b"Bescheid"));
        let envelope = MessageEnvelope::from_json(&json).unwrap();
        for (who, key) in [("office", &office), ("citizen", &citizen)] {
            let content = open_message(&envelope, who, key).unwrap();
            assert_eq!(content.text, "Ihr Bescheid");
            assert_eq!(content.status.as_deref(), Some("completed"));
            let file = &content.attachments[0];
            assert_eq!((file.size, file.name.as_str()), (17, "bescheid.pdf"));
            let opened = open_attachment(&envelope.routing, file, &files[0].ciphertext).unwrap();
            assert_eq!(&*opened, &pdf);
        }
        assert_eq!(
            open_message(&envelope, "citizen", &office).unwrap_err(),
            Error::DecryptionFailed
        );
    }

    #[test]
    fn a_moved_message_or_file_does_not_open() {
        let (office, public) = PrivateKey::generate();
        let (envelope, files) = seal_message(
            routing(),
            "Bitte senden Sie den Ausweis.",
            None,
            &[NewAttachment {
                id: "A-1".into(),
                name: "a.png".into(),
                media_type: "image/png".into(),
                bytes: b"\x89PNG....",
            }],
            &[("office", &public)],
        )
        .unwrap();
        let content = open_message(&envelope, "office", &office).unwrap();
        for change in [
            |r: &mut MessageRouting| r.application = "7K3M-9QPY".into(),
            |r: &mut MessageRouting| r.office = "steueramt".into(),
            |r: &mut MessageRouting| r.from = "citizen".into(),
            |r: &mut MessageRouting| r.message = "M-2".into(),
        ] {
            let mut moved = envelope.clone();
            change(&mut moved.routing);
            assert_eq!(
                open_message(&moved, "office", &office).unwrap_err(),
                Error::DecryptionFailed
            );
            assert!(open_attachment(
                &moved.routing,
                &content.attachments[0],
                &files[0].ciphertext
            )
            .is_err());
        }
        let mut other_file = content.attachments[0].clone();
        other_file.id = "A-2".into();
        assert!(open_attachment(&envelope.routing, &other_file, &files[0].ciphertext).is_err());
    }

    #[test]
    fn citizen_keys_are_derived_per_application_and_token() {
        let a = PrivateKey::derive(b"token", "7K3M-9QPX").public_key();
        assert_eq!(
            a.to_base64(),
            PrivateKey::derive(b"token", "7K3M-9QPX")
                .public_key()
                .to_base64()
        );
        assert_ne!(
            a.to_base64(),
            PrivateKey::derive(b"token", "7K3M-9QPY")
                .public_key()
                .to_base64()
        );
        assert_ne!(
            a.to_base64(),
            PrivateKey::derive(b"tokem", "7K3M-9QPX")
                .public_key()
                .to_base64()
        );
    }
}
