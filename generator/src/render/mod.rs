//! Stage 3: render the resolved site through the theme's templates into output files.
//! Pages are independent, so they render in parallel and go straight to the sink: the
//! whole site is never held in memory. This file only strings the parts together:
//! plan the pages (`jobs.rs`), convert their bodies once (`bodies.rs`), render the
//! selected ones (`renderer.rs`), then write the files that are not pages
//! (`support.rs`, `redirects.rs`, `videos.rs`, `workspace.rs`).

mod bodies;
mod context;
pub mod extras;
mod jobs;
mod lists;
mod pages;
mod redirects;
mod renderer;
mod reuse;
mod schemas;
mod selection;
mod sink;
pub mod sitemap;
pub mod stamps;
mod support;
mod videos;
pub mod workspace;

pub(crate) use bodies::Bodies;
pub(crate) use reuse::Reuse;
pub use schemas::{bookable_service, form_schema, page_form_schema};
pub use selection::{changes, Selection};
pub use sink::{RenderStats, Sink};
pub(crate) use stamps::Stamps;

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use lotse_model::Portal;
use rayon::prelude::*;

use crate::resolve::{PortalSite, Site};
pub use crate::theme::Theme;
use jobs::{plan, Job};
use renderer::Renderer;

/// What runs after a portal's pages are written, with the bodies they showed, before
/// those are dropped: `lotse build` indexes the portal there, so that rendering and
/// indexing share one conversion of each body and memory holds the bodies of a few
/// portals at a time, not the region's. Called once per portal, after the umbrella's
/// pages, in the portals' order but up to [`AFTER_WORKERS`] at once.
pub(crate) trait AfterPortal: Sync {
    /// Whether [`AfterPortal::done`] needs the bodies of all the portal's services,
    /// not only those of the pages rendered this time (some may be reused).
    fn needs_bodies(&self, _ps: &PortalSite) -> bool {
        true
    }

    fn done(&self, ps: &PortalSite, bodies: &Bodies) -> Result<()>;
}

/// How many portals' [`AfterPortal::done`] (their indexes) run at once. A portal's
/// index takes longer than its pages and ends in a serial merge; with two, one merge
/// overlaps the other index's parallel steps, at the cost of one more index in memory
/// (docs/benchmarks.md, A/B on the 18,200-service corpus: 7 % faster, 50–70 MB more;
/// 104 MB more on 54,600 services).
const AFTER_WORKERS: usize = 2;

/// Nothing after a portal.
pub(crate) struct NothingAfter;

impl AfterPortal for NothingAfter {
    fn needs_bodies(&self, _ps: &PortalSite) -> bool {
        false
    }

    fn done(&self, _ps: &PortalSite, _bodies: &Bodies) -> Result<()> {
        Ok(())
    }
}

/// Renders every page and support file of the site into `sink`. `on_page` is called
/// once per finished page (for progress display).
pub fn render_site(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    on_page: &(dyn Fn() + Sync),
) -> Result<RenderStats> {
    render_site_then(site, theme, sink, selection, on_page, &NothingAfter, None)
}

/// [`render_site`], portal by portal, calling `after_portal` after each. With `reuse`,
/// a page whose stamp is the previous build's is linked from there, not rendered.
pub(crate) fn render_site_then(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    on_page: &(dyn Fn() + Sync),
    after_portal: &dyn AfterPortal,
    reuse: Option<&Reuse<'_>>,
) -> Result<RenderStats> {
    let all_jobs = plan(site);
    let paths: Vec<String> = all_jobs.iter().map(Job::path).collect();
    let renderer = Renderer::new(site, theme);
    let selected: Vec<(&Job<'_>, &str)> = all_jobs
        .iter()
        .zip(&paths)
        .filter(|(job, _)| job.selected(selection))
        .map(|(job, path)| (job, path.as_str()))
        .collect();
    // Which pages the previous build holds unchanged: decided here, taken portal by
    // portal below, so that a portal's index is made while the next portal's pages
    // are linked.
    let (unchanged, stamps) = match reuse {
        Some(reuse) => reuse::unchanged(&selected, reuse),
        None => (vec![false; selected.len()], Vec::new()),
    };
    // By the umbrella (`None`) and each portal: the pages to take and to render.
    let mut groups: HashMap<Option<*const PortalSite>, Group<'_, '_>> = HashMap::new();
    for (&(job, path), same) in selected.iter().zip(unchanged) {
        let group = groups
            .entry(job.portal().map(|ps| ps as *const PortalSite))
            .or_default();
        if same {
            group.take.push((job, path));
        } else {
            group.render.push(job);
        }
    }
    let mut umbrella = groups.remove(&None).unwrap_or_default();
    let mut portals: Vec<Group<'_, '_>> = site
        .portals
        .iter()
        .map(|ps| {
            let mut group = groups
                .remove(&Some(ps as *const PortalSite))
                .unwrap_or_default();
            // The bodies the portal needs besides its rendered pages': all its
            // services' where `after_portal` asks for them.
            if after_portal.needs_bodies(ps) {
                let rendering: std::collections::HashSet<*const Job<'_>> = group
                    .render
                    .iter()
                    .map(|job| *job as *const Job<'_>)
                    .collect();
                group.bodies_only = all_jobs
                    .iter()
                    .filter(|job| {
                        matches!(job, Job::Service(owner, _) if std::ptr::eq(*owner, ps))
                            && !rendering.contains(&(*job as *const Job<'_>))
                    })
                    .collect();
            }
            group
        })
        .collect();
    // The bodies each portal will convert, for the regional texts several share.
    let converting: Vec<Vec<&Job<'_>>> = portals
        .iter()
        .map(|g| g.render.iter().chain(&g.bodies_only).copied().collect())
        .collect();
    let shared = Bodies::shared(converting.iter().map(Vec::as_slice))?;
    drop(converting);
    let folder = reuse.map(|r| r.folder);
    let (mut rendered, _) = umbrella.take_and_render(&renderer, sink, folder, &shared, on_page)?;
    // A portal's `after_portal` (its index) runs on a worker thread while the next
    // portals are taken and rendered, so that its serial steps overlap the next
    // portal's parallel ones and another portal's index. The channel holds no portal:
    // at most AFTER_WORKERS + 1 portals' bodies are alive at once.
    let (send, receive) = std::sync::mpsc::sync_channel::<(&PortalSite, Bodies)>(0);
    let receive = std::sync::Mutex::new(receive);
    let next = || {
        receive
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .recv()
            .ok()
    };
    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..AFTER_WORKERS)
            .map(|_| {
                scope.spawn(move || -> Result<()> {
                    while let Some((ps, bodies)) = next() {
                        after_portal.done(ps, &bodies)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for (ps, group) in site.portals.iter().zip(&mut portals) {
            // A worker ends before the channel closes only on an error (which `join`
            // returns): the other portals are then not rendered for nothing.
            if workers.iter().any(|worker| worker.is_finished()) {
                break;
            }
            let (count, bodies) =
                group.take_and_render(&renderer, sink, folder, &shared, on_page)?;
            rendered += count;
            if send.send((ps, bodies)).is_err() {
                break;
            }
        }
        drop(send);
        workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a portal's post-processing panicked")))
        })
    })?;
    let reused = selected.len() - rendered;

    // The files that are not pages, in independent groups at once: under `lotse
    // serve` an edit renders a page or two, and these are most of the work left.
    let canonical = |portal: &Portal, path: &str| jobs::canonical(site, Some(portal), path);
    let groups: [&PutGroup<'_>; 5] = [
        &|put| support::put_sitemaps(site, &all_jobs, &paths, put),
        &|put| support::put_all(site, theme, put),
        &|put| redirects::put_all(site, &canonical, put),
        &|put| videos::put_all(site, put),
        &|put| workspace::put_all(site, theme, put),
    ];
    let written: Vec<Vec<String>> = groups
        .par_iter()
        .map(|group| -> Result<Vec<String>> {
            let mut written = Vec::new();
            group(&mut |path: &str, bytes: &[u8]| -> Result<()> {
                written.push(path.to_string());
                sink.put(path, bytes)
                    .with_context(|| format!("cannot write {path}"))
            })?;
            Ok(written)
        })
        .collect::<Result<_>>()?;
    let files: usize = written.iter().map(Vec::len).sum();
    let mut paths = paths;
    paths.extend(written.into_iter().flatten());
    Ok(RenderStats {
        pages: rendered,
        reused,
        files: rendered + files,
        paths,
        stamps,
    })
}

/// The selected pages of the umbrella or of one portal.
#[derive(Default)]
struct Group<'j, 'a> {
    /// Unchanged: taken from the previous build (rendered if that fails).
    take: Vec<(&'j Job<'a>, &'j str)>,
    render: Vec<&'j Job<'a>>,
    /// Taken pages whose bodies are needed all the same (for the portal's index).
    bodies_only: Vec<&'j Job<'a>>,
}

impl<'j, 'a> Group<'j, 'a> {
    /// Takes the unchanged pages, renders the others; returns how many were rendered
    /// and the bodies they (and `bodies_only`) showed.
    fn take_and_render(
        &mut self,
        renderer: &Renderer<'_>,
        sink: &dyn Sink,
        folder: Option<&std::path::Path>,
        shared: &Bodies,
        on_page: &(dyn Fn() + Sync),
    ) -> Result<(usize, Bodies)> {
        if let Some(folder) = folder {
            let failed = reuse::take(&self.take, folder, sink, on_page);
            self.render.extend(failed);
        }
        let mut needed = self.render.clone();
        needed.extend(&self.bodies_only);
        let bodies = Bodies::of_jobs(&needed, Some(shared))?;
        let count = render_with(renderer, sink, &self.render, &bodies, on_page)?;
        Ok((count, bodies))
    }
}

/// A group of files that are not pages, written through the function it is given.
type PutGroup<'a> = dyn Fn(&mut dyn FnMut(&str, &[u8]) -> Result<()>) -> Result<()> + Sync + 'a;

/// Renders `jobs` in parallel, each page straight to the sink.
fn render_with(
    renderer: &Renderer<'_>,
    sink: &dyn Sink,
    jobs: &[&Job<'_>],
    bodies: &Bodies,
    on_page: &(dyn Fn() + Sync),
) -> Result<usize> {
    jobs.par_iter().try_for_each(|job| -> Result<()> {
        let html = renderer.render(job, bodies)?;
        let path = job.path();
        sink.put(&path, html.as_bytes())
            .with_context(|| format!("cannot write {path}"))?;
        on_page();
        Ok(())
    })?;
    Ok(jobs.len())
}
