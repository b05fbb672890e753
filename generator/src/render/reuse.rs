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

/// Links or copies each of `selected` whose stamp is the previous build's from there;
/// returns the others, to render, and every page's stamp for the next build.
pub(super) fn take_unchanged<'j, 'a>(
    selected: &[(&'j Job<'a>, &str)],
    reuse: &Reuse<'_>,
    sink: &dyn Sink,
    on_page: &(dyn Fn() + Sync),
) -> (Vec<&'j Job<'a>>, stamps::Entries) {
    let outcomes: Vec<(Option<&Job<'_>>, (String, String))> = selected
        .par_iter()
        .map(|(job, path)| {
            let stamp = stamps::hex(&reuse.stamps.of_job(job, path));
            let same = reuse.manifest.get(*path) == Some(&stamp);
            let taken = same && take_previous(reuse.folder, path, sink);
            if taken {
                on_page();
            }
            ((!taken).then_some(*job), (path.to_string(), stamp))
        })
        .collect();
    let mut to_render = Vec::new();
    let mut stamps = Vec::with_capacity(outcomes.len());
    for (job, entry) in outcomes {
        to_render.extend(job);
        stamps.push(entry);
    }
    (to_render, stamps)
}

/// The previous build's file at `path` into `sink`: linked where the sink can, else
/// copied. `false` when it cannot be read (then the page is rendered).
fn take_previous(folder: &Path, path: &str, sink: &dyn Sink) -> bool {
    let source = folder.join(path);
    if sink.link(path, &source) {
        return true;
    }
    match std::fs::read(&source) {
        Ok(bytes) => sink.put(path, &bytes).is_ok(),
        Err(_) => false,
    }
}
