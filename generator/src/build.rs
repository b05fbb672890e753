//! The pipeline, end to end: load -> resolve -> check -> render -> write.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::load;
use crate::output::{DiskSink, Staging};
use crate::render::{self, Selection, Sink, Theme};
use crate::resolve::{self, Site};
use crate::search::{IndexStats, Previous, PreviousDir, SiteIndexer};

/// Loads, resolves and checks a content folder. Returns the site when there are no
/// errors, and every diagnostic (errors and warnings) either way.
pub fn check(content: &Path) -> (Option<Site>, Vec<Diagnostic>) {
    check_with_laps(content, &Laps::new(Instant::now()))
}

fn check_with_laps(content: &Path, laps: &Laps) -> (Option<Site>, Vec<Diagnostic>) {
    let diags = Diagnostics::new();
    let loaded = load::load(content, &diags);
    laps.lap("load");
    let site = resolve::resolve(&loaded);
    laps.lap("resolve");
    if let Some(site) = &site {
        crate::check::check(&loaded, site, &diags);
    }
    laps.lap("check");
    // Dropped here, not at the end of the function, so that the laps show what the
    // drafts leave resident (mimalloc keeps freed memory, `allocator.rs`).
    drop(loaded);
    laps.lap("drafts dropped");
    let sorted = diags.sorted();
    let ok = !sorted.iter().any(|d| d.severity == Severity::Error);
    (site.filter(|_| ok), sorted)
}

/// The theme folder that goes with a content folder: `themes/default` next to it. It
/// overrides the built-in theme file by file where it exists (`theme.rs`).
pub fn default_theme_dir(content: &Path) -> PathBuf {
    let parent = content
        .canonicalize()
        .ok()
        .and_then(|c| c.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    parent.join("themes").join("default")
}

#[derive(Debug)]
pub struct BuildReport {
    pub pages: usize,
    /// Of `pages`, those taken unchanged from the previous build.
    pub reused: usize,
    pub files: usize,
    pub portals: usize,
    pub elapsed: Duration,
    /// The Pagefind index (docs/search.md).
    pub search: crate::search::IndexStats,
}

pub enum BuildOutcome {
    Built(BuildReport, Vec<Diagnostic>),
    /// Content errors: nothing was written.
    Invalid(Vec<Diagnostic>),
}

/// How to build: `lotse build`'s switches.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// Show a progress bar while rendering.
    pub progress: bool,
    /// Write the search index (`pagefind/`, docs/search.md).
    pub search: bool,
}

/// Builds the site into `out`, atomically: on any error the previous `out` stays.
/// With the search index; [`build_with`] can leave it out.
pub fn build(content: &Path, theme_dir: &Path, out: &Path, progress: bool) -> Result<BuildOutcome> {
    let options = BuildOptions {
        progress,
        search: true,
    };
    build_with(content, theme_dir, out, options)
}

/// Builds the site into `out` as `options` say, atomically.
pub fn build_with(
    content: &Path,
    theme_dir: &Path,
    out: &Path,
    options: BuildOptions,
) -> Result<BuildOutcome> {
    let started = Instant::now();
    let laps = Laps::new(started);
    let (site, diagnostics) = check_with_laps(content, &laps);
    let Some(site) = site else {
        return Ok(BuildOutcome::Invalid(diagnostics));
    };
    let theme = Theme::load(Some(theme_dir))?;
    let staging = Staging::begin(out)
        .with_context(|| format!("cannot create a build folder next to {}", out.display()))?;
    let sink = DiskSink::new(staging.dir().to_path_buf());
    let selection = Selection::everything();
    // What the previous build in `out` was made from, page by page and index by index
    // (render/stamps.rs): what did not change is linked from there, not made again.
    let stamps = render::Stamps::of(&site, &theme);
    let manifest = render::stamps::read_manifest(out);
    laps.lap("stamps");
    let reuse = render::Reuse {
        stamps: &stamps,
        folder: out,
        manifest: &manifest,
    };
    // The search index goes into the staging folder too, so it swaps in with the pages.
    // Each portal is indexed right after its pages, from the same converted bodies.
    let previous = PreviousDir(out.to_path_buf());
    let indexer = options.search.then(|| {
        let previous = out.is_dir().then_some(&previous as &dyn Previous);
        SiteIndexer::new(&site, &sink, previous).reusing(&reuse)
    });
    let after_portal: &dyn render::AfterPortal = match &indexer {
        Some(indexer) => indexer,
        None => &render::NothingAfter,
    };
    // The umbrella's catalogue needs no body: it is indexed beside the portals, where
    // it fills the moments a portal's index spends in its serial steps.
    let (stats, catalogue) = std::thread::scope(|scope| {
        let catalogue = indexer
            .as_ref()
            .map(|indexer| scope.spawn(|| indexer.catalogue()));
        let stats = render_portals_with_progress(
            &site,
            &theme,
            &sink,
            &selection,
            options.progress,
            after_portal,
            Some(&reuse),
        );
        let catalogue = catalogue.map(|handle| {
            handle
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the umbrella's index panicked")))
        });
        (stats, catalogue)
    });
    let stats = stats?;
    catalogue.transpose()?;
    laps.lap("render, portal indexes, umbrella index");
    let (search, index_stamps) = match indexer {
        Some(indexer) => indexer.finish(),
        None => (IndexStats::default(), Vec::new()),
    };
    // Written last: a manifest stands for a complete build.
    let mut entries = stats.stamps;
    entries.extend(index_stamps);
    sink.put(
        render::stamps::MANIFEST,
        render::stamps::manifest(entries).as_bytes(),
    )
    .with_context(|| format!("cannot write {}", render::stamps::MANIFEST))?;
    laps.lap("manifest");
    staging
        .commit()
        .with_context(|| format!("cannot move the finished build to {}", out.display()))?;
    laps.lap("swap in, delete the previous output");
    let portals = site.portals.len();
    drop(stamps);
    drop(manifest);
    drop_in_background(site);
    Ok(BuildOutcome::Built(
        BuildReport {
            pages: stats.pages + stats.reused,
            reused: stats.reused,
            files: stats.files + stats.reused + search.files + 1,
            portals,
            elapsed: started.elapsed(),
            search,
        },
        diagnostics,
    ))
}

/// Frees the site on a thread of its own: tens of thousands of small allocations take
/// a tenth of a second to free, and a `lotse build` that ends before they are done
/// leaves that to the operating system.
fn drop_in_background(site: Site) {
    std::thread::spawn(move || drop(site));
}

/// Where a build's time goes, on stderr when `LOTSE_TIMINGS` is set (docs/benchmarks.md).
struct Laps {
    last: std::cell::Cell<Instant>,
    on: bool,
}

impl Laps {
    fn new(started: Instant) -> Laps {
        Laps {
            last: std::cell::Cell::new(started),
            on: std::env::var_os("LOTSE_TIMINGS").is_some(),
        }
    }

    fn lap(&self, stage: &str) {
        if self.on {
            let now = Instant::now();
            let ms = (now - self.last.get()).as_secs_f64() * 1e3;
            match resident_mb() {
                Some(mb) => eprintln!("timing: {stage}: {ms:.0} ms, {mb} MB resident"),
                None => eprintln!("timing: {stage}: {ms:.0} ms"),
            }
            self.last.set(now);
        }
    }
}

/// The process's resident memory now, in MB (Linux only).
#[cfg(target_os = "linux")]
fn resident_mb() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()? / 1_000_000)
}

#[cfg(not(target_os = "linux"))]
fn resident_mb() -> Option<u64> {
    None
}

pub fn render_with_progress(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    progress: bool,
) -> Result<render::RenderStats> {
    let nothing = render::NothingAfter;
    render_portals_with_progress(site, theme, sink, selection, progress, &nothing, None)
}

/// Renders as [`render_with_progress`] does, calling `after_portal` after each
/// portal's pages.
pub(crate) fn render_portals_with_progress(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    progress: bool,
    after_portal: &dyn render::AfterPortal,
    reuse: Option<&render::Reuse<'_>>,
) -> Result<render::RenderStats> {
    let total: usize = site
        .portals
        .iter()
        .map(|p| p.services.len() + p.pages.len())
        .sum();
    let bar = if progress && total > 500 {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} rendering {pos}/{len} pages {wide_bar} {eta}")
                .expect("static progress template is valid"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let on_page = || bar.inc(1);
    let stats =
        render::render_site_then(site, theme, sink, selection, &on_page, after_portal, reuse)?;
    bar.finish_and_clear();
    Ok(stats)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// Compared with the kernel's own figure in kilobytes, read right after: other tests
    /// in the same process allocate and free meanwhile, so a figure taken before and
    /// after touching memory here could move either way.
    #[test]
    fn resident_memory_is_the_kernels_figure_in_megabytes() {
        let mb = super::resident_mb().expect("Linux reports resident memory");
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in kB");
        let expected = kb * 1024 / 1_000_000;
        assert!(mb > 0, "a running test uses some memory");
        assert!(mb.abs_diff(expected) <= 16, "{mb} MB against VmRSS {kb} kB");
    }
}
