//! `lotse-envelope` for the caseworkers' browser workspace (docs/workspace.md): opens
//! applications, messages and their files on the caseworker's own device, so that no
//! server ever holds a key that opens them.
//!
//! Every function here is plain Rust and tested natively (`cargo test -p
//! lotse-envelope-web`); [`js`] wraps them for JavaScript with wasm-bindgen, and
//! scripts/workspace-wasm.sh builds the module into `themes/default/static/amt/wasm/`.
//! Everything is stateless: the office's key comes in as the key file's text on every
//! call and is wiped from the module's memory before the call returns.
//!
//! Errors are short German sentences for the caseworker ([`text`]), `&'static str` so
//! that no key, field value or other content can ever end up in one.

use lotse_envelope::message::{self, AttachmentKey, MessageContent, MessageEnvelope};
use lotse_envelope::{Envelope, Error, PrivateKey};
use zeroize::Zeroize as _;

pub mod js;

/// The recipient name of the office in a message envelope.
const OFFICE: &str = "office";

/// What the caseworker is told when something cannot be opened.
pub mod text {
    pub const NOT_A_KEY_FILE: &str = "Die Datei ist keine Schlüsseldatei einer Dienststelle.";
    pub const APPLICATION_INVALID: &str =
        "Der Antrag ist beschädigt oder hat ein unbekanntes Format.";
    pub const APPLICATION_WRONG_KEY: &str =
        "Der Schlüssel passt nicht zu diesem Antrag, oder der Antrag wurde verändert.";
    pub const MESSAGE_INVALID: &str =
        "Die Nachricht ist beschädigt oder hat ein unbekanntes Format.";
    pub const MESSAGE_NOT_FOR_OFFICE: &str =
        "Die Nachricht ist nicht für die Dienststelle verschlüsselt.";
    pub const MESSAGE_WRONG_KEY: &str =
        "Der Schlüssel passt nicht zu dieser Nachricht, oder die Nachricht wurde verändert.";
    pub const ATTACHMENT_KEY_INVALID: &str = "Die Angaben zur Datei sind ungültig.";
    pub const ATTACHMENT_FAILED: &str =
        "Die Datei lässt sich nicht öffnen: Sie gehört nicht zu dieser Nachricht oder wurde verändert.";
}

/// Reads the office's key file. A byte order mark, as some editors on Windows write
/// one, is ignored; `PrivateKey` wipes its bytes when dropped.
fn private_key(key_file: &str) -> Result<PrivateKey, &'static str> {
    let key_file = key_file.strip_prefix('\u{feff}').unwrap_or(key_file);
    PrivateKey::from_key_file(key_file).map_err(|_| text::NOT_A_KEY_FILE)
}

/// The public key of a key file, base64 (as `public_key` in portal.toml and in
/// `amt/dienststellen.json`), so that the workspace can tell which office it opens.
pub fn key_info(key_file: &str) -> Result<String, &'static str> {
    Ok(private_key(key_file)?.public_key().to_base64())
}

/// The plaintext (the application's JSON) of an application envelope. Takes the entry
/// of the office list as it is: fields beside the envelope's (`status`, `updated_at`,
/// `payment`, `history`) are ignored.
pub fn open_application(key_file: &str, envelope_json: &str) -> Result<String, &'static str> {
    let key = private_key(key_file)?;
    let envelope = Envelope::from_json(envelope_json).map_err(|_| text::APPLICATION_INVALID)?;
    let plaintext = lotse_envelope::open(&key, &envelope).map_err(|e| match e {
        Error::DecryptionFailed => text::APPLICATION_WRONG_KEY,
        _ => text::APPLICATION_INVALID,
    })?;
    std::str::from_utf8(&plaintext)
        .map(str::to_string)
        .map_err(|_| text::APPLICATION_INVALID)
}

/// A message of the conversation opened as the office: the JSON of its
/// [`MessageContent`] (`text`, `status` if the office set one, `attachments` with the
/// key of each file). Takes the entry of the office thread as it is: its sealed
/// `attachments` beside the envelope's fields are ignored.
pub fn open_message(key_file: &str, envelope_json: &str) -> Result<String, &'static str> {
    let key = private_key(key_file)?;
    let envelope = MessageEnvelope::from_json(envelope_json).map_err(|_| text::MESSAGE_INVALID)?;
    if !envelope.recipients.contains_key(OFFICE) {
        return Err(text::MESSAGE_NOT_FOR_OFFICE);
    }
    let mut content = message::open_message(&envelope, OFFICE, &key).map_err(|e| match e {
        Error::DecryptionFailed => text::MESSAGE_WRONG_KEY,
        _ => text::MESSAGE_INVALID,
    })?;
    let json = serde_json::to_string(&content).map_err(|_| text::MESSAGE_INVALID);
    wipe(&mut content);
    json
}

/// A file of a message: `attachment_json` is one entry of the opened message's
/// `attachments` (as [`open_message`] gave it), `ciphertext` the sealed file. Checks
/// that the file belongs to this message and that its SHA-256 matches.
pub fn open_attachment(
    envelope_json: &str,
    attachment_json: &str,
    ciphertext: &[u8],
) -> Result<Vec<u8>, &'static str> {
    let envelope = MessageEnvelope::from_json(envelope_json).map_err(|_| text::MESSAGE_INVALID)?;
    let mut attachment: AttachmentKey =
        serde_json::from_str(attachment_json).map_err(|_| text::ATTACHMENT_KEY_INVALID)?;
    let opened = message::open_attachment(&envelope.routing, &attachment, ciphertext);
    attachment.key.zeroize();
    // Wrong routing, file or key, a short or altered ciphertext, a wrong SHA-256: to the
    // caseworker all the same.
    opened
        .map(|bytes| bytes.to_vec())
        .map_err(|_| text::ATTACHMENT_FAILED)
}

/// Wipes the file keys of an opened message once they have been handed on.
fn wipe(content: &mut MessageContent) {
    for attachment in &mut content.attachments {
        attachment.key.zeroize();
    }
}
