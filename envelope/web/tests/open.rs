//! The plain functions behind the JS API, natively: seal with `lotse-envelope` as the
//! functions do, open as the workspace does (with the entries as the office API lists
//! them, extra fields included).

use lotse_envelope::message::{seal_message, MessageRouting, NewAttachment};
use lotse_envelope::{seal, PrivateKey, Routing};
use lotse_envelope_web::{key_info, open_application, open_attachment, open_message, text};
use serde_json::{json, Value};

fn key_file(key: &PrivateKey) -> String {
    key.to_key_file().to_string()
}

fn routing() -> Routing {
    Routing {
        id: "7K3M-9QPX".into(),
        portal: "bottrop".into(),
        service: "hund-anmelden".into(),
        office: "steueramt".into(),
        created_at: "2026-11-23T19:50:00Z".into(),
    }
}

/// An application as `GET /api/office/applications/<id>` lists it: the envelope with
/// the fields the store adds.
fn office_entry(envelope_json: &str) -> String {
    let mut entry: Value = serde_json::from_str(envelope_json).unwrap();
    let object = entry.as_object_mut().unwrap();
    object.insert("status".into(), json!("in_progress"));
    object.insert("updated_at".into(), json!("2026-11-24T08:00:00Z"));
    object.insert(
        "payment".into(),
        json!({"status": "paid", "amount": 1500, "reference": "P-1"}),
    );
    object.insert(
        "history".into(),
        json!([{"at": "2026-11-24T08:00:00Z", "status": "in_progress", "note": null}]),
    );
    entry.to_string()
}

fn message_routing() -> MessageRouting {
    MessageRouting {
        application: "7K3M-9QPX".into(),
        portal: "bottrop".into(),
        office: "steueramt".into(),
        message: "M-1".into(),
        from: "citizen".into(),
        at: "2026-12-01T10:00:00Z".into(),
    }
}

#[test]
fn key_info_gives_the_public_key_of_a_key_file() {
    let (private, public) = PrivateKey::generate();
    assert_eq!(key_info(&key_file(&private)).unwrap(), public.to_base64());
    // CRLF line ends and a byte order mark, as an editor on Windows may leave them.
    let windows = format!("\u{feff}{}", key_file(&private).replace('\n', "\r\n"));
    assert_eq!(key_info(&windows).unwrap(), public.to_base64());

    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/office-keys/bottrop/steueramt.key"
    ))
    .unwrap();
    let portal = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../content/portals/bottrop/portal.toml"
    ))
    .unwrap();
    assert!(portal.contains(&key_info(&example).unwrap()));
}

#[test]
fn key_info_refuses_what_is_not_a_key_file() {
    for text in [
        "",
        "# Lotse office private key (X25519, base64).\n",
        "%PDF-1.7\n...",
        "AAAA",
        "{\"format\": \"lotse-envelope-v1\"}",
    ] {
        assert_eq!(
            key_info(text).unwrap_err(),
            text::NOT_A_KEY_FILE,
            "{text:?}"
        );
    }
}

#[test]
fn opens_an_application_as_the_office_lists_it() {
    let (private, public) = PrivateKey::generate();
    let plaintext = r#"{"fields":{"name":"Erika Mustermann","hund":"Bello"}}"#;
    let envelope = seal(&public, routing(), plaintext.as_bytes()).unwrap();
    let key = key_file(&private);
    assert_eq!(
        open_application(&key, &envelope.to_json()).unwrap(),
        plaintext
    );
    let entry = office_entry(&envelope.to_json());
    assert!(entry.contains("\"payment\"") && entry.contains("\"history\""));
    assert_eq!(open_application(&key, &entry).unwrap(), plaintext);
}

#[test]
fn a_wrong_key_or_a_moved_application_gives_the_german_error() {
    let (private, public) = PrivateKey::generate();
    let envelope = seal(&public, routing(), b"{}").unwrap();
    let (other, _) = PrivateKey::generate();
    assert_eq!(
        open_application(&key_file(&other), &envelope.to_json()).unwrap_err(),
        text::APPLICATION_WRONG_KEY
    );
    assert!(text::APPLICATION_WRONG_KEY.starts_with("Der Schlüssel passt nicht zu diesem Antrag"));

    let mut moved = envelope.clone();
    moved.routing.office = "ordnungsamt".into();
    assert_eq!(
        open_application(&key_file(&private), &moved.to_json()).unwrap_err(),
        text::APPLICATION_WRONG_KEY
    );

    let key = key_file(&private);
    assert_eq!(
        open_application("kein Schlüssel", &envelope.to_json()).unwrap_err(),
        text::NOT_A_KEY_FILE
    );
    for broken in [
        String::new(),
        "[]".to_string(),
        // An entry the office list could not read: routing only, and the reason.
        json!({"id": "7K3M-9QPX", "portal": "bottrop", "service": "hund-anmelden",
            "office": "steueramt", "created_at": "2026-11-23T19:50:00Z",
            "status": "received", "unreadable": "the stored envelope is not valid JSON"})
        .to_string(),
        envelope
            .to_json()
            .replace("lotse-envelope-v1", "lotse-envelope-v9"),
    ] {
        assert_eq!(
            open_application(&key, &broken).unwrap_err(),
            text::APPLICATION_INVALID,
            "{broken}"
        );
    }
}

#[test]
fn error_messages_carry_no_key_material() {
    let (private, public) = PrivateKey::generate();
    let envelope = seal(&public, routing(), b"{}").unwrap();
    let key = key_file(&private);
    let secret = key.lines().nth(1).unwrap().to_string();
    let broken_key = format!("# Lotse office private key\n{}!\n", secret);
    for error in [
        key_info(&broken_key).unwrap_err(),
        open_application(&broken_key, &envelope.to_json()).unwrap_err(),
        open_message(&broken_key, "{}").unwrap_err(),
    ] {
        assert!(!error.contains(&secret[..8]), "{error}");
        assert_eq!(error, text::NOT_A_KEY_FILE);
    }
}

#[test]
fn opens_a_message_and_its_file_as_the_office_thread_lists_them() {
    let (office, office_public) = PrivateKey::generate();
    let citizen = PrivateKey::derive(b"token", "7K3M-9QPX");
    let pdf = b"%PDF-1.7 Nachweis".to_vec();
    let (envelope, files) = seal_message(
        message_routing(),
        "Anbei der Nachweis.",
        None,
        &[NewAttachment {
            id: "A-1".into(),
            name: "nachweis.pdf".into(),
            media_type: "application/pdf".into(),
            bytes: &pdf,
        }],
        &[
            ("office", &office_public),
            ("citizen", &citizen.public_key()),
        ],
    )
    .unwrap();
    // As GET /api/office/applications/<id>/messages lists it: the sealed files beside
    // the envelope's fields.
    let mut entry: Value = serde_json::from_str(&envelope.to_json()).unwrap();
    entry["attachments"] = json!([{"id": "A-1", "size": files[0].ciphertext.len(),
        "ciphertext": "AAAA"}]);
    let entry = entry.to_string();

    let content: Value =
        serde_json::from_str(&open_message(&key_file(&office), &entry).unwrap()).unwrap();
    assert_eq!(content["text"], "Anbei der Nachweis.");
    assert!(content.get("status").is_none());
    let attachment = &content["attachments"][0];
    assert_eq!(attachment["name"], "nachweis.pdf");
    assert_eq!(attachment["type"], "application/pdf");
    assert_eq!(attachment["size"], 17);

    let attachment_json = attachment.to_string();
    assert_eq!(
        open_attachment(&entry, &attachment_json, &files[0].ciphertext).unwrap(),
        pdf
    );

    // A file's key with another file's id, an altered file, a file of another message.
    let mut other = attachment.clone();
    other["id"] = json!("A-2");
    let mut flipped = files[0].ciphertext.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let mut moved: Value = serde_json::from_str(&entry).unwrap();
    moved["message"] = json!("M-2");
    for (envelope_json, attachment_json, ciphertext) in [
        (
            entry.clone(),
            other.to_string(),
            files[0].ciphertext.clone(),
        ),
        (entry.clone(), attachment_json.clone(), flipped),
        (entry.clone(), attachment_json.clone(), vec![1, 2, 3]),
        (
            moved.to_string(),
            attachment_json.clone(),
            files[0].ciphertext.clone(),
        ),
    ] {
        assert_eq!(
            open_attachment(&envelope_json, &attachment_json, &ciphertext).unwrap_err(),
            text::ATTACHMENT_FAILED
        );
    }
    assert_eq!(
        open_attachment(&entry, "{\"id\": \"A-1\"}", &files[0].ciphertext).unwrap_err(),
        text::ATTACHMENT_KEY_INVALID
    );
}

#[test]
fn a_moved_message_or_a_wrong_key_does_not_open() {
    let (office, office_public) = PrivateKey::generate();
    let (envelope, _) = seal_message(
        message_routing(),
        "Bitte senden Sie den Ausweis.",
        Some("waiting"),
        &[],
        &[("office", &office_public)],
    )
    .unwrap();
    let key = key_file(&office);
    let content: Value =
        serde_json::from_str(&open_message(&key, &envelope.to_json()).unwrap()).unwrap();
    assert_eq!(content["status"], "waiting");
    assert_eq!(content["attachments"], json!([]));

    let mut moved = envelope.clone();
    moved.routing.application = "7K3M-9QPY".into();
    assert_eq!(
        open_message(&key, &moved.to_json()).unwrap_err(),
        text::MESSAGE_WRONG_KEY
    );
    let (other, _) = PrivateKey::generate();
    assert_eq!(
        open_message(&key_file(&other), &envelope.to_json()).unwrap_err(),
        text::MESSAGE_WRONG_KEY
    );

    let mut citizen_only = envelope.clone();
    citizen_only.recipients =
        [("citizen".to_string(), envelope.recipients["office"].clone())].into();
    assert_eq!(
        open_message(&key, &citizen_only.to_json()).unwrap_err(),
        text::MESSAGE_NOT_FOR_OFFICE
    );
    for broken in [
        String::new(),
        json!({"message": "M-1", "from": "citizen", "at": "2026-12-01T10:00:00Z",
            "unreadable": "the stored message is not a JSON object"})
        .to_string(),
        envelope
            .to_json()
            .replace("lotse-message-v1", "lotse-message-v2"),
    ] {
        assert_eq!(
            open_message(&key, &broken).unwrap_err(),
            text::MESSAGE_INVALID,
            "{broken}"
        );
    }
    // An application envelope is no message.
    let (_, public) = PrivateKey::generate();
    let application = seal(&public, routing(), b"{}").unwrap();
    assert_eq!(
        open_message(&key, &application.to_json()).unwrap_err(),
        text::MESSAGE_INVALID
    );
}
