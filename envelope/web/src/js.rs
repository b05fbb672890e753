//! The JavaScript API of the module (wasm-bindgen): thin wrappers around the plain
//! functions of the crate. A failure is thrown as a JS `Error` whose message is the
//! German sentence of [`crate::text`].
//!
//! The key file's text and a file's key are taken as owned strings, so that the copy
//! wasm-bindgen made of them in the module's memory is wiped before the call returns
//! (a borrowed `&str` would be freed without being overwritten).

use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

fn thrown(message: &'static str) -> JsError {
    JsError::new(message)
}

/// The key file's public key, base64 (as in `amt/dienststellen.json`).
#[wasm_bindgen(js_name = keyInfo)]
pub fn key_info(
    #[wasm_bindgen(js_name = keyFileText)] key_file_text: String,
) -> Result<String, JsError> {
    let key_file = Zeroizing::new(key_file_text);
    crate::key_info(&key_file).map_err(thrown)
}

/// The plaintext of an application envelope (an entry of the office list): the
/// application's JSON.
#[wasm_bindgen(js_name = openApplication)]
pub fn open_application(
    #[wasm_bindgen(js_name = keyFileText)] key_file_text: String,
    #[wasm_bindgen(js_name = envelopeJson)] envelope_json: &str,
) -> Result<String, JsError> {
    let key_file = Zeroizing::new(key_file_text);
    crate::open_application(&key_file, envelope_json).map_err(thrown)
}

/// A message (an entry of the office thread) opened as the office: the JSON of its
/// content, `{"text", "status"?, "attachments": [{"id", "name", "type", "size",
/// "sha256", "key"}]}`.
#[wasm_bindgen(js_name = openMessage)]
pub fn open_message(
    #[wasm_bindgen(js_name = keyFileText)] key_file_text: String,
    #[wasm_bindgen(js_name = messageEnvelopeJson)] message_envelope_json: &str,
) -> Result<String, JsError> {
    let key_file = Zeroizing::new(key_file_text);
    crate::open_message(&key_file, message_envelope_json).map_err(thrown)
}

/// A file of a message: `attachmentKeyJson` is one entry of the opened message's
/// `attachments`, `ciphertext` the sealed file. Checks its SHA-256.
#[wasm_bindgen(js_name = openAttachment)]
pub fn open_attachment(
    #[wasm_bindgen(js_name = messageEnvelopeJson)] message_envelope_json: &str,
    #[wasm_bindgen(js_name = attachmentKeyJson)] attachment_key_json: String,
    ciphertext: &[u8],
) -> Result<Vec<u8>, JsError> {
    let attachment = Zeroizing::new(attachment_key_json);
    crate::open_attachment(message_envelope_json, &attachment, ciphertext).map_err(thrown)
}
