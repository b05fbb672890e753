//! What `lotse serve` keeps between edits: the loaded content (`load::Loader`), its
//! resolution and diagnostics, and the files served. After an edit only the changed
//! files are read again, only the portals they belong to are resolved again, and only
//! the pages whose inputs changed are rendered (`render::changes`); the checks run on
//! the whole site, so the diagnostics are always those of a full `lotse check`.
//! Changes to region.toml or categories.toml read everything again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use rayon::prelude::*;

use super::MemorySink;
use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::load::{Loader, Update};
use crate::render::{self, RenderStats, Selection, Theme};
use crate::resolve::{self, layers, Page, PortalSite, Site};

/// The content of a `lotse serve` run and the files rendered from it.
pub struct Reloader {
    loader: Loader,
    /// `None` when region.toml could not be read.
    site: Option<Site>,
    diagnostics: Vec<Diagnostic>,
    /// What the served files were rendered from, compared with `site`.
    rendered: Rendered,
    files: Arc<MemorySink>,
    timings: Timings,
    /// The portals (by slug) whose pages the last render changed; `None` for all.
    touched: Option<BTreeSet<String>>,
}

/// What the served files show.
enum Rendered {
    /// Nothing yet, or something no longer known: render everything.
    Nothing,
    /// `site` as it is.
    Current,
    /// `site`, but these portals (by index) and, if set, these umbrella pages as they
    /// were: edits since the last rendering changed only them.
    Behind {
        portals: BTreeMap<usize, PortalSite>,
        pages: Option<Vec<Page>>,
    },
    /// This site (before a full reload).
    Site(Box<Site>),
}

/// How long the last update's stages took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    pub load: Duration,
    pub resolve: Duration,
    pub check: Duration,
    pub render: Duration,
}

impl Reloader {
    /// Loads, resolves and checks `content`; nothing is rendered yet.
    pub fn new(content: &Path) -> Reloader {
        let started = Instant::now();
        let loader = Loader::new(content);
        let load = started.elapsed();
        let site = resolve::resolve(loader.content());
        let mut reloader = Reloader {
            loader,
            site,
            diagnostics: Vec::new(),
            rendered: Rendered::Nothing,
            files: Arc::new(MemorySink::default()),
            timings: Timings::default(),
            touched: None,
        };
        reloader.timings.load = load;
        reloader.timings.resolve = started.elapsed() - load;
        reloader.check();
        reloader
    }

    /// Takes in the changed `paths` (files or folders, absolute or as below the
    /// content folder given to [`Reloader::new`]): reads them again, resolves what they
    /// belong to and checks the whole site. Paths outside the content are ignored.
    pub fn update(&mut self, paths: &[PathBuf]) {
        let started = Instant::now();
        let update = self.loader.update(paths);
        self.timings.load = started.elapsed();
        let started = Instant::now();
        match (update, &mut self.site) {
            (Update::Partial(changed), Some(site)) => {
                let content = self.loader.content();
                let affected = resolve::affected_portals(content, &changed);
                let regional = layers::regional(content);
                let fresh: Vec<(usize, PortalSite)> = affected
                    .into_par_iter()
                    .map(|i| {
                        let loaded = &content.portals[i];
                        (
                            i,
                            resolve::resolve_portal(content, &regional, &site.region, loaded),
                        )
                    })
                    .collect();
                for (i, portal) in fresh {
                    let old = std::mem::replace(&mut site.portals[i], portal);
                    self.rendered.replaced_portal(i, old);
                }
                let pages = resolve::umbrella_pages(content, &site.region, &site.portals);
                if pages != site.pages {
                    let old = std::mem::replace(&mut site.pages, pages);
                    self.rendered.replaced_pages(old);
                }
            }
            (_, site) => {
                // Everything read again (or no region to resolve against before).
                let old = site.take();
                self.rendered = match (
                    std::mem::replace(&mut self.rendered, Rendered::Nothing),
                    old,
                ) {
                    (Rendered::Current, Some(old)) => Rendered::Site(Box::new(old)),
                    (Rendered::Site(rendered), _) => Rendered::Site(rendered),
                    _ => Rendered::Nothing,
                };
                self.site = resolve::resolve(self.loader.content());
            }
        }
        self.timings.resolve = started.elapsed();
        self.check();
    }

    /// Runs the checks on the whole site, as `lotse check` does after loading.
    fn check(&mut self) {
        let started = Instant::now();
        let diags = Diagnostics::new();
        if let Some(site) = &self.site {
            crate::check::check(self.loader.content(), site, &diags);
        }
        let mut all: Vec<Diagnostic> = self.loader.diagnostics().cloned().collect();
        all.extend(diags.sorted());
        all.sort();
        all.dedup();
        self.diagnostics = all;
        self.timings.check = started.elapsed();
    }

    /// Every diagnostic of the content as it is now, in file and position order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// The resolved site, errors or not (`None` without a readable region.toml).
    pub fn site(&self) -> Option<&Site> {
        self.site.as_ref()
    }

    /// The files served: the last rendering.
    pub fn files(&self) -> &Arc<MemorySink> {
        &self.files
    }

    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// The portals (by slug) whose pages the last [`Reloader::render`] changed, so
    /// whose search index may have; `None` when it rendered everything.
    pub fn touched_portals(&self) -> Option<&BTreeSet<String>> {
        self.touched.as_ref()
    }

    /// Renders the pages that changed since the last rendering (all of them with
    /// `everything`, after a theme change) into a new set of files, the others carried
    /// over. Refuses while the content has errors: the last files stay served.
    pub fn render(&mut self, theme: &Theme, everything: bool) -> Result<RenderStats> {
        let started = Instant::now();
        if self.has_errors() {
            anyhow::bail!("the content has errors");
        }
        let Some(site) = self.site.as_mut() else {
            anyhow::bail!("region.toml could not be read");
        };
        let rendered = std::mem::replace(&mut self.rendered, Rendered::Nothing);
        let selection = match rendered {
            _ if everything => Selection::everything(),
            Rendered::Nothing => Selection::everything(),
            Rendered::Current => Selection::default(),
            Rendered::Site(old) => render::changes(&old, site),
            Rendered::Behind { portals, pages } => changes_in(site, portals, pages),
        };
        self.touched = touched_portals(&selection);
        let files = self.files.snapshot();
        let stats = render::render_site(site, theme, &files, &selection, &|| {})?;
        files.retain(&stats.paths);
        self.files = Arc::new(files);
        self.rendered = Rendered::Current;
        self.timings.render = started.elapsed();
        Ok(stats)
    }
}

fn touched_portals(selection: &Selection) -> Option<BTreeSet<String>> {
    if selection.is_everything() {
        return None;
    }
    let lists = selection.portal_lists.keys().cloned();
    let services = selection.services.iter().map(|(portal, _)| portal.clone());
    Some(lists.chain(services).collect())
}

impl Rendered {
    /// Portal `i` of the site was replaced; `old` is what it was.
    fn replaced_portal(&mut self, i: usize, old: PortalSite) {
        match self {
            Rendered::Current => {
                *self = Rendered::Behind {
                    portals: BTreeMap::from([(i, old)]),
                    pages: None,
                }
            }
            Rendered::Behind { portals, .. } => {
                // The first replaced version is the one rendered.
                portals.entry(i).or_insert(old);
            }
            Rendered::Nothing | Rendered::Site(_) => {}
        }
    }

    /// The umbrella pages were replaced; `old` is what they were.
    fn replaced_pages(&mut self, old: Vec<Page>) {
        match self {
            Rendered::Current => {
                *self = Rendered::Behind {
                    portals: BTreeMap::new(),
                    pages: Some(old),
                }
            }
            Rendered::Behind { pages, .. } => {
                pages.get_or_insert(old);
            }
            Rendered::Nothing | Rendered::Site(_) => {}
        }
    }
}

/// `render::changes` between the site as rendered and `site`, where only the portals
/// in `old_portals` and (if given) the umbrella pages differ: compared on a site of
/// just those parts, which gives the same selection as comparing the whole sites
/// (every other part is the same in both) without walking every portal.
fn changes_in(
    site: &mut Site,
    old_portals: BTreeMap<usize, PortalSite>,
    old_pages: Option<Vec<Page>>,
) -> Selection {
    let mut rest: Vec<Option<PortalSite>> = Vec::with_capacity(site.portals.len());
    let mut changed = Vec::with_capacity(old_portals.len());
    for (i, portal) in std::mem::take(&mut site.portals).into_iter().enumerate() {
        if old_portals.contains_key(&i) {
            changed.push(portal);
            rest.push(None);
        } else {
            rest.push(Some(portal));
        }
    }
    let pages_changed = old_pages.is_some();
    let after = Site {
        region: site.region.clone(),
        categories: site.categories.clone(),
        portals: changed,
        pages: if pages_changed {
            std::mem::take(&mut site.pages)
        } else {
            Vec::new()
        },
    };
    let before = Site {
        region: site.region.clone(),
        categories: site.categories.clone(),
        portals: old_portals.into_values().collect(),
        pages: old_pages.unwrap_or_default(),
    };
    let selection = render::changes(&before, &after);
    let mut changed = after.portals.into_iter();
    site.portals = rest
        .into_iter()
        .map(|p| p.or_else(|| changed.next()).expect("one portal per index"))
        .collect();
    if pages_changed {
        site.pages = after.pages;
    }
    selection
}
