//! Reusing an index from the previous build when what goes into it has not changed: an
//! edit to one service re-indexes its portal (and the umbrella's catalogue when a
//! title, summary or keyword changed), not the whole region. Each index folder carries
//! a stamp, the SHA-256 of everything that determines it; a folder whose stamp matches
//! is taken from the previous output (hard-linked, or copied) instead of being built
//! again.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use anyhow::{Context as _, Result};
use rayon::prelude::*;

use super::{IndexJob, IndexStats};
use crate::render::Sink;

/// The stamp's file name inside an index folder.
pub const STAMP: &str = "lotse-index.sha256";

/// Changes whenever the index format could change without the records changing:
/// bump it with the `pagefind` dependency.
pub(super) const FORMAT: &str = "pagefind 1.6; lotse records 2; lotse writer 1";

/// Where the previous build's files can be read.
pub trait Previous: Sync {
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Every file below `dir` (relative to the site root, `/`-separated).
    fn files_under(&self, dir: &str) -> Vec<String>;
    /// Where `path` lies on disk, for a sink that links files instead of copying them.
    fn file(&self, _path: &str) -> Option<PathBuf> {
        None
    }
}

/// The stamp of `job`: its records, in order, and the index settings.
pub fn stamp(job: &IndexJob) -> String {
    let mut hash = Sha256::new();
    hash.update(FORMAT.as_bytes());
    hash.update(env!("CARGO_PKG_VERSION").as_bytes());
    hash.update((super::index_chunk_size() as u64).to_le_bytes());
    for r in &job.records {
        let html = r.pagefind_html();
        hash.update((r.url.len() as u64).to_le_bytes());
        hash.update(r.url.as_bytes());
        hash.update((html.len() as u64).to_le_bytes());
        hash.update(html.as_bytes());
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Takes every file of the previous build's index folder `dir`, its stamp included:
/// its inputs are unchanged, so its records would be too.
pub(super) fn take_folder(
    previous: &dyn Previous,
    dir: &str,
    records: usize,
    sink: &dyn Sink,
) -> Result<IndexStats> {
    take_files(previous, dir, records, sink, |_| true)
}

/// Takes the files of the previous build's index folder `dir` that `wanted` accepts:
/// linked where the sink can (the previous build is about to be deleted, its files
/// live on in this one), else copied (`Sink::put_file`); in parallel either way.
pub(super) fn take_files(
    previous: &dyn Previous,
    dir: &str,
    records: usize,
    sink: &dyn Sink,
    wanted: impl Fn(&str) -> bool + Sync,
) -> Result<IndexStats> {
    let files = previous.files_under(dir);
    let sizes: Vec<u64> = files
        .par_iter()
        .filter(|p| wanted(p))
        .map(|path| -> Result<u64> {
            if let Some(source) = previous.file(path) {
                sink.put_file(path, &source)
                    .with_context(|| format!("cannot take {path} of the previous build"))?;
                return Ok(std::fs::metadata(&source).map_or(0, |m| m.len()));
            }
            let bytes = previous
                .read(path)
                .with_context(|| format!("cannot read {path} of the previous build"))?;
            sink.put(path, &bytes)
                .with_context(|| format!("cannot write {path}"))?;
            Ok(bytes.len() as u64)
        })
        .collect::<Result<_>>()?;
    Ok(IndexStats {
        indexes: 1,
        reused: 1,
        records,
        files: sizes.len(),
        bytes: sizes.iter().sum(),
        ..IndexStats::default()
    })
}

/// The previous build's files on disk (the output folder before it is replaced).
pub struct PreviousDir(pub PathBuf);

impl Previous for PreviousDir {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(path)).ok()
    }

    fn file(&self, path: &str) -> Option<PathBuf> {
        Some(self.0.join(path))
    }

    fn files_under(&self, dir: &str) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                // The entry's type comes with the listing; `Path::is_dir` would ask
                // the file system again for each of a portal's 1,400 index files.
                if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                    walk(root, &path, out);
                } else if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &self.0.join(dir), &mut out);
        out.sort();
        out
    }
}
