//! The caseworker's side in the terminal: office keys, and the inbox of encrypted
//! applications (pull, decrypt, set status).

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use lotse_envelope::{Envelope, PrivateKey};
use serde_json::Value;

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

/// The items in `text`: one envelope, a list of them, or the office list answer
/// (`{"applications": [...]}`).
fn items_in(text: &str) -> Result<Vec<Value>> {
    let value: Value = serde_json::from_str(text).context("the input is not JSON")?;
    Ok(match value {
        Value::Array(items) => items,
        Value::Object(ref object) if object.contains_key("applications") => {
            match object.get("applications") {
                Some(Value::Array(items)) => items.clone(),
                _ => bail!("`applications` is not a list"),
            }
        }
        other => vec![other],
    })
}

/// What an inbox command read: the decrypted applications and, in their place in the
/// list, those that could not be read, as `{"id": …, "unreadable": reason}`. Nothing
/// is dropped: an entry the server marks unreadable, one that is no envelope and one
/// that does not decrypt are all listed, and named in [`Inbox::unreadable`].
#[derive(Debug, Default)]
pub struct Inbox {
    pub applications: Vec<Value>,
    /// `(id, reason)` of every entry that could not be read.
    pub unreadable: Vec<(String, String)>,
    /// Print a list even for one application (`pull`, whose answer is always a list).
    pub always_list: bool,
}

impl Inbox {
    /// The applications as pretty JSON: a list, or one object for a single decrypted
    /// application.
    pub fn to_json(&self) -> String {
        if self.always_list {
            serde_json::to_string_pretty(&self.applications).unwrap_or_default()
        } else {
            to_pretty(&self.applications)
        }
    }

    fn push_unreadable(&mut self, id: String, status: Option<&str>, reason: String) {
        let mut entry = serde_json::json!({"id": id, "unreadable": reason});
        if let Some(status) = status {
            entry["status"] = Value::String(status.to_string());
        }
        self.applications.push(entry);
        self.unreadable.push((id, reason));
    }
}

/// Decrypts every item; see [`Inbox`]. Items carry their status when the server's list
/// gave one.
pub fn decrypt_items(key: &PrivateKey, items: Vec<Value>) -> Inbox {
    let mut inbox = Inbox::default();
    for item in items {
        let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
        let status = text("status");
        let id = text("id").unwrap_or_else(|| "?".into());
        if let Some(reason) = text("unreadable") {
            inbox.push_unreadable(
                id,
                status.as_deref(),
                format!("the server cannot read it: {reason}"),
            );
            continue;
        }
        let envelope = match serde_json::from_value::<Envelope>(item) {
            Ok(envelope) => envelope,
            Err(_) => {
                inbox.push_unreadable(id, status.as_deref(), "not a Lotse envelope".into());
                continue;
            }
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
                inbox.applications.push(application);
            }
            Err(reason) => inbox.push_unreadable(id, status.as_deref(), reason),
        }
    }
    inbox
}

/// `lotse inbox decrypt --key FILE [ENVELOPE]`.
pub fn decrypt(key_file: &Path, input: Option<&Path>) -> Result<Inbox> {
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
    Ok(decrypt_items(&key, items_in(&text)?))
}

fn to_pretty(applications: &[Value]) -> String {
    if applications.len() == 1 {
        serde_json::to_string_pretty(&applications[0]).unwrap_or_default()
    } else {
        serde_json::to_string_pretty(applications).unwrap_or_default()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .build()
        .into()
}

/// `lotse inbox pull`: fetches the office's envelopes and decrypts them; see [`Inbox`].
pub fn pull(
    server: &str,
    portal: &str,
    office: &str,
    token: &str,
    key_file: &Path,
) -> Result<Inbox> {
    let key = read_key(key_file)?;
    let url = format!(
        "{}/api/office/{portal}/{office}/applications",
        server.trim_end_matches('/')
    );
    let mut response = agent()
        .get(&url)
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .context("cannot read the answer")?;
    if status != 200 {
        bail!("{url} answered {status}: {body}");
    }
    Ok(Inbox {
        always_list: true,
        ..decrypt_items(&key, items_in(&body)?)
    })
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
    let text = response
        .body_mut()
        .read_to_string()
        .context("cannot read the answer")?;
    if code != 200 {
        bail!("{url} answered {code}: {text}");
    }
    Ok(text)
}
