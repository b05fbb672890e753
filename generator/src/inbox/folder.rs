//! Writing what `lotse inbox pull --out DIR` (and `decrypt --out DIR`) opened into a
//! folder: `DIR/<id>/application.json`, `messages.json`, and
//! `attachments/<message id>-<file name>`. Every file is written to a temporary file
//! next to it and renamed into place, a file whose bytes are already there is left
//! alone, and names come from the sender only after sanitising: nothing is ever written
//! outside DIR.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use serde_json::Value;

use super::thread::{self, Message};

/// Longest file name (in characters) taken from a sender, before the message id.
const NAME_CHARS: usize = 80;

/// An id as the server gives it (application, message), if it is safe as one path
/// component: ASCII letters, digits, `-` and `_` only.
pub fn safe_id(id: &str) -> Option<&str> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(id)
}

/// The file types a sender may attach, by their first bytes: media type and extensions
/// (the first is the one added to a name without a fitting one).
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static [&'static str])> {
    if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", &["pdf"]))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", &["png"]))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", &["jpg", "jpeg"]))
    } else {
        None
    }
}

fn extensions_of(media_type: &str) -> &'static [&'static str] {
    match media_type {
        "application/pdf" => &["pdf"],
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg"],
        _ => &["bin"],
    }
}

/// A sender's file name made safe to write: only its last path component, no control
/// or reserved characters, no leading dots, at most [`NAME_CHARS`] characters, and an
/// extension that fits the file's bytes (added when the name has none that does, so
/// `rechnung.exe` becomes `rechnung.exe.pdf`).
pub fn safe_name(name: &str, bytes: &[u8], media_type: &str) -> String {
    let extensions = sniff(bytes).map_or_else(|| extensions_of(media_type), |(_, e)| e);
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut clean: String = base
        .chars()
        .map(|c| match c {
            c if c.is_control() => '_',
            ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c => c,
        })
        .collect();
    clean = clean
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    let (stem, extension) = match clean.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= 8 => {
            (stem.to_string(), Some(ext.to_string()))
        }
        _ => (clean.clone(), None),
    };
    let fits = extension
        .as_deref()
        .is_some_and(|e| extensions.contains(&e.to_ascii_lowercase().as_str()));
    let (mut stem, extension) = if fits {
        (stem, extension.unwrap_or_default())
    } else {
        (clean, extensions[0].to_string())
    };
    let room = NAME_CHARS.saturating_sub(extension.chars().count() + 1);
    if stem.chars().count() > room {
        stem = stem.chars().take(room).collect();
        stem = stem.trim_end_matches(['.', ' ']).to_string();
    }
    if stem.is_empty() {
        stem = "anhang".into();
    }
    format!("{stem}.{extension}")
}

/// `name` made unique among `used` by a counter before its extension (`a.png`,
/// `a-2.png`, ...); recorded in `used`.
fn unique(name: String, used: &mut HashSet<String>) -> String {
    if used.insert(name.to_lowercase()) {
        return name;
    }
    let (stem, extension) = name.rsplit_once('.').unwrap_or((&name, ""));
    for n in 2.. {
        let candidate = format!("{stem}-{n}.{extension}");
        if used.insert(candidate.to_lowercase()) {
            return candidate;
        }
    }
    unreachable!("some counter is free")
}

/// Writes `bytes` to `path` unless they are there already: into a temporary file in the
/// same folder (readable by the owner only), then renamed over `path`. Whether it wrote.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<bool> {
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
        && fs::read(path).is_ok_and(|old| old == bytes)
    {
        return Ok(false);
    }
    let dir = path.parent().context("a file has a folder")?;
    let mut temp = tempfile::Builder::new()
        .prefix(".lotse-")
        .suffix(".part")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

/// The output folder, `--out DIR`.
pub struct Folder {
    root: PathBuf,
}

/// What was written for one application.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub dir: PathBuf,
    pub messages: usize,
    pub attachments: usize,
    /// Files that were new or changed.
    pub changed: usize,
}

fn create_dir(path: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

impl Folder {
    /// Creates DIR if needed.
    pub fn open(dir: &Path) -> Result<Folder> {
        create_dir(dir)?;
        let root = dir
            .canonicalize()
            .with_context(|| format!("cannot open {}", dir.display()))?;
        Ok(Folder { root })
    }

    /// `rel` below DIR, created, and still below DIR once links are resolved.
    fn subdir(&self, rel: &[&str]) -> Result<PathBuf> {
        let mut path = self.root.clone();
        for part in rel {
            if safe_id(part).is_none() && !matches!(*part, "attachments") {
                bail!("`{part}` is not a safe folder name");
            }
            path.push(part);
        }
        create_dir(&path)?;
        let real = path
            .canonicalize()
            .with_context(|| format!("cannot open {}", path.display()))?;
        if !real.starts_with(&self.root) {
            bail!(
                "{} leads outside {}; nothing written there",
                path.display(),
                self.root.display()
            );
        }
        Ok(real)
    }

    /// Writes the opened attachments of `messages` (all of one application) into
    /// `DIR/<application>/attachments/` and notes each file's name in its attachment.
    /// Returns (files written, of them new or changed).
    pub fn write_attachments(
        &self,
        application: &str,
        messages: &mut [Message],
    ) -> Result<(usize, usize)> {
        let (mut count, mut changed) = (0, 0);
        let mut dir = None;
        for message in messages.iter_mut() {
            let Ok(opened) = &mut message.body else {
                continue;
            };
            let Some(message_id) = safe_id(&message.id) else {
                for attachment in &mut opened.attachments {
                    if matches!(attachment.bytes, Some(Ok(_))) {
                        attachment.bytes = Some(Err(format!(
                            "the message id `{}` is not safe as a file name",
                            message.id
                        )));
                    }
                }
                continue;
            };
            let mut used = HashSet::new();
            for attachment in &mut opened.attachments {
                let Some(Ok(bytes)) = &attachment.bytes else {
                    continue;
                };
                let name = unique(
                    format!(
                        "{message_id}-{}",
                        safe_name(&attachment.key.name, bytes, &attachment.key.media_type)
                    ),
                    &mut used,
                );
                let dir = match &dir {
                    Some(dir) => dir,
                    None => dir.insert(self.subdir(&[application, "attachments"])?),
                };
                if write_atomic(&dir.join(&name), bytes)? {
                    changed += 1;
                }
                count += 1;
                attachment.file = Some(format!("attachments/{name}"));
            }
        }
        Ok((count, changed))
    }

    /// Writes one application: `application.json` when it could be read (an existing
    /// one is kept otherwise), the thread as `messages.json`, and the attachments.
    pub fn write_application(
        &self,
        id: &str,
        application: Option<&Value>,
        messages: Option<&mut [Message]>,
    ) -> Result<Written> {
        let dir = self.subdir(&[id])?;
        let mut written = Written {
            dir: dir.clone(),
            ..Written::default()
        };
        if let Some(application) = application {
            let text = serde_json::to_string_pretty(application)? + "\n";
            written.changed += usize::from(write_atomic(
                &dir.join("application.json"),
                text.as_bytes(),
            )?);
        }
        if let Some(messages) = messages {
            let (attachments, changed) = self.write_attachments(id, messages)?;
            written.attachments = attachments;
            written.changed += changed;
            written.messages = messages.len();
            let list: Vec<Value> = messages.iter().map(thread::to_json).collect();
            let text = serde_json::to_string_pretty(&list)? + "\n";
            written.changed +=
                usize::from(write_atomic(&dir.join("messages.json"), text.as_bytes())?);
        }
        Ok(written)
    }
}
