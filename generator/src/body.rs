//! A service's Markdown body, kept as its place in the content file and a digest of
//! its text instead of the text itself: the region's bodies are most of what loading
//! reads (3.5 of the 4.2 KB of a service file in the benchmark corpus), and only the
//! portal being rendered needs them. The build reads them again portal by portal
//! (`render/bodies.rs`); everything that only compares bodies (the stamps of
//! incremental builds, `lotse serve`'s reloads) compares the digests.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// The SHA-256 of a body's text.
pub type BodyDigest = [u8; 32];

/// A Markdown body: where its text is, and what it was when it was loaded.
pub struct Body {
    place: Place,
    digest: BodyDigest,
}

enum Place {
    /// Bytes `offset..offset + len` of the file at `path` (as loading named it).
    File {
        path: Arc<str>,
        offset: u64,
        len: usize,
    },
    /// Text that is no file's (tests, generated content).
    Text(Arc<str>),
}

/// A body's file changed or went away after it was loaded: what was checked is no
/// longer what would be rendered.
#[derive(Debug)]
pub struct BodyChanged {
    pub path: Arc<str>,
    pub reason: String,
}

impl fmt::Display for BodyChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} changed while it was being built ({}); build again",
            self.path, self.reason
        )
    }
}

impl std::error::Error for BodyChanged {}

impl Body {
    /// The body `text`, which starts at byte `offset` of the file loaded as `path`.
    pub fn in_file(path: Arc<str>, offset: usize, text: &str) -> Body {
        Body {
            digest: digest(text),
            place: Place::File {
                path,
                offset: offset as u64,
                len: text.len(),
            },
        }
    }

    /// A body held as text.
    pub fn text(text: &str) -> Body {
        Body {
            digest: digest(text),
            place: Place::Text(Arc::from(text)),
        }
    }

    pub fn digest(&self) -> &BodyDigest {
        &self.digest
    }

    /// The text, read again from its file; an error when the file no longer holds the
    /// text that was loaded.
    pub fn read(&self) -> Result<String, BodyChanged> {
        let (path, offset, len) = match &self.place {
            Place::Text(text) => return Ok(text.to_string()),
            Place::File { path, offset, len } => (path, *offset, *len),
        };
        let changed = |reason: String| BodyChanged {
            path: path.clone(),
            reason,
        };
        let mut bytes = vec![0; len];
        std::fs::File::open(Path::new(&**path))
            .and_then(|mut file| {
                file.seek(SeekFrom::Start(offset))?;
                file.read_exact(&mut bytes)
            })
            .map_err(|e| changed(e.to_string()))?;
        if Sha256::digest(&bytes).as_slice() != self.digest {
            return Err(changed("its text is not the one checked".into()));
        }
        String::from_utf8(bytes).map_err(|_| changed("not valid UTF-8 text".into()))
    }
}

/// Bodies are the same when their texts are, wherever they are.
impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        self.digest == other.digest
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digest: String = self.digest[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        match &self.place {
            Place::File { path, offset, len } => {
                write!(f, "Body({path}@{offset}+{len}, {digest})")
            }
            Place::Text(_) => write!(f, "Body(text, {digest})"),
        }
    }
}

fn digest(text: &str) -> BodyDigest {
    Sha256::digest(text.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> (tempfile::TempDir, Arc<str>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.md");
        std::fs::write(&path, text).unwrap();
        (dir, Arc::from(path.to_str().unwrap()))
    }

    #[test]
    fn reads_its_part_of_the_file_again() {
        let file = "+++\ntitle = \"ä\"\n+++\nÜber *uns*\n";
        let (_dir, path) = written(file);
        let offset = file.find("Über").unwrap();
        let body = Body::in_file(path, offset, &file[offset..]);
        assert_eq!(body.read().unwrap(), "Über *uns*\n");
        assert_eq!(body, Body::text("Über *uns*\n"));
        assert_ne!(body, Body::text("Über uns\n"));
    }

    #[test]
    fn a_file_changed_since_loading_is_an_error_not_other_text() {
        let file = "+++\n+++\nAlt\n";
        let (dir, path) = written(file);
        let body = Body::in_file(path, 8, "Alt\n");
        std::fs::write(dir.path().join("s.md"), "+++\n+++\nNeu\n").unwrap();
        let error = body.read().unwrap_err();
        assert!(error
            .to_string()
            .contains("changed while it was being built"));
        std::fs::write(dir.path().join("s.md"), "+++\n+++\n").unwrap();
        assert!(body.read().is_err(), "a shorter file");
        drop(dir);
        assert!(body.read().is_err(), "no file");
    }
}
