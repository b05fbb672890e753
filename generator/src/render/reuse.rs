//! Taking a previous build's pages: a page whose stamp (`stamps.rs`) is the one the
//! previous build's manifest holds is linked from there (copied where the file system
//! cannot link) instead of being rendered.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::jobs::Job;
use super::stamps::{self, Stamps};
use super::Sink;

/// The previous build a render may take unchanged pages from: its folder and its
/// stamps (`stamps.rs`), with the stamps of this build.
pub(crate) struct Reuse<'a> {
    pub stamps: &'a Stamps<'a>,
    pub folder: &'a Path,
    pub manifest: &'a HashMap<String, String>,
}

/// Which of `selected` the previous build holds unchanged (its stamp is the one the
/// manifest holds), and every page's stamp for the next build.
pub(super) fn unchanged(
    selected: &[(&Job<'_>, &str)],
    reuse: &Reuse<'_>,
) -> (Vec<bool>, stamps::Entries) {
    selected
        .par_iter()
        .map(|(job, path)| {
            let stamp = stamps::hex(&reuse.stamps.of_job(job, path));
            let same = reuse.manifest.get(*path) == Some(&stamp);
            (same, (path.to_string(), stamp))
        })
        .unzip()
}

/// Links or copies each of `pages` from the previous build in `folder`; returns those
/// that could not be taken, to render.
pub(super) fn take<'j, 'a>(
    pages: &[(&'j Job<'a>, &str)],
    folder: &Path,
    sink: &dyn Sink,
    on_page: &(dyn Fn() + Sync),
) -> Vec<&'j Job<'a>> {
    pages
        .par_iter()
        .filter_map(|(job, path)| {
            // A page that cannot be taken (gone from the output) is rendered.
            if sink.put_file(path, &folder.join(path)).is_ok() {
                on_page();
                None
            } else {
                Some(*job)
            }
        })
        .collect()
}
