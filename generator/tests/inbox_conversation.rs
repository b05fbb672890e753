//! The office side of the conversation on an application (SPEC section 6) end to end,
//! against `lotse serve`: the citizen writes with a photo, the office answers with
//! `lotse inbox reply --attach`, `lotse inbox pull --out` writes the whole conversation
//! into a folder, byte for byte, and the citizen sees the answer.

mod common;
#[allow(dead_code)]
mod http;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

use common::snapshot;
use http::server::{repo, OFFICE_TOKEN};
use http::{cases, server, Client};

/// A PNG as the server judges it (by its first bytes), with bytes a careless multipart
/// writer or reader would break: CR LF, dashes, NUL, high bytes.
const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\r\n--\r\n--lotse\xff\xfe\x00Foto vom Fund";
const DECISION: &[u8] =
    b"%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n--boundary?\r\n1 0 obj Bescheid\r\n%%EOF\r\n";

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn lotse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(args)
        .env("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The citizen writes with the application's token, the photo as a `file` part.
fn citizen_writes(client: &Client, id: &str, token: &str) -> String {
    let boundary = "----citizen-7d1f0c";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n\
             Hier ist das Foto, das Sie wollten.\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../Fund foto.png\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(PHOTO);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let answer = client.request(
        "POST",
        &format!("/api/applications/{id}/messages"),
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", &content_type),
        ],
        Some(&body),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()["id"].as_str().unwrap().to_string()
}

#[test]
fn the_office_answers_with_a_file_and_pulls_the_conversation() {
    let server = server::lotse_serve(1000);
    let client = Client::new(&server.base);
    let (id, token) = cases::submit(&client, "gespraech");
    let citizen_message = citizen_writes(&client, &id, &token);

    let work = tempfile::tempdir().unwrap();
    let decision = work.path().join("bescheid.pdf");
    std::fs::write(&decision, DECISION).unwrap();
    let not_a_document = work.path().join("notiz.pdf");
    std::fs::write(&not_a_document, "nur Text, kein PDF").unwrap();
    let decision = decision.to_str().unwrap();

    // Another type is refused before anything is sent.
    let refused = lotse(&[
        "inbox",
        "reply",
        "--server",
        &server.base,
        "--id",
        &id,
        "--text",
        "Anbei.",
        "--attach",
        not_a_document.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a PDF, PNG or JPEG"));
    // The server's own (German) reason when it refuses.
    let empty = lotse(&[
        "inbox",
        "reply",
        "--server",
        &server.base,
        "--id",
        &id,
        "--text",
        "",
    ]);
    assert_eq!(empty.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("answered 400"),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );

    let office_message = ok(&lotse(&[
        "inbox",
        "reply",
        "--server",
        &server.base,
        "--id",
        &id,
        "--text",
        "Danke. Anbei Ihr Bescheid; bitte noch den Ausweis nachreichen.",
        "--attach",
        decision,
        "--status",
        "needs_info",
    ]))
    .trim()
    .to_string();
    assert!(!office_message.is_empty());

    let out = work.path().join("posteingang");
    let pull = |out: &Path| {
        lotse(&[
            "inbox",
            "pull",
            "--server",
            &server.base,
            "--portal",
            "bottrop",
            "--office",
            "buergerbuero",
            "--key",
            repo()
                .join("examples/office-keys/bottrop/buergerbuero.key")
                .to_str()
                .unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let listed = ok(&pull(&out));
    assert!(listed.contains(&id), "{listed}");

    let folder = out.join(&id);
    let application = json_file(&folder.join("application.json"));
    assert_eq!(application["id"], id.as_str());
    assert!(application["fields"]["beschreibung"]
        .as_str()
        .unwrap()
        .contains("gespraech"));
    assert_eq!(application["status"], "needs_info");

    let messages = json_file(&folder.join("messages.json"));
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let (first, second) = (&messages[0], &messages[1]);
    assert_eq!(first["id"], citizen_message.as_str());
    assert_eq!(first["from"], "citizen");
    assert_eq!(first["text"], "Hier ist das Foto, das Sie wollten.");
    let photo = &first["attachments"][0];
    assert_eq!(photo["type"], "image/png");
    assert_eq!(photo["size"], PHOTO.len());
    assert_eq!(photo["sha256"], sha256(PHOTO));
    assert!(photo.get("key").is_none());
    assert_eq!(second["id"], office_message.as_str());
    assert_eq!(second["from"], "office");
    assert_eq!(second["status"], "needs_info");
    assert_eq!(second["attachments"][0]["name"], "bescheid.pdf");

    let files = snapshot(&folder);
    let photo_file = Path::new(photo["file"].as_str().unwrap());
    assert!(
        photo_file.starts_with("attachments")
            && photo_file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{citizen_message}-")),
        "{photo_file:?}"
    );
    assert_eq!(sha256(&files[photo_file]), sha256(PHOTO));
    let decision_file = format!("attachments/{office_message}-bescheid.pdf");
    assert_eq!(second["attachments"][0]["file"], decision_file.as_str());
    assert_eq!(files[Path::new(&decision_file)], DECISION);
    assert_eq!(files.len(), 4, "{:?}", files.keys());

    // Once more: the same files, nothing added.
    let whole = snapshot(&out);
    ok(&pull(&out));
    assert_eq!(snapshot(&out), whole);

    // The citizen sees the answer, its file and the status.
    let citizen = format!("Bearer {token}");
    let thread = client.get(
        &format!("/api/applications/{id}/messages"),
        &[("authorization", &citizen)],
    );
    assert_eq!(thread.status, 200, "{}", thread.body);
    let thread = thread.json();
    let answer = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == office_message.as_str())
        .unwrap_or_else(|| panic!("the office's answer is missing: {thread}"))
        .clone();
    assert_eq!(answer["from"], "office");
    assert!(answer["text"].as_str().unwrap().contains("Ausweis"));
    assert_eq!(answer["attachments"][0]["name"], "bescheid.pdf");
    assert_eq!(answer["attachments"][0]["type"], "application/pdf");
    let status = client.get(
        &format!("/api/applications/{id}"),
        &[("authorization", &citizen)],
    );
    assert_eq!(status.json()["status"], "needs_info");
}
