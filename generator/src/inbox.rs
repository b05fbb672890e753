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

/// Envelopes in `text`: one envelope, a list of them, or the office list answer
/// (`{"applications": [...]}`).
pub fn envelopes_in(text: &str) -> Result<Vec<Envelope>> {
    let value: Value = serde_json::from_str(text).context("the input is not JSON")?;
    let items: Vec<Value> = match value {
        Value::Array(items) => items,
        Value::Object(ref object) if object.contains_key("applications") => {
            match object.get("applications") {
                Some(Value::Array(items)) => items.clone(),
                _ => bail!("`applications` is not a list"),
            }
        }
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| serde_json::from_value::<Envelope>(item).context("not a Lotse envelope"))
        .collect()
}

/// Decrypts every envelope and returns the applications as JSON, with their routing.
pub fn decrypt_all(key: &PrivateKey, envelopes: &[Envelope]) -> Result<Vec<Value>> {
    envelopes
        .iter()
        .map(|envelope| {
            let plaintext = lotse_envelope::open(key, envelope)
                .with_context(|| format!("application {}", envelope.routing.id))?;
            serde_json::from_slice(&plaintext).with_context(|| {
                format!("application {}: content is not JSON", envelope.routing.id)
            })
        })
        .collect()
}

/// `lotse inbox decrypt --key FILE [ENVELOPE]`.
pub fn decrypt(key_file: &Path, input: Option<&Path>) -> Result<String> {
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
    let applications = decrypt_all(&key, &envelopes_in(&text)?)?;
    Ok(to_pretty(&applications))
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

/// `lotse inbox pull`: fetches the office's envelopes and decrypts them.
pub fn pull(
    server: &str,
    portal: &str,
    office: &str,
    token: &str,
    key_file: &Path,
) -> Result<String> {
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
    let envelopes = envelopes_in(&body)?;
    let statuses: Vec<(String, String)> = serde_json::from_str::<Value>(&body)?
        .get("applications")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    let field =
                        |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (field("id"), field("status"))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut applications = decrypt_all(&key, &envelopes)?;
    for (application, (_, status)) in applications.iter_mut().zip(statuses) {
        if let Some(object) = application.as_object_mut() {
            object.insert("status".into(), Value::String(status));
        }
    }
    Ok(serde_json::to_string_pretty(&applications)?)
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
