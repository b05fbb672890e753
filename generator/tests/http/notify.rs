//! Notifications of new messages (issue 13, item 5) over real mail paths: SMTP to a real
//! server on loopback (Python's aiosmtpd) under `lotse serve`, an HTTP mail API on
//! loopback for the Worker's Cron Trigger under `wrangler dev`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::server::{repo, OFFICE_TOKEN};
use super::Client;

/// The SMTP server of tests/smtp/server.py, writing each mail it gets as JSON.
pub struct SmtpServer {
    child: Child,
    pub dir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpServer {
    pub fn start(port: u16) -> SmtpServer {
        let dir = std::env::temp_dir().join(format!("lotse-smtp-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let pydeps = repo().join(".tools/pydeps");
        let mut child = Command::new("python3")
            .arg(repo().join("tests/smtp/server.py"))
            .arg(port.to_string())
            .arg(&dir)
            .env("PYTHONPATH", &pydeps)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let mut ready = String::new();
        use std::io::BufRead as _;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(
            ready.trim(),
            "ready",
            "the SMTP server did not start; install aiosmtpd: python3 -m pip install --target .tools/pydeps aiosmtpd"
        );
        SmtpServer { child, dir }
    }

    /// The mails received so far.
    pub fn mails(&self) -> Vec<Value> {
        let mut mails: Vec<(u32, Value)> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().to_string();
                        let n = name.strip_suffix(".json")?.parse().ok()?;
                        let text = std::fs::read_to_string(e.path()).ok()?;
                        Some((n, serde_json::from_str(&text).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        mails.sort_by_key(|(n, _)| *n);
        mails.into_iter().map(|(_, mail)| mail).collect()
    }
}

/// Waits until `list` has `count` entries, or `limit` has passed.
pub fn wait_until<T>(list: impl Fn() -> Vec<T>, count: usize, limit: Duration) -> Vec<T> {
    let start = Instant::now();
    loop {
        let got = list();
        if got.len() >= count || start.elapsed() > limit {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Submits with an address, lets the office write; returns the application id.
pub fn office_writes_to_a_citizen_with_an_address(client: &Client, address: &str) -> String {
    let schema: Value = client
        .get("/forms/bottrop/fundsache-melden.json", &[])
        .json();
    let fields = super::cases::valid_fields_for(&schema);
    let submitted = client.post_json(
        "/api/applications",
        &[],
        &json!({"portal": "bottrop", "service": "fundsache-melden", "fields": fields, "notify_email": address}),
    );
    assert_eq!(submitted.status, 201, "{}", submitted.body);
    let id = submitted.json()["id"].as_str().unwrap().to_string();
    let written = client.post_json(
        &format!("/api/office/applications/{id}/messages"),
        &[("authorization", &format!("Bearer {OFFICE_TOKEN}"))],
        &json!({"text": "Vertraulicher Inhalt der Behoerde", "status": "needs_info"}),
    );
    assert_eq!(written.status, 201, "{}", written.body);
    id
}

/// What every notification must say, and must not.
pub fn check_mail(mail: &Value, id: &str, address: &str, base: &str) {
    assert_eq!(mail["rcpt_tos"], json!([address]), "{mail}");
    assert_eq!(
        mail["subject"],
        format!("Neue Nachricht zu Ihrem Antrag {id}")
    );
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("Es gibt eine neue Nachricht zu Ihrem Antrag {id}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{base}/api/vorgang?id={id}")),
        "{text}"
    );
    assert!(!mail["raw"]
        .as_str()
        .unwrap()
        .contains("Vertraulicher Inhalt"));
}

/// An HTTP mail API on loopback, as the Worker's Cron Trigger talks to it: takes
/// `POST` JSON with a bearer token, answers 202, keeps what it got.
pub struct MailApi {
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
}

impl MailApi {
    pub fn start() -> MailApi {
        use std::io::{BufRead as _, Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/senden", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let keep = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = std::io::BufReader::new(stream);
                let (mut length, mut authorization) = (0usize, String::new());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        authorization = line["authorization:".len()..].trim().to_string();
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                if let Ok(json) = serde_json::from_slice::<Value>(&body) {
                    keep.lock().unwrap().push((authorization, json));
                }
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        MailApi { url, received }
    }

    /// (Authorization header, JSON body) of every mail so far.
    pub fn received(&self) -> Vec<(String, Value)> {
        self.received.lock().unwrap().clone()
    }
}
