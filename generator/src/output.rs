//! Stage 4: write the rendered site. A build goes to a staging folder next to the
//! target and replaces it only when everything succeeded, so a failed build leaves the
//! previous dist/ untouched.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::render::Sink;

/// Writes files below a root folder, creating parent folders once each.
pub struct DiskSink {
    root: PathBuf,
    created: Mutex<HashSet<PathBuf>>,
}

impl DiskSink {
    pub fn new(root: PathBuf) -> Self {
        DiskSink {
            root,
            created: Mutex::new(HashSet::new()),
        }
    }

    fn ensure_dir(&self, dir: &Path) -> io::Result<()> {
        if self
            .created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(dir)
        {
            return Ok(());
        }
        fs::create_dir_all(dir)?;
        self.created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dir.to_path_buf());
        Ok(())
    }
}

impl Sink for DiskSink {
    fn put(&self, path: &str, bytes: &[u8]) -> io::Result<()> {
        let full = self.root.join(path);
        if let Some(parent) = full.parent() {
            self.ensure_dir(parent)?;
        }
        fs::write(full, bytes)
    }

    /// The link shares the file with the previous build until `Staging::commit` deletes
    /// that: nothing may write to `path` afterwards (nothing does: every path is put
    /// once).
    fn link(&self, path: &str, source: &Path) -> bool {
        let full = self.root.join(path);
        let parent_ready = full.parent().is_none_or(|p| self.ensure_dir(p).is_ok());
        // A file system without hard links, or another device: the caller copies.
        parent_ready && fs::hard_link(source, &full).is_ok()
    }
}

/// A build in progress into `<out>.building`, swapped into place by [`Staging::commit`].
pub struct Staging {
    target: PathBuf,
    staging: PathBuf,
}

impl Staging {
    pub fn begin(target: &Path) -> io::Result<Staging> {
        let staging = sibling(target, "building");
        if staging.exists() {
            fs::remove_dir_all(&staging)?;
        }
        fs::create_dir_all(&staging)?;
        Ok(Staging {
            target: target.to_path_buf(),
            staging,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.staging
    }

    /// Replaces the target with the finished build. The old output is renamed away
    /// first and deleted last, so at every moment one complete site exists.
    pub fn commit(self) -> io::Result<()> {
        let old = sibling(&self.target, "old");
        if old.exists() {
            remove_tree(&old)?;
        }
        let had_old = self.target.exists();
        if had_old {
            fs::rename(&self.target, &old)?;
        }
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            if had_old {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(e);
        }
        if had_old {
            // A leftover only costs disk space (the next build deletes it).
            let _ = remove_tree(&old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    /// A build that did not commit leaves nothing behind.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.staging);
    }
}

/// Deletes a folder and everything in it, subfolders in parallel: a build's output has
/// a folder per page, and deleting them one after the other takes a quarter second on
/// a region of 18,000 pages.
fn remove_tree(dir: &Path) -> io::Result<()> {
    use rayon::prelude::*;
    let entries: Vec<fs::DirEntry> = fs::read_dir(dir)?.collect::<io::Result<_>>()?;
    entries.par_iter().try_for_each(|entry| {
        if entry.file_type()?.is_dir() {
            remove_tree(&entry.path())
        } else {
            fs::remove_file(entry.path())
        }
    })?;
    fs::remove_dir(dir)
}

fn sibling(target: &Path, suffix: &str) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "dist".into(), |n| n.to_string_lossy().into_owned());
    target.with_file_name(format!(".{name}.{suffix}"))
}
