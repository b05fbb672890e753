//! The conversation on an application (SPEC section 6), natively on the embedded store:
//! messages both ways, files, the answers to bad input, and that no text or file rests
//! in plaintext.

mod common;

use common::{app, post, request, NOW, OFFICE_TOKEN};
use futures_executor::block_on;
use lotse_envelope::message::{open_attachment, open_message, MessageEnvelope};
use lotse_envelope::PrivateKey;
use lotse_functions::sqlite::SqliteStore;
use lotse_functions::{handle, Request, Response, Store};
use serde_json::Value;

const VALID: &str =
    r#"{"portal":"musterstadt","service":"hund-anmelden","fields":{"name":"Erika Klartext"}}"#;
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-canary-file-bytes-4711";
const PDF: &[u8] = b"%PDF-1.7\n% Bescheid-canary-pdf-bytes\n%%EOF\n";

type TestApp = lotse_functions::App<SqliteStore, common::OneForm, lotse_functions::auth::NoNetwork>;

fn send(app: &TestApp, request: Request) -> (u16, Value, Response) {
    let response = block_on(handle(app, request));
    let json = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, json, response)
}

/// A stored application: its id and the citizen's token.
fn submitted(app: &TestApp) -> (String, String) {
    let (status, json, _) = send(app, post(NOW, None, VALID));
    assert_eq!(status, 201, "{json}");
    (
        json["id"].as_str().unwrap().to_string(),
        json["token"].as_str().unwrap().to_string(),
    )
}

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "lotse-test-boundary-0815";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(file) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn with_body(mut request: Request, content_type: &str, body: Vec<u8>) -> Request {
    request
        .headers
        .push(("content-type".into(), content_type.into()));
    request
        .headers
        .push(("content-length".into(), body.len().to_string()));
    request.body = body;
    request
}

fn citizen_post(id: &str, token: &str, content_type: &str, body: Vec<u8>) -> Request {
    let auth = format!("Bearer {token}");
    with_body(
        request(
            "POST",
            &format!("/api/applications/{id}/messages"),
            "",
            &[("authorization", &auth)],
        ),
        content_type,
        body,
    )
}

fn citizen_get(path: &str, token: &str) -> Request {
    let auth = format!("Bearer {token}");
    request("GET", path, "", &[("authorization", &auth)])
}

fn office(method: &str, path: &str) -> Request {
    let auth = format!("Bearer {OFFICE_TOKEN}");
    request(method, path, "", &[("authorization", &auth)])
}

#[test]
fn citizen_and_office_write_to_each_other_with_files() {
    let (app, office_key) = app(SqliteStore::in_memory().unwrap());
    let (id, token) = submitted(&app);

    // The citizen writes, with a photo.
    let (content_type, body) = multipart(&[
        ("text", None, "Anbei das Foto der Marke.".as_bytes()),
        ("file", Some("marke.png"), PNG),
    ]);
    let (status, json, _) = send(&app, citizen_post(&id, &token, &content_type, body));
    assert_eq!(status, 201, "{json}");

    // The office lists the thread as envelopes and opens them with its key.
    let (status, listing, _) = send(
        &app,
        office("GET", &format!("/api/office/applications/{id}/messages")),
    );
    assert_eq!(status, 200, "{listing}");
    let entry = &listing["messages"][0];
    assert_eq!(entry["from"], "citizen");
    let envelope = MessageEnvelope::from_json(&entry.to_string()).unwrap();
    let content = open_message(&envelope, "office", &office_key).unwrap();
    assert_eq!(content.text, "Anbei das Foto der Marke.");
    assert_eq!(content.attachments[0].name, "marke.png");
    assert_eq!(content.attachments[0].media_type, "image/png");
    use base64::Engine as _;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(entry["attachments"][0]["ciphertext"].as_str().unwrap())
        .unwrap();
    let file = open_attachment(&envelope.routing, &content.attachments[0], &sealed).unwrap();
    assert_eq!(&*file, PNG);

    // The office answers with the Bescheid and asks for more.
    let (content_type, body) = multipart(&[
        (
            "text",
            None,
            "Bitte senden Sie noch den Impfpass.".as_bytes(),
        ),
        ("status", None, b"needs_info"),
        ("file", Some("Bescheid.pdf"), PDF),
    ]);
    let (status, json, _) = send(
        &app,
        with_body(
            office("POST", &format!("/api/office/applications/{id}/messages")),
            &content_type,
            body,
        ),
    );
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["status"], "needs_info");

    // The citizen reads the thread, oldest first, and downloads the Bescheid.
    let (status, thread, _) = send(
        &app,
        citizen_get(&format!("/api/applications/{id}/messages"), &token),
    );
    assert_eq!(status, 200, "{thread}");
    assert_eq!(thread["status"], "needs_info");
    let messages = thread["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["from"], "citizen");
    assert_eq!(messages[0]["text"], "Anbei das Foto der Marke.");
    assert_eq!(messages[1]["from"], "office");
    assert_eq!(messages[1]["new"], true);
    let attachment = &messages[1]["attachments"][0];
    assert_eq!(attachment["name"], "Bescheid.pdf");
    assert_eq!(attachment["type"], "application/pdf");
    assert_eq!(attachment["size"], PDF.len());
    let (status, _, download) = send(
        &app,
        citizen_get(
            &format!(
                "/api/applications/{id}/attachments/{}",
                attachment["id"].as_str().unwrap()
            ),
            &token,
        ),
    );
    assert_eq!(status, 200);
    assert_eq!(download.body, PDF);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert!(download
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment;"));

    // The status history has the change, without a note.
    let (_, status_json, _) = send(
        &app,
        citizen_get(&format!("/api/applications/{id}"), &token),
    );
    let history = status_json["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["status"], "needs_info");
    assert!(history.iter().all(|h| h["note"].is_null()));
}

#[test]
fn bad_messages_get_a_reason_and_store_nothing() {
    let (app, _) = app(SqliteStore::in_memory().unwrap());
    let (id, token) = submitted(&app);
    let path = format!("/api/applications/{id}/messages");
    let json = "application/json";

    let cases: Vec<(Request, u16, &str)> = vec![
        // A wrong token is as unknown as an unknown id.
        (
            citizen_post(&id, "WRONGTOKEN", json, br#"{"text":"Hallo"}"#.to_vec()),
            404,
            "not_found",
        ),
        (
            citizen_post("ZZZZ-ZZZZ", &token, json, br#"{"text":"Hallo"}"#.to_vec()),
            404,
            "not_found",
        ),
        (
            citizen_post(&id, &token, json, br#"{"text":"  "}"#.to_vec()),
            400,
            "empty_message",
        ),
        (
            citizen_post(&id, &token, json, br#"{"text":"x","amount":1}"#.to_vec()),
            400,
            "invalid_json",
        ),
        (
            citizen_post(&id, &token, "text/plain", b"Hallo".to_vec()),
            415,
            "unsupported_media_type",
        ),
        {
            let (content_type, body) = multipart(&[(
                "file",
                Some("ausweis.pdf"),
                b"MZ\x90\x00This program cannot be run in DOS mode",
            )]);
            (
                citizen_post(&id, &token, &content_type, body),
                415,
                "unsupported_file_type",
            )
        },
        {
            let big = [b"%PDF-".as_slice(), &vec![b'x'; 10 * 1024 * 1024]].concat();
            let (content_type, body) = multipart(&[("file", Some("gross.pdf"), &big)]);
            (
                citizen_post(&id, &token, &content_type, body),
                413,
                "file_too_large",
            )
        },
        {
            // Declared over the limit: refused before any byte is read.
            let mut request = citizen_post(&id, &token, json, Vec::new());
            request.headers.retain(|(n, _)| n != "content-length");
            request
                .headers
                .push(("content-length".into(), (30 * 1024 * 1024).to_string()));
            (request, 413, "too_large")
        },
        {
            let mut request = citizen_post(&id, &token, json, br#"{"text":"Hallo"}"#.to_vec());
            request
                .headers
                .push(("origin".into(), "https://boese.example".into()));
            (request, 403, "cross_site")
        },
    ];
    for (request, status, code) in cases {
        let (got, json, _) = send(&app, request);
        assert_eq!(
            (got, json["error"].as_str().unwrap_or("")),
            (status, code),
            "{json}"
        );
        assert!(!json["message"].as_str().unwrap_or("").is_empty());
    }
    let (_, thread, _) = send(&app, citizen_get(&path, &token));
    assert_eq!(thread["messages"].as_array().unwrap().len(), 0);
    let (status, _, _) = send(&app, citizen_get(&path, "WRONGTOKEN"));
    assert_eq!(status, 404);
}

#[test]
fn too_many_messages_from_one_client_are_429() {
    let (mut app, _) = app(SqliteStore::in_memory().unwrap());
    app.config.rate_limit_per_minute = 3;
    let (id, token) = submitted(&app);
    let mut statuses = Vec::new();
    for n in 0..4 {
        let body = format!(r#"{{"text":"Nachricht {n}"}}"#).into_bytes();
        let (status, _, _) = send(&app, citizen_post(&id, &token, "application/json", body));
        statuses.push(status);
    }
    // The submission took one of the three.
    assert_eq!(statuses, [201, 201, 429, 429]);
}

#[test]
fn no_text_or_file_rests_in_plaintext_and_deleting_removes_the_files() {
    let dir = std::env::temp_dir().join(format!(
        "lotse-conversation-{}",
        lotse_functions::new_token()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("lotse.sqlite3");
    let (app, _) = app(SqliteStore::open(&database).unwrap());
    let (id, token) = submitted(&app);
    let (content_type, body) = multipart(&[
        ("text", None, "Geheimer-Nachrichtentext-4711".as_bytes()),
        ("file", Some("Kanarienvogel.png"), PNG),
    ]);
    let (status, _, _) = send(&app, citizen_post(&id, &token, &content_type, body));
    assert_eq!(status, 201);
    let note = br#"{"status":"in_progress","note":"Geheime-Notiz-der-Behoerde"}"#.to_vec();
    let (status, json, _) = send(
        &app,
        with_body(
            office("POST", &format!("/api/office/applications/{id}/status")),
            "application/json",
            note,
        ),
    );
    assert_eq!(status, 200, "{json}");

    let mut stored = Vec::new();
    for entry in walk(&dir) {
        stored.extend(std::fs::read(entry).unwrap());
    }
    for canary in [
        "Geheimer-Nachrichtentext-4711",
        "Kanarienvogel",
        "canary-file-bytes",
        "Geheime-Notiz-der-Behoerde",
        &token,
    ] {
        assert!(
            !stored.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{canary} rests in plaintext"
        );
    }
    // The note is a message the citizen reads.
    let (_, thread, _) = send(
        &app,
        citizen_get(&format!("/api/applications/{id}/messages"), &token),
    );
    assert_eq!(thread["messages"][1]["text"], "Geheime-Notiz-der-Behoerde");
    assert_eq!(thread["messages"][1]["status"], "in_progress");

    let files = dir.join("files");
    assert_eq!(walk(&files).len(), 1, "one sealed file");
    let (status, _, _) = send(
        &app,
        office("DELETE", &format!("/api/office/applications/{id}")),
    );
    assert_eq!(status, 204);
    assert!(walk(&files).is_empty(), "the files go with the application");
    assert!(block_on(app.store.application(&id)).unwrap().is_none());
    assert!(block_on(app.store.messages(&id)).unwrap().is_empty());
    let (status, _, _) = send(
        &app,
        citizen_get(&format!("/api/applications/{id}/messages"), &token),
    );
    assert_eq!(status, 404);
}

#[test]
fn a_message_moved_to_another_application_does_not_open() {
    let (app, _) = app(SqliteStore::in_memory().unwrap());
    let (first, first_token) = submitted(&app);
    let (second, second_token) = submitted(&app);
    let body = br#"{"text":"Nur fuer den ersten Antrag"}"#.to_vec();
    let (status, _, _) = send(
        &app,
        citizen_post(&first, &first_token, "application/json", body),
    );
    assert_eq!(status, 201);
    // Someone with write access to the store moves the row (and the citizen key does
    // not help: it belongs to the other application).
    let moved = block_on(app.store.messages(&first)).unwrap().remove(0);
    let mut copy = moved.clone();
    copy.id = "MOVEDMESSAGE0001".into();
    copy.application_id = second.clone();
    assert!(block_on(app.store.insert_message(&copy, &[], None, None, None)).unwrap());
    let (_, thread, _) = send(
        &app,
        citizen_get(
            &format!("/api/applications/{second}/messages"),
            &second_token,
        ),
    );
    let entry = &thread["messages"][0];
    assert_eq!(entry["unreadable"], true, "{thread}");
    assert!(entry["text"].is_null());
    // And it does not open with the first application's key either.
    let envelope = MessageEnvelope::from_json(&copy.envelope).unwrap();
    let wrong = PrivateKey::derive(second_token.as_bytes(), &second);
    assert!(open_message(&envelope, "citizen", &wrong).is_err());
}

#[test]
fn the_office_only_reaches_its_own_applications() {
    let (app, _) = app(SqliteStore::in_memory().unwrap());
    let (id, _) = submitted(&app);
    for (method, path) in [
        ("GET", format!("/api/office/applications/{id}/messages")),
        ("POST", format!("/api/office/applications/{id}/messages")),
        ("DELETE", format!("/api/office/applications/{id}")),
    ] {
        let (status, _, _) = send(&app, request(method, &path, "", &[]));
        assert_eq!(status, 401, "{method} {path}");
        let (status, _, _) = send(
            &app,
            request(
                method,
                &path,
                "",
                &[("authorization", "Bearer someone-elses-token-123")],
            ),
        );
        assert_eq!(status, 401, "{method} {path}");
    }
    let (status, _, _) = send(
        &app,
        office("GET", "/api/office/applications/ZZZZ-ZZZZ/messages"),
    );
    assert_eq!(status, 404);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Records what would be sent; fails while `failing` is set. (The real SMTP path runs
/// against a real server in the generator's HTTP suite; this tests the outbox logic.)
#[derive(Default)]
struct RecordingMailer {
    sent: std::cell::RefCell<Vec<lotse_functions::notify::Mail>>,
    failing: std::cell::Cell<bool>,
}

impl lotse_functions::notify::Mailer for RecordingMailer {
    async fn send(&self, mail: &lotse_functions::notify::Mail) -> Result<(), String> {
        if self.failing.get() {
            return Err("connection refused".into());
        }
        self.sent.borrow_mut().push(mail.clone());
        Ok(())
    }
}

#[test]
fn the_office_writing_notifies_without_content_retries_and_forgets_the_address() {
    use lotse_functions::notify::{deliver_due, retry_pause_ms};
    let (mut app, _) = app(SqliteStore::in_memory().unwrap());
    app.config.hash_secret = lotse_functions::HashSecret::from_bytes([5; 32]);
    let with_address = r#"{"portal":"musterstadt","service":"hund-anmelden","fields":{"name":"Erika Klartext"},"notify_email":"erika@example.org"}"#;
    let (status, json, _) = send(&app, post(NOW, None, with_address));
    assert_eq!(status, 201, "{json}");
    let id = json["id"].as_str().unwrap().to_string();
    let stored = block_on(app.store.application(&id)).unwrap().unwrap();
    let sealed = stored.contact.clone().expect("the address is kept, sealed");
    assert!(!sealed.contains("erika"));

    let mailer = RecordingMailer::default();
    let deliver = |now: u64| {
        block_on(deliver_due(
            &app.store,
            &app.config.hash_secret,
            "Serviceportal",
            &mailer,
            now,
            10,
        ))
    };
    // The citizen's own messages notify nobody.
    let body = br#"{"text":"Frage der Buergerin"}"#.to_vec();
    let token = json["token"].as_str().unwrap();
    assert_eq!(
        send(&app, citizen_post(&id, token, "application/json", body)).0,
        201
    );
    assert_eq!(deliver(NOW).sent, 0);

    // The office writes; the send fails once, is retried after the pause, then sent.
    let reply = br#"{"text":"Geheime Antwort der Behoerde","status":"completed"}"#.to_vec();
    let (status, _, _) = send(
        &app,
        with_body(
            office("POST", &format!("/api/office/applications/{id}/messages")),
            "application/json",
            reply,
        ),
    );
    assert_eq!(status, 201);
    // Closed: the application forgets the address at once; the queued notification
    // keeps its own sealed copy until it is sent.
    let closed = block_on(app.store.application(&id)).unwrap().unwrap();
    assert_eq!(closed.contact, None);
    // Two senders reading the same due row: only one may send it.
    let due = block_on(app.store.due_notifications(NOW, 10)).unwrap();
    assert_eq!(due.len(), 1);
    let row = &due[0];
    assert!(block_on(
        app.store
            .claim_notification(&row.id, row.next_attempt_at, NOW + 1)
    )
    .unwrap());
    assert!(!block_on(
        app.store
            .claim_notification(&row.id, row.next_attempt_at, NOW + 2)
    )
    .unwrap());
    assert!(block_on(
        app.store
            .claim_notification(&row.id, NOW + 1, row.next_attempt_at)
    )
    .unwrap());
    mailer.failing.set(true);
    let first = deliver(NOW);
    assert_eq!((first.sent, first.failed), (0, 1));
    assert!(first.log.iter().all(|l| !l.contains("erika")));
    mailer.failing.set(false);
    assert_eq!(deliver(NOW + 1000).sent, 0, "not before the pause");
    assert_eq!(deliver(NOW + retry_pause_ms(0)).sent, 1);
    let sent = mailer.sent.borrow();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "erika@example.org");
    assert_eq!(
        sent[0].subject,
        format!("Neue Nachricht zu Ihrem Antrag {id}")
    );
    assert!(sent[0]
        .text
        .contains(&format!("Es gibt eine neue Nachricht zu Ihrem Antrag {id}")));
    assert!(!sent[0].text.contains("Geheime Antwort"));
    // Closed and nothing left to send: the address is gone.
    let stored = block_on(app.store.application(&id)).unwrap().unwrap();
    assert_eq!(stored.status, "completed");
    assert_eq!(stored.contact, None);
    assert_eq!(deliver(NOW + 10 * retry_pause_ms(9)).sent, 0);
    assert!(block_on(app.store.due_notifications(u64::MAX / 2, 10))
        .unwrap()
        .is_empty());
}

#[test]
fn notifications_never_sent_are_dropped_after_a_week() {
    use lotse_functions::notify::{deliver_due, MAX_AGE_MS};
    let (mut app, _) = app(SqliteStore::in_memory().unwrap());
    app.config.hash_secret = lotse_functions::HashSecret::from_bytes([5; 32]);
    let with_address = r#"{"portal":"musterstadt","service":"hund-anmelden","fields":{"name":"Erika"},"notify_email":"erika@example.org"}"#;
    let (_, json, _) = send(&app, post(NOW, None, with_address));
    let id = json["id"].as_str().unwrap().to_string();
    let path = format!("/api/office/applications/{id}/messages");
    let body = br#"{"text":"Hallo"}"#.to_vec();
    assert_eq!(
        send(
            &app,
            with_body(office("POST", &path), "application/json", body)
        )
        .0,
        201
    );
    let mailer = RecordingMailer::default();
    mailer.failing.set(true);
    let later = NOW + MAX_AGE_MS + 1;
    block_on(deliver_due(
        &app.store,
        &app.config.hash_secret,
        "Portal",
        &mailer,
        later,
        10,
    ));
    assert!(block_on(app.store.due_notifications(u64::MAX / 2, 10))
        .unwrap()
        .is_empty());
    assert!(mailer.sent.borrow().is_empty());
}

#[test]
fn a_bad_notification_address_is_a_field_error_and_without_a_secret_none_is_kept() {
    let (app, _) = app(SqliteStore::in_memory().unwrap());
    let bad = r#"{"portal":"musterstadt","service":"hund-anmelden","fields":{"name":"Erika"},"notify_email":"erika@"}"#;
    let (status, json, _) = send(&app, post(NOW, None, bad));
    assert_eq!(status, 400);
    assert!(json["fields"]["notify_email"].as_str().is_some(), "{json}");
    // The test app has no hash secret of its own: the address is not kept at all.
    let good = r#"{"portal":"musterstadt","service":"hund-anmelden","fields":{"name":"Erika"},"notify_email":"erika@example.org"}"#;
    let (status, json, _) = send(&app, post(NOW, None, good));
    assert_eq!(status, 201);
    let stored = block_on(app.store.application(json["id"].as_str().unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(stored.contact, None);
}

#[test]
fn a_storage_failure_answers_503_and_loses_nothing_accepted() {
    // A real failure: the folder for sealed files cannot be created (a file is in the way).
    let dir = std::env::temp_dir().join(format!(
        "lotse-broken-files-{}",
        lotse_functions::new_token()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("files"), b"not a folder").unwrap();
    let (app, _) = app(SqliteStore::open(&dir.join("lotse.sqlite3")).unwrap());
    let (id, token) = submitted(&app);
    let (content_type, body) = multipart(&[
        ("text", None, "Mit Anhang".as_bytes()),
        ("file", Some("foto.png"), PNG),
    ]);
    let (status, json, response) = send(&app, citizen_post(&id, &token, &content_type, body));
    assert_eq!(status, 503, "{json}");
    assert_eq!(json["error"], "unavailable");
    assert!(json["message"]
        .as_str()
        .unwrap()
        .contains("Nachricht wurde nicht gespeichert"));
    assert!(response.header("retry-after").is_some());
    assert!(
        response.log.iter().any(|l| l.contains(&id)),
        "{:?}",
        response.log
    );
    // Nothing half-stored, and what was accepted before is all there.
    assert!(block_on(app.store.messages(&id)).unwrap().is_empty());
    assert!(block_on(app.store.application(&id)).unwrap().is_some());
    // A message without files still goes through.
    let (status, _, _) = send(
        &app,
        citizen_post(
            &id,
            &token,
            "application/json",
            br#"{"text":"Ohne Anhang"}"#.to_vec(),
        ),
    );
    assert_eq!(status, 201);
}

#[test]
fn a_logged_in_citizen_converses_in_mein_postfach_without_the_token() {
    use common::{login_setup, session_cookie};
    use lotse_model::TrustLevel;
    let (mut app, _) = app(SqliteStore::in_memory().unwrap());
    app.config.login = Some(login_setup());
    let cookie = session_cookie(TrustLevel::Low, &app.config.login.as_ref().unwrap().keys);
    let mut submission = post(NOW, None, VALID);
    submission.headers.push(("cookie".into(), cookie.clone()));
    let (status, json, _) = send(&app, submission);
    assert_eq!(status, 201, "{json}");
    let id = json["id"].as_str().unwrap().to_string();
    let stored = block_on(app.store.application(&id)).unwrap().unwrap();
    assert!(
        stored.citizen_key_wrapped.is_some(),
        "the citizen key is kept wrapped"
    );

    let reply = br#"{"text":"Antwort fuer das Postfach"}"#.to_vec();
    let path = format!("/api/office/applications/{id}/messages");
    let (status, _, _) = send(
        &app,
        with_body(office("POST", &path), "application/json", reply),
    );
    assert_eq!(status, 201);

    // The session alone opens the thread, and the citizen answers with it.
    let with_session =
        |method: &str, path: &str| request(method, path, "", &[("cookie", cookie.as_str())]);
    let messages = format!("/api/applications/{id}/messages");
    let (status, thread, _) = send(&app, with_session("GET", &messages));
    assert_eq!(status, 200, "{thread}");
    assert_eq!(thread["messages"][0]["text"], "Antwort fuer das Postfach");
    let answer = with_body(
        with_session("POST", &messages),
        "application/json",
        br#"{"text":"Danke!"}"#.to_vec(),
    );
    assert_eq!(send(&app, answer).0, 201);
    let (status, _, page) = send(&app, with_session("GET", "/api/postfach"));
    assert_eq!(status, 200);
    let page = String::from_utf8(page.body).unwrap();
    assert!(page.contains(&format!("/api/vorgang?id={id}")), "{page}");
    assert!(page.contains("2 Nachrichten lesen und antworten"), "{page}");

    // Another account's session opens nothing: 404 as for a wrong token.
    let other = lotse_functions::auth::Session {
        sub: "jemand-anderes".into(),
        level: TrustLevel::Low,
        acr: "STORK-QAA-Level-1".into(),
        given_name: None,
        family_name: None,
        email: None,
        address: None,
        exp: NOW + 60_000,
    };
    let keys = &app.config.login.as_ref().unwrap().keys;
    let other_cookie = format!("lotse_session={}", other.seal(keys, NOW));
    let (status, _, _) = send(
        &app,
        request("GET", &messages, "", &[("cookie", other_cookie.as_str())]),
    );
    assert_eq!(status, 404);
}
