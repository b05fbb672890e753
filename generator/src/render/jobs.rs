//! The site as a list of page jobs. Planning every page up front gives one place that
//! knows each page's address, so the sitemap, the incremental selection under
//! `lotse serve` and the renderer all agree on which pages exist and where they live.

use lotse_model::{Category, Portal};

use super::Selection;
use crate::resolve::{Page, PortalSite, ResolvedService, Site};

/// One HTML page to render.
pub(super) enum Job<'a> {
    UmbrellaHome,
    UmbrellaCategory(&'a Category),
    UmbrellaPage(&'a Page),
    UmbrellaSearch,
    NotFound,
    PortalHome(&'a PortalSite),
    PortalCategory(&'a PortalSite, &'a Category),
    Service(&'a PortalSite, &'a ResolvedService),
    Az(&'a PortalSite),
    PortalSearch(&'a PortalSite),
    PortalPage(&'a PortalSite, &'a Page),
}

impl Job<'_> {
    /// Output path relative to the site root (`bottrop/hund-anmelden/index.html`).
    pub(super) fn path(&self) -> String {
        match self {
            Job::UmbrellaHome => "index.html".into(),
            Job::UmbrellaCategory(c) => format!("themen/{}/index.html", c.id),
            Job::UmbrellaPage(p) => format!("{}/index.html", p.slug),
            Job::UmbrellaSearch => "suche/index.html".into(),
            Job::NotFound => "404.html".into(),
            Job::PortalHome(ps) => format!("{}/index.html", ps.portal.slug),
            Job::PortalCategory(ps, c) => format!("{}/themen/{}/index.html", ps.portal.slug, c.id),
            Job::Service(ps, s) => format!("{}/{}/index.html", ps.portal.slug, s.service.slug),
            Job::Az(ps) => format!("{}/a-z/index.html", ps.portal.slug),
            Job::PortalSearch(ps) => format!("{}/suche/index.html", ps.portal.slug),
            Job::PortalPage(ps, p) => format!("{}/{}/index.html", ps.portal.slug, p.slug),
        }
    }

    /// Whether `selection` asks for this page to be rendered again.
    pub(super) fn selected(&self, selection: &Selection) -> bool {
        match self {
            Job::UmbrellaHome | Job::UmbrellaSearch | Job::NotFound => selection.wants_umbrella(),
            Job::UmbrellaCategory(c) => selection.wants_umbrella_category(&c.id),
            Job::UmbrellaPage(_) | Job::PortalPage(..) => selection.is_everything(),
            Job::PortalHome(ps) | Job::Az(ps) | Job::PortalSearch(ps) => {
                selection.wants_lists(&ps.portal.slug)
            }
            Job::PortalCategory(ps, c) => selection.wants_category(&ps.portal.slug, &c.id),
            Job::Service(ps, s) => selection.wants_service(&ps.portal.slug, &s.service.slug),
        }
    }

    /// The portal the page belongs to; `None` for the umbrella's pages.
    pub(super) fn portal(&self) -> Option<&PortalSite> {
        match self {
            Job::PortalHome(ps)
            | Job::PortalCategory(ps, _)
            | Job::Service(ps, _)
            | Job::Az(ps)
            | Job::PortalSearch(ps)
            | Job::PortalPage(ps, _) => Some(ps),
            _ => None,
        }
    }
}

/// Every page of the site, umbrella first, then portal by portal.
pub(super) fn plan(site: &Site) -> Vec<Job<'_>> {
    let mut jobs = vec![Job::UmbrellaHome, Job::UmbrellaSearch, Job::NotFound];
    jobs.extend(site.categories.iter().map(Job::UmbrellaCategory));
    jobs.extend(site.pages.iter().map(Job::UmbrellaPage));
    for ps in &site.portals {
        jobs.push(Job::PortalHome(ps));
        jobs.push(Job::Az(ps));
        jobs.push(Job::PortalSearch(ps));
        for category in &site.categories {
            if ps
                .services
                .iter()
                .any(|s| s.service.categories.contains(&category.id))
            {
                jobs.push(Job::PortalCategory(ps, category));
            }
        }
        jobs.extend(ps.services.iter().map(|s| Job::Service(ps, s)));
        jobs.extend(ps.pages.iter().map(|p| Job::PortalPage(ps, p)));
    }
    jobs
}

/// The absolute address of the page at `path`: below the portal's own `base_url` when
/// it has one, else below the region's.
pub(super) fn canonical(site: &Site, portal: Option<&Portal>, path: &str) -> String {
    let dir = path.strip_suffix("index.html").unwrap_or(path);
    match portal.and_then(|p| p.base_url.as_deref().map(|base| (p, base))) {
        Some((p, base)) => {
            let inner = dir.strip_prefix(&format!("{}/", p.slug)).unwrap_or(dir);
            format!("{base}/{inner}")
        }
        None => format!("{}/{dir}", site.region.base_url),
    }
}
