//! The search index: Pagefind 1.6's files, written by `pagefind/` from small records
//! (`records.rs`), one index per portal and one for the umbrella (docs/search.md).
//!
//! - `<portal>/pagefind/`: every service page the portal lists (its own, the regional
//!   ones it offers, the state and federal ones it links) and the offices they name,
//!   full text. Another portal's services are not in it at all.
//! - `pagefind/`: the umbrella's catalogue, one record per distinct service listing
//!   the portals that offer it, plus every office. Choosing a city on the umbrella's
//!   search page switches to that city's index.
//!
//! Small indexes keep what one query downloads small, and they build in parallel.

mod pagefind;
pub(crate) mod records;
mod reuse;

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rayon::prelude::*;

use records::{catalogue_records, portal_record_count, portal_records};
pub use records::{fold_umlauts, Record};
pub use reuse::{Previous, PreviousDir, STAMP};

use crate::render::Sink;
use crate::resolve::{PortalSite, Site};

/// Folder of an index, at the site root (umbrella) and in every portal.
pub const INDEX_DIR: &str = "pagefind";

/// Pagefind splits its word index into chunks of about this many word locations, and a
/// query downloads the chunks its words fall in. Its default, 20,000, makes a chunk of
/// 30 KB and more; 2,500 keeps one query of a portal under 100 KB (docs/search.md).
const INDEX_CHUNK_SIZE: usize = 2500;
/// Pagefind's own (unstable) setting of the chunk size; an operator may set it.
const INDEX_CHUNK_SIZE_VAR: &str = "PAGEFIND_UNSTABLE_INDEX_CHUNK_SIZE";

/// The chunk size every index is written with: the operator's, else ours. The same in
/// the binary and in the library (tests, `lotse serve`).
pub(crate) fn index_chunk_size() -> usize {
    std::env::var(INDEX_CHUNK_SIZE_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(INDEX_CHUNK_SIZE)
}

/// The folder of a portal's index (`bottrop/pagefind`).
fn index_dir(ps: &PortalSite) -> String {
    format!("{}/{INDEX_DIR}", ps.portal.slug)
}

/// Whether `path` (relative to the site root) is a file of one of the indexes.
pub fn is_index_file(path: &str) -> bool {
    let index_dir = format!("{INDEX_DIR}/");
    path.starts_with(&index_dir)
        || path
            .split_once('/')
            .is_some_and(|(_, rest)| rest.starts_with(&index_dir))
}

/// What indexing produced.
#[derive(Debug, Default, Clone)]
pub struct IndexStats {
    pub indexes: usize,
    /// Indexes taken from the previous build because their records had not changed.
    pub reused: usize,
    pub records: usize,
    pub files: usize,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// One index to build: where it goes (`pagefind/` or `<portal>/pagefind/`) and what
/// goes into it.
pub struct IndexJob {
    pub dir: String,
    pub records: Vec<Record>,
}

/// The indexes of the whole site: one per portal, one for the umbrella.
pub fn jobs(site: &Site) -> Result<Vec<IndexJob>> {
    jobs_of(site, None)
}

/// The indexes of the portals in `only` (by slug; all for `None`) and the umbrella's.
pub fn jobs_of(
    site: &Site,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<Vec<IndexJob>> {
    let portals: Vec<&PortalSite> = site
        .portals
        .iter()
        .filter(|ps| only.is_none_or(|only| only.contains(&ps.portal.slug)))
        .collect();
    // A regional text shared by thirteen portals is converted to HTML once.
    let bodies = crate::render::Bodies::of_portals(&portals)?;
    let mut jobs: Vec<IndexJob> = portals
        .par_iter()
        .map(|ps| IndexJob {
            dir: index_dir(ps),
            records: portal_records(site, ps, &bodies),
        })
        .collect();
    jobs.push(IndexJob {
        dir: INDEX_DIR.to_string(),
        records: catalogue_records(site),
    });
    Ok(jobs)
}

/// Builds every index of `site` and stores the files through `sink`.
pub fn write_index(
    site: &Site,
    sink: &dyn Sink,
    previous: Option<&dyn Previous>,
) -> Result<IndexStats> {
    let started = Instant::now();
    let mut stats = index_jobs(jobs(site)?, sink, previous)?;
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// The indexes of a build that renders portal by portal: [`SiteIndexer::portal`]
/// indexes a portal from the bodies its pages were rendered with, right after them,
/// so that a portal's records live only as long as its index takes;
/// [`SiteIndexer::catalogue`] makes the umbrella's, and [`finish`] sums them up.
///
/// [`finish`]: SiteIndexer::finish
pub struct SiteIndexer<'a> {
    site: &'a Site,
    sink: &'a dyn Sink,
    previous: Option<&'a dyn Previous>,
    /// By portal slug, decided once in [`SiteIndexer::reusing`]: the stamp of its
    /// index's inputs, and whether the previous build holds that index.
    inputs: std::collections::HashMap<String, (String, bool)>,
    stats: std::sync::Mutex<IndexStats>,
    /// (index folder, input stamp) of every portal index written, for the next build.
    stamps: std::sync::Mutex<Vec<(String, String)>>,
}

/// Names what goes into an index's input stamp besides its services.
const INPUTS: &str = "lotse index inputs 1";

impl<'a> SiteIndexer<'a> {
    pub fn new(site: &'a Site, sink: &'a dyn Sink, previous: Option<&'a dyn Previous>) -> Self {
        SiteIndexer {
            site,
            sink,
            previous,
            inputs: std::collections::HashMap::new(),
            stats: std::sync::Mutex::new(IndexStats::default()),
            stamps: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Takes a portal's index from the previous build, unmade, when the stamp of its
    /// inputs is the one `reuse`'s manifest holds. Decided here, once per portal, so
    /// that the bodies handed to [`SiteIndexer::portal`] are always the ones it needs.
    pub(crate) fn reusing(mut self, reuse: &'a crate::render::Reuse<'a>) -> Self {
        let format = format!("{INPUTS}; {}; {}", reuse::FORMAT, index_chunk_size());
        let previous = self.previous;
        self.inputs = self
            .site
            .portals
            .par_iter()
            .map(|ps| {
                let dir = index_dir(ps);
                let stamp = crate::render::stamps::hex(&reuse.stamps.of_index(ps, &format));
                let unchanged = previous.is_some_and(|previous| {
                    reuse.manifest.get(&dir) == Some(&stamp)
                        && previous.read(&format!("{dir}/{STAMP}")).is_some()
                });
                (ps.portal.slug.clone(), (stamp, unchanged))
            })
            .collect();
        self
    }

    /// The stamp of `ps`'s index inputs and whether the previous build holds it
    /// (`None` without [`SiteIndexer::reusing`]).
    fn inputs(&self, ps: &PortalSite) -> Option<&(String, bool)> {
        self.inputs.get(&ps.portal.slug)
    }

    /// Indexes one portal (`<portal>/pagefind/`).
    pub(crate) fn portal(&self, ps: &PortalSite, bodies: &crate::render::Bodies) -> Result<()> {
        let started = Instant::now();
        let dir = index_dir(ps);
        let inputs = self.inputs(ps);
        let unchanged = inputs.is_some_and(|(_, unchanged)| *unchanged);
        if let (true, Some(previous)) = (unchanged, self.previous) {
            let stats = reuse::take_folder(previous, &dir, portal_record_count(ps), self.sink)
                .with_context(|| format!("cannot take the search index {dir}/"))?;
            self.record(&stats, started);
        } else {
            let job = IndexJob {
                dir: dir.clone(),
                records: portal_records(self.site, ps, bodies),
            };
            self.add(job, started)?;
        }
        if let Some((stamp, _)) = inputs {
            let mut stamps = self.stamps.lock().unwrap_or_else(|p| p.into_inner());
            stamps.push((dir, stamp.clone()));
        }
        Ok(())
    }

    fn add(&self, job: IndexJob, started: Instant) -> Result<()> {
        let dir = job.dir.clone();
        let done = build_or_reuse(job, self.sink, self.previous)
            .with_context(|| format!("cannot build the search index {dir}/"))?;
        self.record(&done, started);
        Ok(())
    }

    fn record(&self, done: &IndexStats, started: Instant) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.add(done);
        stats.elapsed += started.elapsed();
    }

    /// Indexes the umbrella's catalogue (`pagefind/`). It needs no body, so a build
    /// runs it beside the portals' pages and indexes, on a thread of its own.
    pub fn catalogue(&self) -> Result<()> {
        let started = Instant::now();
        let job = IndexJob {
            dir: INDEX_DIR.to_string(),
            records: catalogue_records(self.site),
        };
        self.add(job, started)
    }

    /// Says what was done, with the input stamps of the portal indexes (for the
    /// build's manifest). The catalogue is part of it once [`SiteIndexer::catalogue`]
    /// returned.
    pub fn finish(self) -> (IndexStats, Vec<(String, String)>) {
        let stats = self.stats.into_inner().unwrap_or_else(|p| p.into_inner());
        let stamps = self.stamps.into_inner().unwrap_or_else(|p| p.into_inner());
        (stats, stamps)
    }
}

impl crate::render::AfterPortal for SiteIndexer<'_> {
    fn needs_bodies(&self, ps: &PortalSite) -> bool {
        !self.inputs(ps).is_some_and(|(_, unchanged)| *unchanged)
    }

    fn done(&self, ps: &PortalSite, bodies: &crate::render::Bodies) -> Result<()> {
        self.portal(ps, bodies)
    }
}

impl IndexStats {
    fn add(&mut self, other: &IndexStats) {
        self.indexes += 1;
        self.reused += other.reused;
        self.records += other.records;
        self.files += other.files;
        self.bytes += other.bytes;
    }
}

/// Builds the indexes, in parallel, and stores their files through `sink`; an index
/// whose records are those of `previous`'s is copied from there instead.
pub fn index_jobs(
    jobs: Vec<IndexJob>,
    sink: &dyn Sink,
    previous: Option<&dyn Previous>,
) -> Result<IndexStats> {
    let started = Instant::now();
    // One index per thread; each spreads its pages over rayon's pool.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let queue = std::sync::Mutex::new(jobs.into_iter());
    let all: Vec<Result<IndexStats>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                        let Some(job) = next else { break };
                        let dir = job.dir.clone();
                        done.push(
                            build_or_reuse(job, sink, previous)
                                .with_context(|| format!("cannot build the search index {dir}/")),
                        );
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec![Err(anyhow::anyhow!("the search indexer panicked"))])
            })
            .collect()
    });
    let mut stats = IndexStats {
        elapsed: started.elapsed(),
        ..IndexStats::default()
    };
    for s in all {
        stats.add(&s?);
    }
    Ok(stats)
}

/// One index: copied from `previous` when its stamp matches, else built; either way
/// the stamp is written last, so a folder with a stamp is complete.
fn build_or_reuse(
    job: IndexJob,
    sink: &dyn Sink,
    previous: Option<&dyn Previous>,
) -> Result<IndexStats> {
    let stamp = reuse::stamp(&job);
    let stamp_path = format!("{}/{STAMP}", job.dir);
    let unchanged = previous.filter(|p| p.read(&stamp_path).as_deref() == Some(stamp.as_bytes()));
    let stats = match unchanged {
        Some(previous) => reuse::take_files(previous, &job.dir, job.records.len(), sink, |p| {
            p != stamp_path
        })?,
        None => build_one(job, sink)?,
    };
    sink.put(&stamp_path, stamp.as_bytes())
        .with_context(|| format!("cannot write {stamp_path}"))?;
    Ok(stats)
}

/// One index, written by [`pagefind::build`] in Pagefind's format, with Pagefind's
/// client files beside it.
fn build_one(job: IndexJob, sink: &dyn Sink) -> Result<IndexStats> {
    let index = pagefind::build(&job.records, Some(index_chunk_size()));
    let client = pagefind::client_files()?;
    let files: Vec<(&str, &[u8])> = index
        .files
        .iter()
        .chain(client)
        .map(|(name, bytes)| (name.as_str(), bytes.as_slice()))
        .collect();
    files.par_iter().try_for_each(|(name, contents)| {
        let path = format!("{}/{name}", job.dir);
        sink.put(&path, contents)
            .with_context(|| format!("cannot write {path}"))
    })?;
    Ok(IndexStats {
        indexes: 1,
        reused: 0,
        records: job.records.len(),
        files: files.len(),
        bytes: files.iter().map(|(_, c)| c.len() as u64).sum(),
        elapsed: Duration::ZERO,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_index_files() {
        assert!(is_index_file("pagefind/pagefind.js"));
        assert!(is_index_file("bottrop/pagefind/fragment/de_1.pf_fragment"));
        assert!(!is_index_file("bottrop/hund-anmelden/index.html"));
        assert!(!is_index_file("bottrop/a/pagefind/x"));
    }
}
