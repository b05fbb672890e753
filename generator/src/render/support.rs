//! The files written after the pages that are not pages: sitemaps, robots.txt,
//! Cloudflare's `_headers`, the theme's CSS and static files, the portals' logos, and
//! the JSON the functions read (office lists, form and appointment schemas). They are
//! small and cheap, so they are written on every render, whatever the selection.

use anyhow::{Context as _, Result};
use lotse_model::appointment::appointment_path;

use super::jobs::{canonical, Job};
use super::schemas::{bookable_service, form_schema, page_form_schema};
use super::{extras, sitemap, workspace};
use crate::resolve::Site;
use crate::theme::Theme;

/// Writes the sitemaps through `put`: they list the pages of `jobs` (the whole site's
/// plan, rendered this time or not, with their `paths`) but the 404 page.
pub(super) fn put_sitemaps(
    site: &Site,
    jobs: &[Job<'_>],
    paths: &[String],
    put: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
) -> Result<()> {
    let pages = jobs
        .iter()
        .zip(paths)
        .filter(|(job, _)| !matches!(job, Job::NotFound))
        .map(|(job, path)| {
            let portal = job.portal().map(|ps| &ps.portal);
            let url = canonical(site, portal, path);
            (portal.map(|p| p.slug.as_str()), url)
        });
    let limits = sitemap::Limits::SITEMAPS_ORG;
    for (path, xml) in sitemap::files(&site.region.base_url, pages, limits) {
        put(&path, xml.as_bytes())?;
    }
    Ok(())
}

/// Writes every other support file through `put`.
pub(super) fn put_all(
    site: &Site,
    theme: &Theme,
    put: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
) -> Result<()> {
    put(
        "robots.txt",
        workspace::robots_txt(&site.region.base_url).as_bytes(),
    )?;
    put(
        "_headers",
        extras::headers_file(&extras::payment_origins(site)).as_bytes(),
    )?;
    put(
        "theme.css",
        extras::theme_css(site.region.theme.primary.as_deref()).as_bytes(),
    )?;
    for (path, bytes) in &theme.static_files {
        put(&workspace::static_path(path), bytes)?;
    }
    for ps in &site.portals {
        let slug = &ps.portal.slug;
        put(
            &format!("{slug}/theme.css"),
            extras::theme_css(ps.portal.theme.primary.as_deref()).as_bytes(),
        )?;
        if let Some(logo) = &ps.portal.theme.logo {
            let bytes = std::fs::read(ps.dir.join(logo))
                .with_context(|| format!("cannot read logo {}", ps.dir.join(logo).display()))?;
            put(&format!("{slug}/{logo}"), &bytes)?;
        }
        // Which offices exist, for the office inbox (404 for an unknown one).
        let offices = lotse_functions::OfficeList {
            portal: slug.clone(),
            offices: ps.portal.offices.iter().map(|o| o.id.clone()).collect(),
        };
        put(
            &lotse_functions::offices_path(slug),
            &serde_json::to_vec_pretty(&offices)?,
        )?;
        for s in &ps.services {
            if let Some(schema) = form_schema(&ps.portal, s) {
                let json = serde_json::to_vec_pretty(&schema)?;
                put(&format!("forms/{slug}/{}.json", s.service.slug), &json)?;
            }
        }
        let weeks = site.region.booking_weeks();
        for s in &ps.services {
            if let Some(bookable) = bookable_service(&ps.portal, s, weeks) {
                let json = serde_json::to_vec_pretty(&bookable)?;
                put(&appointment_path(slug, &s.service.slug), &json)?;
            }
        }
        for page in &ps.pages {
            if let Some(schema) = page_form_schema(&ps.portal, page) {
                let json = serde_json::to_vec_pretty(&schema)?;
                put(&format!("forms/{slug}/{}.json", page.slug), &json)?;
            }
        }
    }
    Ok(())
}
