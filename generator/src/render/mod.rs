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
/// indexing share one conversion of each body and memory holds one portal's bodies at
/// a time. Called once per portal, in order, after the umbrella's pages.
pub(crate) trait AfterPortal: Sync {
    /// Whether [`AfterPortal::done`] needs the bodies of all the portal's services,
    /// not only those of the pages rendered this time (some may be reused).
    fn needs_bodies(&self, _ps: &PortalSite) -> bool {
        true
    }

    fn done(&self, ps: &PortalSite, bodies: &Bodies) -> Result<()>;
}

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
    // The jobs to render of the umbrella (`None`) and of each portal, in one pass;
    // with `reuse`, the unchanged ones are linked on the way.
    let selected: Vec<(&Job<'_>, &str)> = all_jobs
        .iter()
        .zip(&paths)
        .filter(|(job, _)| job.selected(selection))
        .map(|(job, path)| (job, path.as_str()))
        .collect();
    let (to_render, stamps) = match reuse {
        Some(reuse) => reuse::take_unchanged(&selected, reuse, sink, on_page),
        None => (selected.iter().map(|(job, _)| *job).collect(), Vec::new()),
    };
    let reused = selected.len() - to_render.len();
    let mut groups: HashMap<Option<*const PortalSite>, Vec<&Job<'_>>> = HashMap::new();
    for job in to_render {
        let portal = job.portal().map(|ps| ps as *const PortalSite);
        groups.entry(portal).or_default().push(job);
    }
    // The bodies each portal needs: its rendered pages', and all its services' where
    // `after_portal` asks for them.
    // Per portal: the jobs whose bodies it needs, the first `rendered` of them to render.
    let mut needed: Vec<(Vec<&Job<'_>>, usize)> = Vec::with_capacity(site.portals.len());
    for ps in &site.portals {
        let mut jobs = groups
            .remove(&Some(ps as *const PortalSite))
            .unwrap_or_default();
        let rendered = jobs.len();
        if after_portal.needs_bodies(ps) {
            let rendering: std::collections::HashSet<*const Job<'_>> =
                jobs.iter().map(|job| *job as *const Job<'_>).collect();
            jobs.extend(all_jobs.iter().filter(|job| {
                matches!(job, Job::Service(owner, _) if std::ptr::eq(*owner, ps))
                    && !rendering.contains(&(*job as *const Job<'_>))
            }));
        }
        needed.push((jobs, rendered));
    }
    let shared = Bodies::shared(needed.iter().map(|(jobs, _)| jobs.as_slice()));
    let umbrella = groups.remove(&None).unwrap_or_default();
    let bodies = Bodies::of_jobs(&umbrella, Some(&shared));
    let mut rendered = render_with(&renderer, sink, &umbrella, &bodies, on_page)?;
    drop(bodies);
    // A portal's `after_portal` (its index) runs on a thread of its own while the next
    // portal renders, so that its serial steps overlap the next portal's parallel ones;
    // the channel holds one portal, so at most two portals' bodies are alive at once.
    std::thread::scope(|scope| -> Result<()> {
        let (send, receive) = std::sync::mpsc::sync_channel::<(&PortalSite, Bodies)>(0);
        let after = scope.spawn(move || -> Result<()> {
            for (ps, bodies) in receive {
                after_portal.done(ps, &bodies)?;
            }
            Ok(())
        });
        for (ps, (jobs, count)) in site.portals.iter().zip(&needed) {
            let bodies = Bodies::of_jobs(jobs, Some(&shared));
            rendered += render_with(&renderer, sink, &jobs[..*count], &bodies, on_page)?;
            if send.send((ps, bodies)).is_err() {
                break; // the worker stopped on an error, which `join` returns
            }
        }
        drop(send);
        after
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("a portal's post-processing panicked")))
    })?;

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
