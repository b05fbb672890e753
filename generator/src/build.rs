//! The pipeline, end to end: load -> resolve -> check -> render -> write.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::load;
use crate::output::{DiskSink, Staging};
use crate::render::{self, Selection, Sink, Theme};
use crate::resolve::{self, PortalSite, Site};
use crate::search::{IndexStats, Previous, PreviousDir, SiteIndexer};

/// Loads, resolves and checks a content folder. Returns the site when there are no
/// errors, and every diagnostic (errors and warnings) either way.
pub fn check(content: &Path) -> (Option<Site>, Vec<Diagnostic>) {
    let diags = Diagnostics::new();
    let loaded = load::load(content, &diags);
    let site = resolve::resolve(&loaded);
    if let Some(site) = &site {
        crate::check::check(&loaded, site, &diags);
    }
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

pub struct BuildReport {
    pub pages: usize,
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
    let (site, diagnostics) = check(content);
    let Some(site) = site else {
        return Ok(BuildOutcome::Invalid(diagnostics));
    };
    let theme = Theme::load(Some(theme_dir))?;
    let staging = Staging::begin(out)
        .with_context(|| format!("cannot create a build folder next to {}", out.display()))?;
    let sink = DiskSink::new(staging.dir().to_path_buf());
    let selection = Selection::everything();
    // The search index goes into the staging folder too, so it swaps in with the pages.
    // Each portal is indexed right after its pages, from the same converted bodies;
    // indexes whose records did not change are copied from the previous build.
    let previous = (options.search && out.is_dir()).then(|| PreviousDir(out.to_path_buf()));
    let previous = previous.as_ref().map(|p| p as &dyn Previous);
    let indexer = options
        .search
        .then(|| SiteIndexer::new(&site, &sink, previous));
    let after_portal = |ps: &PortalSite, bodies: &render::Bodies| match &indexer {
        Some(indexer) => indexer
            .portal(ps, bodies)
            .context("cannot build the search index"),
        None => Ok(()),
    };
    let stats = render_portals_with_progress(
        &site,
        &theme,
        &sink,
        &selection,
        options.progress,
        &after_portal,
    )?;
    let search = match indexer {
        Some(indexer) => indexer.finish().context("cannot build the search index")?,
        None => IndexStats::default(),
    };
    staging
        .commit()
        .with_context(|| format!("cannot move the finished build to {}", out.display()))?;
    Ok(BuildOutcome::Built(
        BuildReport {
            pages: stats.pages,
            files: stats.files + search.files,
            portals: site.portals.len(),
            elapsed: started.elapsed(),
            search,
        },
        diagnostics,
    ))
}

pub fn render_with_progress(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    progress: bool,
) -> Result<render::RenderStats> {
    render_portals_with_progress(site, theme, sink, selection, progress, &|_, _| Ok(()))
}

/// Renders as [`render_with_progress`] does, calling `after_portal` after each
/// portal's pages.
pub(crate) fn render_portals_with_progress(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    progress: bool,
    after_portal: &render::AfterPortal<'_>,
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
    let stats =
        render::render_site_then(site, theme, sink, selection, &|| bar.inc(1), after_portal)?;
    bar.finish_and_clear();
    Ok(stats)
}
