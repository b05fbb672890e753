//! `lotse inbox reply`: the office writes to the citizen, with files and a new status
//! if it likes: `POST /api/office/applications/<id>/messages`, as JSON without files,
//! as `multipart/form-data` with them.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde_json::Value;

use super::folder::{safe_id, sniff};
use super::{agent, read_limited, server_refusal};

/// At most this many bytes a file (SPEC section 6) ...
pub const MAX_FILE: u64 = 10 * 1024 * 1024;
/// ... and all files of a message together.
pub const MAX_FILES: u64 = 20 * 1024 * 1024;

/// What the office sends.
pub struct Reply {
    pub text: String,
    pub status: Option<String>,
    pub attach: Vec<PathBuf>,
}

/// The server's answer: the new message's id and the application's status.
#[derive(Debug, PartialEq, Eq)]
pub struct Sent {
    pub id: String,
    pub status: Option<String>,
}

/// A file ready to send.
#[derive(Debug)]
pub struct File {
    pub name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

/// `--text -`: the text from standard input, without the final line break.
pub fn text_argument(text: String) -> Result<String> {
    if text != "-" {
        return Ok(text);
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the message text from standard input")?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// Reads and checks the files before anything is sent: PDF, PNG or JPEG by their bytes,
/// at most [`MAX_FILE`] each and [`MAX_FILES`] together.
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<File>> {
    let mut files = Vec::with_capacity(paths.len());
    let mut total = 0u64;
    for path in paths {
        let size = fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if size > MAX_FILE {
            bail!(
                "{} has {} bytes; a file may have at most 10 MiB",
                path.display(),
                size
            );
        }
        total += size;
        if total > MAX_FILES {
            bail!("the files have more than 20 MiB together; send them in several messages");
        }
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let Some((media_type, _)) = sniff(&bytes) else {
            bail!(
                "{} is not a PDF, PNG or JPEG file (judged by its content); only these can be sent",
                path.display()
            );
        };
        files.push(File {
            name: file_name(path),
            media_type,
            bytes,
        });
    }
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "anhang".into())
}

/// A boundary that occurs in none of the parts.
fn boundary(parts: &[&[u8]]) -> Result<String> {
    loop {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let boundary = format!("lotse-{hex}");
        if !parts
            .iter()
            .any(|p| p.windows(boundary.len()).any(|w| w == boundary.as_bytes()))
        {
            return Ok(boundary);
        }
    }
}

/// A quoted parameter value as browsers write it in multipart headers (HTML standard):
/// `"`, CR and LF percent-encoded, everything else as UTF-8.
fn quoted(value: &str) -> String {
    value
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The `multipart/form-data` body (RFC 7578): a `text` part, a `status` part if given,
/// a `file` part per file. Returns the content type with its boundary, and the body.
pub fn multipart(text: &str, status: Option<&str>, files: &[File]) -> Result<(String, Vec<u8>)> {
    let mut parts: Vec<&[u8]> = vec![text.as_bytes()];
    parts.extend(files.iter().map(|f| f.bytes.as_slice()));
    parts.extend(files.iter().map(|f| f.name.as_bytes()));
    let boundary = boundary(&parts)?;
    let mut body = Vec::new();
    let mut field = |name: &str, value: &str| {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    field("text", text);
    if let Some(status) = status {
        field("status", status);
    }
    for file in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
                 Content-Type: {}\r\n\r\n",
                quoted(&file.name),
                file.media_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(&file.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok((format!("multipart/form-data; boundary={boundary}"), body))
}

/// Sends the reply; the new message's id.
pub fn send(server: &str, id: &str, token: &str, reply: &Reply) -> Result<Sent> {
    let Some(id) = safe_id(id) else {
        bail!("`{id}` is not an application id (like 7K3M-9QPX)");
    };
    let files = read_files(&reply.attach)?;
    let (content_type, body) = if files.is_empty() {
        let mut json = serde_json::json!({"text": reply.text});
        if let Some(status) = &reply.status {
            json["status"] = Value::String(status.clone());
        }
        (
            "application/json".to_string(),
            json.to_string().into_bytes(),
        )
    } else {
        multipart(&reply.text, reply.status.as_deref(), &files)?
    };
    let url = format!(
        "{}/api/office/applications/{id}/messages",
        server.trim_end_matches('/')
    );
    let mut response = agent()
        .post(&url)
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", &content_type)
        .send(&body[..])
        .with_context(|| format!("cannot reach {url}"))?;
    let code = response.status().as_u16();
    let text = read_limited(response.body_mut(), 1 << 20)?;
    if code != 201 && code != 200 {
        return Err(server_refusal(
            &url,
            code,
            &text,
            "the message was not sent",
        ));
    }
    let answer: Value = serde_json::from_str(&text)
        .with_context(|| format!("{url} answered {code} with something other than JSON"))?;
    let Some(message) = answer.get("id").and_then(Value::as_str) else {
        bail!("{url} answered {code} without the new message's id: {text}");
    };
    Ok(Sent {
        id: message.to_string(),
        status: answer
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}
