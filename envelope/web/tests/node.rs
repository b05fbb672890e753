//! The committed WebAssembly module in a JS engine: seals an application and a message
//! with a file natively, then has Node (tests/wasm.mjs) load the module the way the
//! workspace does and open them. Skipped when there is no `node` on PATH.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use lotse_envelope::message::{seal_message, MessageRouting, NewAttachment};
use lotse_envelope::{seal, PrivateKey, Routing};
use lotse_envelope_web::text;
use serde_json::json;

#[test]
fn the_committed_module_opens_what_lotse_envelope_sealed() {
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped: no node on PATH");
        return;
    }
    let (office, public) = PrivateKey::generate();
    let (other, _) = PrivateKey::generate();
    let plaintext = r#"{"fields":{"name":"Jürgen Müller"}}"#;
    let application = seal(
        &public,
        Routing {
            id: "7K3M-9QPX".into(),
            portal: "bottrop".into(),
            service: "hund-anmelden".into(),
            office: "steueramt".into(),
            created_at: "2026-11-23T19:50:00Z".into(),
        },
        plaintext.as_bytes(),
    )
    .unwrap();
    let mut application_entry: serde_json::Value =
        serde_json::from_str(&application.to_json()).unwrap();
    application_entry["status"] = json!("received");
    application_entry["payment"] = json!(null);

    let file = b"\x89PNG\r\n\x1a\n Ausweis".to_vec();
    let (message, files) = seal_message(
        MessageRouting {
            application: "7K3M-9QPX".into(),
            portal: "bottrop".into(),
            office: "steueramt".into(),
            message: "M-1".into(),
            from: "citizen".into(),
            at: "2026-12-01T10:00:00Z".into(),
        },
        "Hier mein Ausweis.",
        None,
        &[NewAttachment {
            id: "A-1".into(),
            name: "ausweis.png".into(),
            media_type: "image/png".into(),
            bytes: &file,
        }],
        &[("office", &public)],
    )
    .unwrap();
    let base64 = base64::engine::general_purpose::STANDARD;
    let mut message_entry: serde_json::Value = serde_json::from_str(&message.to_json()).unwrap();
    message_entry["attachments"] = json!([{"id": "A-1", "size": files[0].ciphertext.len(),
        "ciphertext": base64.encode(&files[0].ciphertext)}]);

    let fixtures = json!({
        "keyFile": office.to_key_file().as_str(),
        "otherKeyFile": other.to_key_file().as_str(),
        "publicKey": public.to_base64(),
        "application": application_entry.to_string(),
        "plaintext": plaintext,
        "message": message_entry.to_string(),
        "messageText": "Hier mein Ausweis.",
        "fileCiphertext": base64.encode(&files[0].ciphertext),
        "file": base64.encode(&file),
        "text": {
            "notAKeyFile": text::NOT_A_KEY_FILE,
            "applicationWrongKey": text::APPLICATION_WRONG_KEY,
            "messageWrongKey": text::MESSAGE_WRONG_KEY,
            "attachmentFailed": text::ATTACHMENT_FAILED,
        },
    });
    let mut node = Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wasm.mjs"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    node.stdin
        .take()
        .unwrap()
        .write_all(fixtures.to_string().as_bytes())
        .unwrap();
    let out = node.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "node tests/wasm.mjs failed (is the committed module stale? run scripts/workspace-wasm.sh):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}
