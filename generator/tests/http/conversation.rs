//! The conversation on an application (SPEC section 6) over HTTP, on every runtime:
//! messages and files both ways, the status page's form without JavaScript, the
//! refusals, and that no text or file rests readable in the server's state.

use std::io::{Read as _, Write as _};
use std::path::Path;

use base64::Engine as _;
use lotse_envelope::message::{open_attachment, open_message, MessageEnvelope};
use lotse_envelope::PrivateKey;
use serde_json::json;

use super::cases::submit;
use super::server::{repo, OFFICE_TOKEN};
use super::Client;

/// Bytes that start like a PNG and carry a word to search the state for.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR Dateiprobe-Foto";
/// A PDF of ASCII only, so the suite's client can read the download as text.
const PDF: &str = "%PDF-1.7\n% Bescheidprobe\n1 0 obj << >> endobj\n%%EOF\n";
const TEXT: &str = "Nachrichtenprobe: anbei das Foto.";

fn office_key() -> PrivateKey {
    let text =
        std::fs::read_to_string(repo().join("examples/office-keys/bottrop/buergerbuero.key"))
            .unwrap();
    PrivateKey::from_key_file(&text).unwrap()
}

/// A multipart body: (name, file name, bytes) parts.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----lotse-suite-7MvJ3qW";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        let disposition = match file {
            Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream"),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn post_multipart(
    client: &Client,
    path: &str,
    headers: &[(&str, &str)],
    parts: &[(&str, Option<&str>, &[u8])],
) -> super::Answer {
    let (content_type, body) = multipart(parts);
    let mut all = vec![("content-type", content_type.as_str())];
    all.extend_from_slice(headers);
    client.request("POST", path, &all, Some(&body))
}

/// The citizen sends a photo, the office opens it, answers with a PDF and a status,
/// the citizen reads the answer and downloads the PDF.
pub fn messages_both_ways(client: &Client) {
    let (id, token) = submit(client, "gespraech");
    let citizen = bearer(&token);
    let office = bearer(OFFICE_TOKEN);
    let messages = format!("/api/applications/{id}/messages");
    let sent = post_multipart(
        client,
        &messages,
        &[("authorization", &citizen)],
        &[
            ("text", None, TEXT.as_bytes()),
            ("file", Some("marke.png"), PNG),
        ],
    );
    assert_eq!(sent.status, 201, "{}", sent.body);

    let listing = client.get(
        &format!("/api/office/applications/{id}/messages"),
        &[("authorization", &office)],
    );
    assert_eq!(listing.status, 200, "{}", listing.body);
    assert!(!listing.body.contains("Nachrichtenprobe"));
    let entry = &listing.json()["messages"][0];
    let envelope = MessageEnvelope::from_json(&entry.to_string()).unwrap();
    let content = open_message(&envelope, "office", &office_key()).unwrap();
    assert_eq!(content.text, TEXT);
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(entry["attachments"][0]["ciphertext"].as_str().unwrap())
        .unwrap();
    let photo = open_attachment(&envelope.routing, &content.attachments[0], &sealed).unwrap();
    assert_eq!(&*photo, PNG);

    let reply = post_multipart(
        client,
        &format!("/api/office/applications/{id}/messages"),
        &[("authorization", &office)],
        &[
            (
                "text",
                None,
                "Bitte reichen Sie den Ausweis nach.".as_bytes(),
            ),
            ("status", None, b"needs_info"),
            ("file", Some("Bescheid.pdf"), PDF.as_bytes()),
        ],
    );
    assert_eq!(reply.status, 201, "{}", reply.body);

    let thread = client.get(&messages, &[("authorization", &citizen)]);
    assert_eq!(thread.status, 200, "{}", thread.body);
    let thread = thread.json();
    assert_eq!(thread["status"], "needs_info");
    let list = thread["messages"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["from"].as_str(), list[1]["from"].as_str()),
        (Some("citizen"), Some("office"))
    );
    assert_eq!(list[1]["text"], "Bitte reichen Sie den Ausweis nach.");
    let file = &list[1]["attachments"][0];
    assert_eq!(file["name"], "Bescheid.pdf");
    assert_eq!(file["type"], "application/pdf");
    let download = client.get(
        &format!(
            "/api/applications/{id}/attachments/{}",
            file["id"].as_str().unwrap()
        ),
        &[("authorization", &citizen)],
    );
    assert_eq!(download.status, 200);
    assert_eq!(download.body, PDF);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
}

/// The status page, its reply form (multipart, the token as a hidden field, no
/// JavaScript) and the 303 back to the thread, which the sealed cookie opens.
pub fn the_status_page_converses_without_javascript(client: &Client) {
    let (id, token) = submit(client, "formular");
    let page = client.post_form("/api/status", &[("id", &id), ("token", &token)]);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page
        .body
        .contains(&format!("action=\"/api/applications/{id}/messages\"")));
    let (content_type, body) = multipart(&[
        ("token", None, token.as_bytes()),
        ("text", None, "Frage per Formular".as_bytes()),
        ("file", Some(""), b""),
    ]);
    let sent = client.request(
        "POST",
        &format!("/api/applications/{id}/messages"),
        &[
            ("content-type", &content_type),
            ("accept", "text/html,application/xhtml+xml"),
            ("sec-fetch-site", "same-origin"),
            ("origin", "null"),
        ],
        Some(&body),
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let location = sent.header("location").unwrap().to_string();
    assert!(location.starts_with("/api/vorgang?id="), "{location}");
    assert!(
        !location.contains(&token),
        "the token never goes into an address"
    );
    let cookie = sent.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie = cookie.split(';').next().unwrap().to_string();
    let thread = client.get(&location, &[("cookie", &cookie)]);
    assert_eq!(thread.status, 200, "{}", thread.body);
    assert!(thread.body.contains("Frage per Formular"));
    // Without the cookie (a link from a notification mail): the lookup form with the id.
    let form = client.get(&location, &[]);
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains(&format!("value=\"{id}\"")),
        "{}",
        form.body
    );
    assert!(!form.body.contains("Frage per Formular"));

    // A refused reply shows the thread again with the reason and the text kept.
    let (content_type, body) = multipart(&[
        ("token", None, token.as_bytes()),
        ("text", None, "Mein Text bleibt".as_bytes()),
        ("file", Some("programm.pdf"), b"MZ\x90\x00 kein PDF"),
    ]);
    let refused = client.request(
        "POST",
        &format!("/api/applications/{id}/messages"),
        &[
            ("content-type", &content_type),
            ("accept", "text/html"),
            ("sec-fetch-site", "same-origin"),
        ],
        Some(&body),
    );
    assert_eq!(refused.status, 415, "{}", refused.body);
    assert!(refused.body.contains("kein PDF, PNG oder JPEG"));
    assert!(refused.body.contains(">Mein Text bleibt</textarea>"));
}

/// Every refusal of SPEC section 6, with a reason.
pub fn bad_messages_are_refused(client: &Client, runtime: Runtime) {
    let (id, token) = submit(client, "abweisung");
    let (_, other_token) = submit(client, "andere");
    let path = format!("/api/applications/{id}/messages");
    let citizen = bearer(&token);
    let expect = |answer: super::Answer, status: u16, code: &str| {
        assert_eq!(answer.status, status, "{}", answer.body);
        let body = answer.json();
        assert_eq!(body["error"], code, "{body}");
        assert!(!body["message"].as_str().unwrap_or("").is_empty());
    };
    let hello = json!({"text": "Hallo"});
    expect(
        client.post_json(&path, &[("authorization", &bearer(&other_token))], &hello),
        404,
        "not_found",
    );
    expect(
        client.post_json(
            "/api/applications/ZZZZ-ZZZZ/messages",
            &[("authorization", &citizen)],
            &hello,
        ),
        404,
        "not_found",
    );
    assert_eq!(
        client
            .get(&path, &[("authorization", &bearer(&other_token))])
            .status,
        404
    );
    expect(
        client.post_json(
            &path,
            &[
                ("authorization", &citizen),
                ("origin", "https://fremd.example"),
            ],
            &hello,
        ),
        403,
        "cross_site",
    );
    expect(
        client.post_json(&path, &[("authorization", &citizen)], &json!({"text": " "})),
        400,
        "empty_message",
    );
    expect(
        post_multipart(
            client,
            &path,
            &[("authorization", &citizen)],
            &[(
                "file",
                Some("ausweis.pdf"),
                b"MZ\x90\x00This program cannot be run",
            )],
        ),
        415,
        "unsupported_file_type",
    );
    let big = [b"%PDF-".as_slice(), &vec![b'0'; 10 * 1024 * 1024]].concat();
    expect(
        post_multipart(
            client,
            &path,
            &[("authorization", &citizen)],
            &[("file", Some("gross.pdf"), &big)],
        ),
        413,
        "file_too_large",
    );
    match runtime {
        Runtime::Serve => assert_eq!(declared_too_large(client, &path, &token), 413),
        // wrangler dev's local proxy hands a request to workerd only with its body, so
        // there the whole oversized body is sent; the worker reads none of it past the
        // limit.
        Runtime::Workerd => {
            let body = vec![b' '; 21 * 1024 * 1024];
            let answer = client.request(
                "POST",
                &path,
                &[
                    ("authorization", &citizen),
                    ("content-type", "application/json"),
                ],
                Some(&body),
            );
            expect(answer, 413, "too_large");
        }
    }
    let thread = client.get(&path, &[("authorization", &citizen)]).json();
    assert_eq!(thread["messages"].as_array().unwrap().len(), 0, "{thread}");
}

/// Announces a 30 MiB body and sends none of it: the answer is 413 without waiting for
/// the body (a client that sent it all would learn the same only after the upload).
fn declared_too_large(client: &Client, path: &str, token: &str) -> u16 {
    let host = client.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        30 * 1024 * 1024
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    let line = String::from_utf8_lossy(&head).to_string();
    line[9..12].parse().unwrap_or(0)
}

/// No message text, file name or file content in any file of the server's state.
pub fn no_conversation_at_rest(client: &Client, state: &Path) {
    messages_both_ways(client);
    let mut checked = 0;
    for file in super::cases::walk(state) {
        let bytes = std::fs::read(&file).unwrap();
        checked += 1;
        for needle in [
            "Nachrichtenprobe",
            "Dateiprobe",
            "Bescheidprobe",
            "marke.png",
            "Bescheid.pdf",
            "den Ausweis nach",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains {needle}",
                file.display()
            );
        }
    }
    assert!(checked > 0);
}

/// The office's view of an application it may not see is the same 404 as none.
pub fn other_offices_see_nothing(client: &Client) {
    let (id, _) = submit(client, "fremd");
    let other = bearer(super::server::OTHER_OFFICE_TOKEN);
    for (method, path) in [
        ("GET", format!("/api/office/applications/{id}/messages")),
        ("DELETE", format!("/api/office/applications/{id}")),
    ] {
        let answer = client.request(method, &path, &[("authorization", &other)], None);
        assert_eq!(answer.status, 404, "{method} {path}: {}", answer.body);
    }
    let answer = client.post_json(
        &format!("/api/office/applications/{id}/messages"),
        &[("authorization", &other)],
        &json!({"text": "Hallo"}),
    );
    assert_eq!(answer.status, 404);
}

/// Where the suite runs, for the one answer that differs in how it can be provoked.
#[derive(Clone, Copy)]
pub enum Runtime {
    Serve,
    Workerd,
}

pub fn all(client: &Client, state: &Path, runtime: Runtime) {
    messages_both_ways(client);
    the_status_page_converses_without_javascript(client);
    bad_messages_are_refused(client, runtime);
    other_offices_see_nothing(client);
    no_conversation_at_rest(client, state);
}
