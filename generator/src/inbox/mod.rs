//! The caseworker's side in the terminal: office keys, and the inbox of encrypted
//! applications and their conversations (pull, decrypt, reply, set status); docs/inbox.md.
//!
//! `thread.rs` opens message envelopes and attachments, `folder.rs` writes what was
//! opened into `--out DIR`, `reply.rs` sends the office's messages, `appointments.rs`
//! lists and cancels the office's appointments.

pub mod appointments;
pub mod folder;
pub mod reply;
#[cfg(test)]
mod tests;
pub mod thread;

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{anyhow, bail, Context as _, Result};
use lotse_envelope::{Envelope, PrivateKey};
use serde_json::Value;

use folder::{safe_id, Folder};
use thread::Message;

/// `lotse keys new --out FILE`: writes the private key (owner-only permissions, never
/// overwriting) and returns the public key for portal.toml.
pub fn new_key(out: &Path) -> Result<String> {
    let (private, public) = PrivateKey::generate();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(out).with_context(|| {
        format!(
            "cannot create {} (an existing key is never overwritten)",
            out.display()
        )
    })?;
    file.write_all(private.to_key_file().as_bytes())
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(public.to_base64())
}

pub fn read_key(path: &Path) -> Result<PrivateKey> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    PrivateKey::from_key_file(&text)
        .with_context(|| format!("{}: not a Lotse office key", path.display()))
}

/// Something an inbox command could not read: `what` names it ("application 7K3M-9QPX",
/// "message M-1 of application 7K3M-9QPX", ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub what: String,
    pub reason: String,
}

/// What an inbox command read: the decrypted applications (each with its `messages`
/// under `pull`) and opened messages, and in their place in the list those that could
/// not be read, as `{"id": …, "unreadable": reason}`. Nothing is dropped: an entry the
/// server marks unreadable, one that is no envelope, one that does not decrypt and an
/// attachment that does not match its message are all listed, and named in
/// [`Inbox::unreadable`].
#[derive(Debug, Default)]
pub struct Inbox {
    pub entries: Vec<Value>,
    /// Every entry, message or attachment that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Print a list even for one application (`pull`, whose answer is always a list).
    pub always_list: bool,
    /// With `--out`: one line per application folder written, printed instead of the
    /// JSON.
    pub written: Option<Vec<String>>,
    /// Remarks for standard error that are no failure.
    pub notes: Vec<String>,
}

impl Inbox {
    /// The entries as pretty JSON: a list, or one object for a single entry.
    pub fn to_json(&self) -> String {
        if self.always_list || self.entries.len() != 1 {
            serde_json::to_string_pretty(&self.entries).unwrap_or_default()
        } else {
            serde_json::to_string_pretty(&self.entries[0]).unwrap_or_default()
        }
    }
}

fn unreadable_entry(id: &str, status: Option<&str>, reason: &str) -> Value {
    let mut entry = serde_json::json!({"id": id, "unreadable": reason});
    if let Some(status) = status {
        entry["status"] = Value::String(status.to_string());
    }
    entry
}

/// One application entry of a list, opened: `Ok((id, application))` with its status, or
/// the id, status and reason it could not be read.
fn open_application(
    key: &PrivateKey,
    item: Value,
) -> std::result::Result<(String, Value), (String, Option<String>, String)> {
    let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
    let status = text("status");
    let id = text("id").unwrap_or_else(|| "?".into());
    if let Some(reason) = text("unreadable") {
        return Err((id, status, format!("the server cannot read it: {reason}")));
    }
    let Ok(envelope) = serde_json::from_value::<Envelope>(item) else {
        return Err((id, status, "not a Lotse envelope".into()));
    };
    let id = envelope.routing.id.clone();
    let opened = lotse_envelope::open(key, &envelope)
        .map_err(|e| format!("cannot be decrypted with this key: {e}"))
        .and_then(|plaintext| {
            serde_json::from_slice::<Value>(&plaintext)
                .map_err(|_| "its content is not JSON".to_string())
        });
    match opened {
        Ok(mut application) => {
            if let (Some(object), Some(status)) = (application.as_object_mut(), &status) {
                object.insert("status".into(), Value::String(status.clone()));
            }
            Ok((id, application))
        }
        Err(reason) => Err((id, status, reason)),
    }
}

/// One item of an input, opened: an application (or the entry that stands for an
/// unreadable one), or a message whose attachments may still be written.
enum Item {
    Json(Value),
    Message(Box<Message>),
}

/// Opens every item, applications and messages alike; unreadable applications are
/// recorded in `unreadable`.
fn open_items(key: &PrivateKey, items: Vec<Value>, unreadable: &mut Vec<Unreadable>) -> Vec<Item> {
    items
        .into_iter()
        .map(|item| {
            if thread::is_message(&item) {
                return Item::Message(Box::new(thread::open_entry(key, None, &item)));
            }
            Item::Json(match open_application(key, item) {
                Ok((_, application)) => application,
                Err((id, status, reason)) => {
                    let entry = unreadable_entry(&id, status.as_deref(), &reason);
                    unreadable.push(Unreadable {
                        what: format!("application {id}"),
                        reason,
                    });
                    entry
                }
            })
        })
        .collect()
}

/// Decrypts every item, applications and messages alike; see [`Inbox`]. Items carry
/// their status when the server's list gave one.
pub fn decrypt_items(key: &PrivateKey, items: Vec<Value>) -> Inbox {
    let mut inbox = Inbox::default();
    let items = open_items(key, items, &mut inbox.unreadable);
    finish(inbox, items, None).expect("nothing is written without a folder")
}

/// The items of an input: one envelope (application or message), a list of them, the
/// office list answer (`{"applications": [...]}`), or a conversation answer
/// (`{"id", "messages": [...]}`, whose messages are checked against its application).
fn parse_input(key: &PrivateKey, text: &str) -> Result<(Inbox, Vec<Item>)> {
    let value: Value = serde_json::from_str(text).context("the input is not JSON")?;
    let mut inbox = Inbox::default();
    let items = match value {
        Value::Array(items) => open_items(key, items, &mut inbox.unreadable),
        Value::Object(ref object) if object.contains_key("applications") => {
            match object.get("applications") {
                Some(Value::Array(items)) => open_items(key, items.clone(), &mut inbox.unreadable),
                _ => bail!("`applications` is not a list"),
            }
        }
        Value::Object(ref object) if object.contains_key("messages") => {
            inbox.always_list = true;
            thread::open_thread(key, &value, None)
                .map_err(|e| anyhow!(e))?
                .into_iter()
                .map(|message| Item::Message(Box::new(message)))
                .collect()
        }
        other => open_items(key, vec![other], &mut inbox.unreadable),
    };
    Ok((inbox, items))
}

/// Checks the messages' inline attachments, writes them into `out` if given, and
/// turns everything into the inbox's entries.
fn finish(mut inbox: Inbox, items: Vec<Item>, out: Option<&Path>) -> Result<Inbox> {
    let (mut messages, mut order) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Item::Json(value) => order.push(Ok(value)),
            Item::Message(message) => {
                order.push(Err(messages.len()));
                messages.push(*message);
            }
        }
    }
    thread::open_attachments(&mut messages, None);
    for message in &messages {
        let Ok(opened) = &message.body else { continue };
        for attachment in &opened.attachments {
            if matches!(attachment.source, Some(thread::Source::Href(_))) {
                inbox.notes.push(format!(
                    "attachment {} ({}) of message {} is not in the input; \
                     `lotse inbox pull --out DIR` fetches it",
                    attachment.key.id, attachment.key.name, message.id
                ));
            }
        }
    }
    if let Some(out) = out {
        let folder = Folder::open(out)?;
        let mut files = 0;
        let mut start = 0;
        // Consecutive messages of one application are written together, so that names
        // are made unique within a message the same way `pull` does.
        while start < messages.len() {
            let application = messages[start].application.clone();
            let end = start
                + messages[start..]
                    .iter()
                    .take_while(|m| m.application == application)
                    .count();
            let group = &mut messages[start..end];
            if safe_id(&application).is_some() {
                files += folder.write_attachments(&application, group)?.0;
            } else {
                inbox.unreadable.push(Unreadable {
                    what: format!("the attachments of application {application}"),
                    reason: "its id is not safe as a folder name; nothing written".into(),
                });
            }
            start = end;
        }
        inbox.notes.push(format!(
            "wrote {files} attachment(s) into {}",
            out.display()
        ));
    }
    inbox.unreadable.extend(thread::problems(&messages));
    inbox.entries = order
        .into_iter()
        .map(|entry| entry.unwrap_or_else(|i| thread::to_json(&messages[i])))
        .collect();
    Ok(inbox)
}

/// `lotse inbox decrypt --key FILE [ENVELOPE] [--out DIR]`: with `out`, the attachments
/// that travel in the input (`ciphertext`) are written as `pull --out` writes them.
pub fn decrypt(key_file: &Path, input: Option<&Path>, out: Option<&Path>) -> Result<Inbox> {
    let key = read_key(key_file)?;
    let text = match input {
        Some(path) => {
            fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            text
        }
    };
    let (inbox, items) = parse_input(&key, &text)?;
    finish(inbox, items, out)
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

/// A body of at most `limit` bytes, as text.
pub(crate) fn read_limited(body: &mut ureq::Body, limit: u64) -> Result<String> {
    body.with_config()
        .limit(limit)
        .read_to_string()
        .context("cannot read the answer")
}

/// An error for a refusing answer: the server's own `message` (German, for the office)
/// when it sent one, else the body.
pub(crate) fn server_refusal(url: &str, code: u16, body: &str, what: &str) -> anyhow::Error {
    let said = serde_json::from_str::<Value>(body).ok().and_then(|v| {
        v.get("message")
            .or_else(|| v.get("error"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let said = said.unwrap_or_else(|| {
        let body = body.trim();
        match code {
            401 if body.is_empty() => "the office token was not accepted".into(),
            404 if body.is_empty() => "no such application for this office".into(),
            _ => body.chars().take(300).collect(),
        }
    });
    anyhow!("{what}: {url} answered {code}: {said}")
}

/// GET with the office token; the body as text, or why not.
fn get_text(url: &str, token: &str, limit: u64) -> Result<String> {
    let mut response = agent()
        .get(url)
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let body = read_limited(response.body_mut(), limit)?;
    if status != 200 {
        return Err(server_refusal(url, status, &body, "refused"));
    }
    Ok(body)
}

/// GET with the office token; the raw bytes.
fn get_bytes(url: &str, token: &str, limit: u64) -> std::result::Result<Vec<u8>, String> {
    let mut response = agent()
        .get(url)
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|e| format!("cannot reach {url}: {e}"))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(format!("{url} answered {status}"));
    }
    response
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| format!("cannot read {url}: {e}"))
}

/// The office list can be long; a conversation carries small files inline.
const LIST_LIMIT: u64 = 512 * 1024 * 1024;
const THREAD_LIMIT: u64 = 256 * 1024 * 1024;
/// A sealed attachment: at most 10 MiB, plus nonce and tag.
const ATTACHMENT_LIMIT: u64 = 10 * 1024 * 1024 + 1024;

/// `lotse inbox pull`: fetches the office's envelopes and each application's
/// conversation, and decrypts them; see [`Inbox`]. With `out`, every application goes
/// into its own folder there (attachments fetched and checked) instead of onto standard
/// output; see [`folder`].
pub fn pull(
    server: &str,
    portal: &str,
    office: &str,
    token: &str,
    key_file: &Path,
    out: Option<&Path>,
) -> Result<Inbox> {
    let key = read_key(key_file)?;
    let server = server.trim_end_matches('/');
    let url = format!("{server}/api/office/{portal}/{office}/applications");
    let body = get_text(&url, token, LIST_LIMIT)?;
    let value: Value = serde_json::from_str(&body)
        .with_context(|| format!("{url} answered with something other than JSON"))?;
    let Some(Value::Array(items)) = value.get("applications") else {
        bail!("{url} answered without a list `applications`");
    };
    let folder = out.map(Folder::open).transpose()?;
    let mut inbox = Inbox {
        always_list: true,
        written: folder.as_ref().map(|_| Vec::new()),
        ..Inbox::default()
    };
    let mut fetch = |href: &str| {
        if !href.starts_with("/api/office/applications/") || href.contains("..") {
            return Err(format!(
                "the server gives it at `{href}`, not on its office API"
            ));
        }
        get_bytes(&format!("{server}{href}"), token, ATTACHMENT_LIMIT)
    };
    for item in items.iter().cloned() {
        let (mut entry, id, application) = match open_application(&key, item) {
            Ok((id, application)) => (application.clone(), id, Some(application)),
            Err((id, status, reason)) => {
                let entry = unreadable_entry(&id, status.as_deref(), &reason);
                inbox.unreadable.push(Unreadable {
                    what: format!("application {id}"),
                    reason,
                });
                (entry, id, None)
            }
        };
        let Some(safe) = safe_id(&id) else {
            inbox.unreadable.push(Unreadable {
                what: format!("the messages of application {id}"),
                reason: "its id is not a valid application id; not fetched".into(),
            });
            inbox.entries.push(entry);
            continue;
        };
        let thread_url = format!("{server}/api/office/applications/{safe}/messages");
        let mut messages = get_text(&thread_url, token, THREAD_LIMIT)
            .and_then(|text| serde_json::from_str::<Value>(&text).context("the answer is not JSON"))
            .and_then(|answer| {
                thread::open_thread(&key, &answer, Some(safe)).map_err(|e| anyhow!(e))
            });
        match &mut messages {
            Ok(messages) => {
                let fetcher: Option<thread::Fetch<'_>> = if folder.is_some() {
                    Some(&mut fetch)
                } else {
                    None
                };
                thread::open_attachments(messages, fetcher);
            }
            Err(e) => inbox.unreadable.push(Unreadable {
                what: format!("the messages of application {id}"),
                reason: format!("{e:#}"),
            }),
        }
        let mut messages = messages.ok();
        if let Some(folder) = &folder {
            let written =
                folder.write_application(safe, application.as_ref(), messages.as_deref_mut())?;
            if let Some(lines) = &mut inbox.written {
                lines.push(format!(
                    "{safe}: {}{} message(s), {} attachment(s) -> {}",
                    if application.is_some() {
                        ""
                    } else {
                        "application unreadable, "
                    },
                    written.messages,
                    written.attachments,
                    written.dir.display()
                ));
            }
        }
        if let Some(messages) = &messages {
            inbox.unreadable.extend(thread::problems(messages));
            if let Some(object) = entry.as_object_mut() {
                object.insert(
                    "messages".into(),
                    Value::Array(messages.iter().map(thread::to_json).collect()),
                );
            }
        }
        inbox.entries.push(entry);
    }
    Ok(inbox)
}

/// `lotse inbox status`: sets the status of one application, with an optional note.
pub fn set_status(
    server: &str,
    id: &str,
    status: &str,
    note: Option<&str>,
    token: &str,
) -> Result<String> {
    let url = format!(
        "{}/api/office/applications/{id}/status",
        server.trim_end_matches('/')
    );
    let body = serde_json::json!({"status": status, "note": note});
    let mut response = agent()
        .post(&url)
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .with_context(|| format!("cannot reach {url}"))?;
    let code = response.status().as_u16();
    let text = read_limited(response.body_mut(), 1 << 20)?;
    if code != 200 {
        return Err(server_refusal(&url, code, &text, "the status was not set"));
    }
    Ok(text)
}
