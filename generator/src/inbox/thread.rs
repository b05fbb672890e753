//! The conversation on an application (SPEC section 6), opened with the office key: the
//! message envelopes `GET /api/office/applications/<id>/messages` lists, and their
//! attachments. Nothing here touches the network or the disk; `mod.rs` fetches,
//! `folder.rs` writes.

use std::ops::Deref;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use lotse_envelope::message::{
    open_attachment, open_message, AttachmentKey, MessageEnvelope, MessageRouting, MESSAGE_FORMAT,
};
use lotse_envelope::PrivateKey;
use serde_json::{json, Map, Value};

use super::Unreadable;

/// Decrypted file bytes; zeroed when dropped.
pub type Plain = Box<dyn Deref<Target = Vec<u8>>>;

/// Fetches a sealed attachment from the server by its address (`href`).
pub type Fetch<'a> = &'a mut dyn FnMut(&str) -> Result<Vec<u8>, String>;

/// One entry of a conversation: opened, or the reason it could not be.
pub struct Message {
    /// The application it belongs to.
    pub application: String,
    /// The message's id (`?` when an unreadable entry names none).
    pub id: String,
    pub body: Result<Opened, Failed>,
}

/// An entry that could not be read, with what the server said about it in clear.
pub struct Failed {
    pub reason: String,
    pub from: Option<String>,
    pub at: Option<String>,
}

pub struct Opened {
    pub routing: MessageRouting,
    pub text: String,
    pub status: Option<String>,
    pub attachments: Vec<Attachment>,
    /// Ids of attachments the server lists that the sealed message does not name.
    pub strays: Vec<String>,
}

/// Where the server keeps an attachment's ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// In the answer, base64.
    Inline(String),
    /// To fetch from this path on the same server.
    Href(String),
    /// The server lists it but cannot give it, for this reason.
    Unreadable(String),
}

pub struct Attachment {
    /// What the sealed message says about the file, its key included (never printed).
    pub key: AttachmentKey,
    /// `None`: the server does not list it.
    pub source: Option<Source>,
    /// `None` until opened (or when it was not fetched); then the file or why not.
    pub bytes: Option<Result<Plain, String>>,
    /// Where it was written, relative to the application's folder.
    pub file: Option<String>,
}

/// Whether a JSON value looks like a message envelope rather than an application.
pub fn is_message(item: &Value) -> bool {
    match item.get("format").and_then(Value::as_str) {
        Some(format) => format == MESSAGE_FORMAT,
        None => item.get("recipients").is_some(),
    }
}

fn text_of(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Opens one message entry. `thread` is what the answer it came from says about its
/// application (id, portal, office); a message of another application or office is not
/// shown in this one's thread, even though it would open.
pub fn open_entry(key: &PrivateKey, thread: Option<&Value>, entry: &Value) -> Message {
    let expected = |field: &str| thread.and_then(|t| text_of(t, field));
    let id = text_of(entry, "message")
        .or_else(|| text_of(entry, "id"))
        .unwrap_or_else(|| "?".into());
    let application = expected("id")
        .or_else(|| text_of(entry, "application"))
        .unwrap_or_else(|| "?".into());
    let failed = |reason: String| Failed {
        reason,
        from: text_of(entry, "from"),
        at: text_of(entry, "at"),
    };
    if let Some(reason) = text_of(entry, "unreadable") {
        return Message {
            application,
            id,
            body: Err(failed(format!("the server cannot read it: {reason}"))),
        };
    }
    let envelope = match serde_json::from_value::<MessageEnvelope>(entry.clone()) {
        Ok(envelope) => envelope,
        Err(_) => {
            return Message {
                application,
                id,
                body: Err(failed("not a Lotse message envelope".into())),
            }
        }
    };
    let routing = &envelope.routing;
    let id = routing.message.clone();
    for (field, actual) in [
        ("id", &routing.application),
        ("portal", &routing.portal),
        ("office", &routing.office),
    ] {
        if let Some(wanted) = expected(field) {
            if &wanted != actual {
                return Message {
                    application,
                    id,
                    body: Err(failed(format!(
                        "it belongs to another application ({field} `{actual}`)"
                    ))),
                };
            }
        }
    }
    let application = routing.application.clone();
    let content = match open_message(&envelope, "office", key) {
        Ok(content) => content,
        Err(e) => {
            return Message {
                application,
                id,
                body: Err(failed(format!("cannot be decrypted with this key: {e}"))),
            }
        }
    };
    let listed: Vec<(String, Option<Source>)> = entry
        .get("attachments")
        .and_then(Value::as_array)
        .map(|files| {
            files
                .iter()
                .map(|file| {
                    let source = text_of(file, "ciphertext")
                        .map(Source::Inline)
                        .or_else(|| text_of(file, "href").map(Source::Href))
                        .or_else(|| text_of(file, "unreadable").map(Source::Unreadable));
                    (text_of(file, "id").unwrap_or_default(), source)
                })
                .collect()
        })
        .unwrap_or_default();
    let strays = listed
        .iter()
        .filter(|(listed, _)| !content.attachments.iter().any(|a| &a.id == listed))
        .map(|(listed, _)| listed.clone())
        .collect();
    let attachments = content
        .attachments
        .into_iter()
        .map(|key| Attachment {
            source: listed
                .iter()
                .find(|(listed, _)| listed == &key.id)
                .and_then(|(_, source)| source.clone()),
            key,
            bytes: None,
            file: None,
        })
        .collect();
    Message {
        application,
        id,
        body: Ok(Opened {
            routing: envelope.routing,
            text: content.text,
            status: content.status,
            attachments,
            strays,
        }),
    }
}

/// Opens a whole `GET /api/office/applications/<id>/messages` answer. With `expected`,
/// the answer must be about that application.
pub fn open_thread(
    key: &PrivateKey,
    answer: &Value,
    expected: Option<&str>,
) -> Result<Vec<Message>, String> {
    let messages = answer
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("the answer has no list `messages`")?;
    if let Some(expected) = expected {
        if text_of(answer, "id").as_deref() != Some(expected) {
            return Err(format!(
                "the server answered with the messages of another application ({})",
                answer.get("id").unwrap_or(&Value::Null)
            ));
        }
    }
    Ok(messages
        .iter()
        .map(|entry| open_entry(key, Some(answer), entry))
        .collect())
}

/// Opens every attachment of `messages` whose ciphertext is at hand: the inline ones,
/// and with `fetch` those the server gives by address. A file whose bytes do not
/// decrypt, or do not match the size and SHA-256 the sealed message names, keeps the
/// reason in place of its bytes; the others open regardless.
pub fn open_attachments(messages: &mut [Message], mut fetch: Option<Fetch<'_>>) {
    for message in messages {
        let Ok(opened) = &mut message.body else {
            continue;
        };
        for attachment in &mut opened.attachments {
            let sealed = match &attachment.source {
                None => Err("the server does not have it".to_string()),
                Some(Source::Inline(text)) => BASE64
                    .decode(text)
                    .map_err(|_| "its ciphertext is not base64".to_string()),
                Some(Source::Unreadable(reason)) => {
                    Err(format!("the server cannot read it: {reason}"))
                }
                Some(Source::Href(href)) => match fetch.as_mut() {
                    Some(fetch) => fetch(href),
                    None => continue,
                },
            };
            attachment.bytes = Some(
                sealed.and_then(|sealed| open_file(&opened.routing, &attachment.key, &sealed)),
            );
        }
    }
}

/// Decrypts one attachment and checks it against the sealed message.
pub fn open_file(
    routing: &MessageRouting,
    key: &AttachmentKey,
    sealed: &[u8],
) -> Result<Plain, String> {
    let bytes = open_attachment(routing, key, sealed).map_err(|_| {
        "it does not decrypt to the file the message names (altered, or its SHA-256 differs)"
            .to_string()
    })?;
    if bytes.len() as u64 != key.size {
        return Err(format!(
            "it has {} bytes, the message names {}",
            bytes.len(),
            key.size
        ));
    }
    Ok(Box::new(bytes))
}

/// Everything in `messages` that could not be read, for the report.
pub fn problems(messages: &[Message]) -> Vec<Unreadable> {
    let mut out = Vec::new();
    for message in messages {
        let what = format!(
            "message {} of application {}",
            message.id, message.application
        );
        match &message.body {
            Err(failed) => out.push(Unreadable {
                what,
                reason: failed.reason.clone(),
            }),
            Ok(opened) => {
                for attachment in &opened.attachments {
                    if let Some(Err(reason)) = &attachment.bytes {
                        out.push(Unreadable {
                            what: format!(
                                "attachment {} ({}) of {what}",
                                attachment.key.id, attachment.key.name
                            ),
                            reason: reason.clone(),
                        });
                    } else if attachment.source.is_none() && attachment.bytes.is_none() {
                        out.push(Unreadable {
                            what: format!(
                                "attachment {} ({}) of {what}",
                                attachment.key.id, attachment.key.name
                            ),
                            reason: "the server does not have it".into(),
                        });
                    }
                }
                for stray in &opened.strays {
                    out.push(Unreadable {
                        what: format!("attachment {stray} of {what}"),
                        reason: "the sealed message does not name it".into(),
                    });
                }
            }
        }
    }
    out
}

/// A message as the office reads it: id, sender, time, text, status, and what each
/// attachment is (never its key). Unreadable entries say why.
pub fn to_json(message: &Message) -> Value {
    let mut out = Map::new();
    out.insert("application".into(), json!(message.application));
    out.insert("id".into(), json!(message.id));
    match &message.body {
        Err(failed) => {
            if let Some(from) = &failed.from {
                out.insert("from".into(), json!(from));
            }
            if let Some(at) = &failed.at {
                out.insert("at".into(), json!(at));
            }
            out.insert("unreadable".into(), json!(failed.reason));
        }
        Ok(opened) => {
            out.insert("from".into(), json!(opened.routing.from));
            out.insert("at".into(), json!(opened.routing.at));
            out.insert("text".into(), json!(opened.text));
            if let Some(status) = &opened.status {
                out.insert("status".into(), json!(status));
            }
            let attachments = opened
                .attachments
                .iter()
                .map(|a| {
                    let mut file = json!({
                        "id": a.key.id,
                        "name": a.key.name,
                        "type": a.key.media_type,
                        "size": a.key.size,
                        "sha256": a.key.sha256,
                    });
                    if let Some(path) = &a.file {
                        file["file"] = json!(path);
                    }
                    match (&a.bytes, &a.source) {
                        (Some(Err(reason)), _) => file["unreadable"] = json!(reason),
                        (None, None) => file["unreadable"] = json!("the server does not have it"),
                        _ => {}
                    }
                    file
                })
                .collect();
            out.insert("attachments".into(), Value::Array(attachments));
        }
    }
    Value::Object(out)
}
