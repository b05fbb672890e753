//! Stage 2: merge regional services with local overrides into the list each portal
//! offers, sorted, with the default pages added. Resolution only merges: what it must
//! leave out (a second override, an unknown `extends` ...) it leaves out silently, and
//! the check stage (`check/`) reports it. The rules are documented in
//! docs/content-format.md.

pub mod layers;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lotse_model::appointment::ServiceAppointment;
use lotse_model::payment::default_purpose;
use lotse_model::service::ServicePayment;
use lotse_model::{Category, Portal, Provider, Region, Service};

use rayon::prelude::*;

use crate::body::Body;
use crate::default_pages;
use crate::load::{Changed, Content, LoadedPortal, PageDraft, ServiceDraft};

/// The whole region, resolved, ready to check and render.
pub struct Site {
    pub region: Region,
    pub categories: Vec<Category>,
    pub portals: Vec<PortalSite>,
    pub pages: Vec<Page>,
}

pub struct PortalSite {
    pub portal: Portal,
    /// Folder of portal.toml, where the logo lives.
    pub dir: PathBuf,
    /// Sorted by title as a German reader expects (ä filed with a).
    pub services: Vec<ResolvedService>,
    pub pages: Vec<Page>,
}

#[derive(Debug, PartialEq)]
pub struct ResolvedService {
    pub service: Service,
    /// Markdown body, its place in the file; shared between portals that inherit the
    /// same regional text.
    pub body: Option<Arc<Body>>,
}

#[derive(Debug, PartialEq)]
pub struct Page {
    pub slug: String,
    pub title: String,
    pub description: Option<String>,
    pub weight: i64,
    pub body: Arc<str>,
    /// An online form on the page, submitted like an application (the feedback form of
    /// the accessibility statement, `feedback.rs`).
    pub form: Option<PageForm>,
    /// A video on the page (the Gebärdensprache video, `check/accessibility.rs`).
    pub video: Option<Video>,
}

/// A page's video: a file next to the page, copied into the page's folder, or an
/// address elsewhere.
#[derive(Debug, PartialEq)]
pub enum Video {
    File { source: PathBuf, name: String },
    Link(String),
}

impl Video {
    /// The video as written in `video`, for the page file at `page_path`.
    fn of(value: &str, page_path: &str) -> Video {
        if value.starts_with("https://") {
            Video::Link(value.to_string())
        } else {
            Video::File {
                source: Path::new(page_path).with_file_name(value),
                name: value.to_string(),
            }
        }
    }
}

/// A form on a free page: its schema goes to `forms/<portal>/<page>.json`.
#[derive(Debug, PartialEq)]
pub struct PageForm {
    pub title: String,
    /// The portal the form is submitted to (the page's own, or for the umbrella's
    /// statement region.toml's `feedback_portal`).
    pub portal: String,
    pub office: String,
    pub form: lotse_model::Form,
}

/// Resolves the loaded content. Returns `None` when something essential (region.toml)
/// is missing, which loading reported.
pub fn resolve(content: &Content) -> Option<Site> {
    let region = content.region.clone()?;
    let regional = layers::regional(content);
    let portals: Vec<PortalSite> = content
        .portals
        .par_iter()
        .map(|loaded| resolve_portal(content, &regional, &region, loaded))
        .collect();
    let pages = umbrella_pages(content, &region, &portals);
    Some(Site {
        region,
        categories: content.categories.iter().map(|(c, _)| c.clone()).collect(),
        portals,
        pages,
    })
}

/// Resolves one portal: the services it offers (its local files merged over the
/// regional ones in `regional`), sorted, and its pages.
pub fn resolve_portal(
    content: &Content,
    regional: &HashMap<&str, &ServiceDraft>,
    region: &Region,
    loaded: &LoadedPortal,
) -> PortalSite {
    let mut portal = loaded.config.portal.clone();
    // A portal without its own payment provider uses the region's.
    if portal.payment.is_none() {
        portal.payment = region.payment.clone();
    }
    let plan = layers::plan(content, regional, loaded);
    let mut services: Vec<ResolvedService> = plan
        .entries
        .iter()
        .filter_map(|entry| finish_service(entry.draft(), loaded))
        .collect();
    services.sort_by_cached_key(|s| (sort_key(&s.service.title), s.service.slug.clone()));
    let mut pages = finish_pages(&loaded.pages);
    let contact = portal
        .office("buergerbuero")
        .or_else(|| portal.offices.first());
    default_pages::add_missing(&mut pages, &portal.name, contact, |slug| {
        services.iter().any(|s| s.service.slug == slug)
    });
    crate::feedback::attach(&mut pages, &portal);
    PortalSite {
        portal,
        dir: loaded.dir.clone(),
        services,
        pages,
    }
}

/// The umbrella's own pages, the default ones added; the accessibility statement's
/// feedback form goes to region.toml's `feedback_portal` among `portals`.
pub fn umbrella_pages(content: &Content, region: &Region, portals: &[PortalSite]) -> Vec<Page> {
    let mut pages = finish_pages(&content.pages);
    default_pages::add_missing(&mut pages, &region.name, None, |slug| {
        content.portals.iter().any(|p| p.config.portal.slug == slug)
    });
    if let Some(slug) = &region.feedback_portal {
        if let Some(ps) = portals.iter().find(|ps| &ps.portal.slug == slug) {
            crate::feedback::attach(&mut pages, &ps.portal);
        }
    }
    pages
}

/// The portals (indices into `content.portals`) whose resolution an edit may have
/// changed: those whose own files changed, and for a regional service every portal
/// that offered or offers it or has a local file of its slug or extending it.
pub fn affected_portals(content: &Content, changed: &Changed) -> BTreeSet<usize> {
    let mut out = changed.portals.clone();
    for change in &changed.regional {
        for (i, loaded) in content.portals.iter().enumerate() {
            let slug = loaded.config.portal.slug.as_str();
            let listed = |list: &[String]| list.iter().any(|p| p == "*" || p == slug);
            let local = loaded.services.iter().any(|s| {
                s.slug == change.slug || s.extends.as_ref().is_some_and(|e| e.value == change.slug)
            });
            if listed(&change.offered_before) || listed(&change.offered_after) || local {
                out.insert(i);
            }
        }
    }
    out
}

/// Turns a merged draft into the model's service as `loaded`'s portal offers it.
/// Drafts missing required keys were already reported and are left out.
fn finish_service(draft: ServiceDraft, loaded: &LoadedPortal) -> Option<ResolvedService> {
    let portal = &loaded.config.portal.slug;
    let provider = draft
        .provider
        .as_ref()
        .map_or(Provider::Kommune, |p| p.value);
    let title = draft.title?.value;
    // An invalid amount was reported; the service is then shown without a fee.
    let payment = draft.payment.and_then(|p| {
        let payment = p.value;
        Some(ServicePayment {
            amount: payment.amount?.value,
            purpose: payment
                .purpose
                .map_or_else(|| default_purpose(&title), |p| p.value),
        })
    });
    let aliases = draft
        .aliases
        .iter()
        .flatten()
        .filter_map(|a| layers::alias_path(portal, &a.value))
        .collect();
    Some(ResolvedService {
        service: Service {
            slug: draft.slug,
            title,
            summary: draft.summary?.value,
            categories: draft.categories?.into_iter().map(|c| c.value).collect(),
            office: draft.office.map(|o| o.value),
            provider,
            url: draft.url.map(|u| u.value),
            leika: draft.leika.map(|l| l.value),
            keywords: draft.keywords.unwrap_or_default(),
            documents: draft.documents.unwrap_or_default(),
            fees: draft.fees.unwrap_or_default(),
            deadlines: draft.deadlines.unwrap_or_default(),
            legal_basis: draft.legal_basis.unwrap_or_default(),
            processing_time: draft.processing_time.map(|p| p.value),
            login: draft.login.map(|l| l.value).unwrap_or_default(),
            form: draft.form.map(|f| f.value),
            payment,
            appointment: draft.appointment.and_then(|a| {
                Some(ServiceAppointment {
                    duration: a.value.duration?.value,
                })
            }),
            aliases,
        },
        body: draft.body,
    })
}

fn finish_pages(drafts: &[PageDraft]) -> Vec<Page> {
    let mut pages: Vec<Page> = drafts
        .iter()
        .map(|d| Page {
            slug: d.slug.clone(),
            title: d.title.clone(),
            description: d.description.clone(),
            weight: d.weight,
            body: Arc::from(d.body.as_str()),
            form: None,
            video: d.video.as_ref().map(|v| Video::of(&v.value, &d.loc.path)),
        })
        .collect();
    pages.sort_by(|a, b| a.weight.cmp(&b.weight).then_with(|| a.title.cmp(&b.title)));
    pages
}

/// Sort key that files umlauts with their base letter (DIN 5007-1), case-insensitive.
pub fn sort_key(title: &str) -> String {
    title
        .chars()
        .flat_map(|c| c.to_lowercase())
        .map(|c| match c {
            'ä' => 'a',
            'ö' => 'o',
            'ü' => 'u',
            'ß' => 's',
            other => other,
        })
        .collect()
}
