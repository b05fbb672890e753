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
mod schemas;
mod selection;
mod sink;
pub mod sitemap;
mod support;
mod videos;
pub mod workspace;

pub(crate) use bodies::Bodies;
pub use schemas::{bookable_service, form_schema, page_form_schema};
pub use selection::{changes, Selection};
pub use sink::{RenderStats, Sink};

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
pub(crate) type AfterPortal<'a> = dyn Fn(&PortalSite, &Bodies) -> Result<()> + Sync + 'a;

/// Renders every page and support file of the site into `sink`. `on_page` is called
/// once per finished page (for progress display).
pub fn render_site(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    on_page: &(dyn Fn() + Sync),
) -> Result<RenderStats> {
    render_site_then(site, theme, sink, selection, on_page, &|_, _| Ok(()))
}

/// [`render_site`], portal by portal, calling `after_portal` after each.
pub(crate) fn render_site_then(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    on_page: &(dyn Fn() + Sync),
    after_portal: &AfterPortal<'_>,
) -> Result<RenderStats> {
    let all_jobs = plan(site);
    let mut paths: Vec<String> = all_jobs.iter().map(Job::path).collect();
    let shared = Bodies::shared(site);
    let renderer = Renderer::new(site, theme);
    let mut rendered = 0;
    let umbrella: Vec<&Job<'_>> = all_jobs
        .iter()
        .filter(|job| job.portal().is_none() && job.selected(selection))
        .collect();
    let bodies = Bodies::of_jobs(&umbrella, Some(&shared));
    rendered += render_with(&renderer, sink, &umbrella, &bodies, on_page)?;
    for ps in &site.portals {
        let jobs: Vec<&Job<'_>> = all_jobs
            .iter()
            .filter(|job| job.portal().is_some_and(|p| std::ptr::eq(p, ps)))
            .filter(|job| job.selected(selection))
            .collect();
        let bodies = Bodies::of_jobs(&jobs, Some(&shared));
        rendered += render_with(&renderer, sink, &jobs, &bodies, on_page)?;
        after_portal(ps, &bodies)?;
    }

    let mut files = 0;
    let mut put = |path: &str, bytes: &[u8]| -> Result<()> {
        files += 1;
        paths.push(path.to_string());
        sink.put(path, bytes)
            .with_context(|| format!("cannot write {path}"))
    };
    support::put_all(site, theme, &all_jobs, &mut put)?;
    let canonical = |portal: &Portal, path: &str| jobs::canonical(site, Some(portal), path);
    redirects::put_all(site, &canonical, &mut put)?;
    videos::put_all(site, &mut put)?;
    workspace::put_all(site, theme, &mut put)?;
    Ok(RenderStats {
        pages: rendered,
        files: rendered + files,
        paths,
    })
}

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
