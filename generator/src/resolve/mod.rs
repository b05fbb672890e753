//! Stage 2: merge regional services with local overrides into the list each portal
//! offers, and check everything that spans files (categories, offices, portals, slugs).
//! The rules are documented in docs/content-format.md.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use lotse_model::{Category, Portal, Provider, Region, Service};

use crate::default_pages;
use crate::diagnostics::{hint, Diagnostics, Loc};
use crate::load::{Content, PageDraft, ServiceDraft};

/// Names a portal uses for its own pages; no service or page may take them.
pub const RESERVED_IN_PORTAL: [&str; 8] = [
    "themen", "a-z", "suche", "postfach", "status", "eingang", "assets", "pagefind",
];
/// Top-level names of the umbrella site; no portal or umbrella page may take them.
pub const RESERVED_AT_ROOT: [&str; 9] = [
    "themen", "api", "assets", "forms", "suche", "status", "eingang", "postfach", "pagefind",
];

/// The whole region, resolved and checked, ready to render.
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
    /// Markdown body; shared between portals that inherit the same regional text.
    pub body: Option<Arc<str>>,
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
/// is missing; every other problem is reported and left out.
pub fn resolve(content: Content, diags: &Diagnostics) -> Option<Site> {
    let region = content.region.clone()?;
    let category_ids: HashSet<&str> = content
        .categories
        .iter()
        .map(|(c, _)| c.id.as_str())
        .collect();
    let portal_slugs: Vec<&str> = content
        .portals
        .iter()
        .map(|p| p.config.portal.slug.as_str())
        .collect();

    for draft in &content.services {
        check_service_slug(draft, diags);
        check_categories(draft, &category_ids, diags);
        check_portal_list(draft, &portal_slugs, diags);
    }
    let regional: HashMap<&str, &ServiceDraft> = content
        .services
        .iter()
        .map(|s| (s.slug.as_str(), s))
        .collect();

    let mut portals = Vec::with_capacity(content.portals.len());
    let mut offered_anywhere: HashSet<&str> = HashSet::new();
    for loaded in &content.portals {
        let portal = &loaded.config.portal;
        let mut chosen: Vec<ServiceDraft> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for draft in &content.services {
            if offers(draft, &portal.slug) {
                position.insert(draft.slug.clone(), chosen.len());
                chosen.push(draft.clone());
                offered_anywhere.insert(&draft.slug);
            }
        }
        let mut overridden: HashMap<String, Loc> = HashMap::new();
        let mut local_only: HashMap<String, Arc<str>> = HashMap::new();
        for local in &loaded.services {
            check_service_slug(local, diags);
            check_categories(local, &category_ids, diags);
            let Some(target) = &local.extends else {
                if position.contains_key(&local.slug) {
                    diags.error(
                        Loc::file_start(&local.path),
                        format!(
                            "local service `{}` has the same slug as the regional service this portal offers; set `extends = \"{}\"` to override it",
                            local.slug, local.slug
                        ),
                    );
                    continue;
                }
                position.insert(local.slug.clone(), chosen.len());
                local_only.insert(local.slug.clone(), local.path.clone());
                chosen.push(local.clone());
                continue;
            };
            let Some(base) = regional.get(target.value.as_str()) else {
                let names: Vec<&str> = regional.keys().copied().collect();
                diags.error(
                    target.loc.clone(),
                    format!(
                        "`extends` names `{}`, but there is no regional service of that slug{}",
                        target.value,
                        hint(&target.value, &names)
                    ),
                );
                continue;
            };
            if let Some(first) = overridden.get(&base.slug) {
                diags.error(
                    target.loc.clone(),
                    format!(
                        "`{}` is already overridden in this portal at {first}",
                        base.slug
                    ),
                );
                continue;
            }
            if let Some(path) = local_only.get(&base.slug) {
                diags.error(
                    target.loc.clone(),
                    format!(
                        "this override would publish `{}` at the address of the local service {path}; rename one of them",
                        base.slug
                    ),
                );
                continue;
            }
            overridden.insert(base.slug.clone(), target.loc.clone());
            if local.slug != base.slug && position.contains_key(&local.slug) {
                diags.error(
                    Loc::file_start(&local.path),
                    format!(
                        "the file name `{}` clashes with another service of this portal",
                        local.slug
                    ),
                );
            }
            if is_empty_override(local) {
                diags.warning(
                    target.loc.clone(),
                    "this override sets nothing but `extends`; the regional service is used unchanged",
                );
            }
            let merged = merge(local, base);
            match position.get(&base.slug) {
                Some(&i) => chosen[i] = merged,
                None => {
                    diags.warning(
                        target.loc.clone(),
                        format!(
                            "`{}` does not list portal `{}` in `portals`; this override adds it here",
                            base.slug, portal.slug
                        ),
                    );
                    offered_anywhere.insert(&base.slug);
                    position.insert(base.slug.clone(), chosen.len());
                    chosen.push(merged);
                }
            }
        }

        let mut services: Vec<ResolvedService> = chosen
            .into_iter()
            .filter_map(|draft| finish_service(draft, loaded, diags))
            .collect();
        services.sort_by_cached_key(|s| (sort_key(&s.service.title), s.service.slug.clone()));
        check_page_paths(&services, &loaded.pages, diags);
        let mut pages = finish_pages(&loaded.pages);
        let contact = portal
            .office("buergerbuero")
            .or_else(|| portal.offices.first());
        default_pages::add_missing(&mut pages, &portal.name, contact, |slug| {
            services.iter().any(|s| s.service.slug == slug)
        });
        crate::feedback::attach(&mut pages, portal);
        portals.push(PortalSite {
            portal: portal.clone(),
            dir: loaded.dir.clone(),
            services,
            pages,
        });
    }

    for draft in &content.services {
        if !offered_anywhere.contains(draft.slug.as_str()) {
            diags.warning(
                Loc::file_start(&draft.path),
                "no portal offers this service: set `portals` (e.g. `[\"*\"]` for all)",
            );
        }
    }
    check_root_paths(&content, diags);
    let mut umbrella_pages = finish_pages(&content.pages);
    default_pages::add_missing(&mut umbrella_pages, &region.name, None, |slug| {
        content.portals.iter().any(|p| p.config.portal.slug == slug)
    });
    if let Some(slug) = &region.feedback_portal {
        match portals.iter().find(|ps| &ps.portal.slug == slug) {
            Some(ps) => crate::feedback::attach(&mut umbrella_pages, &ps.portal),
            None => {
                let slugs: Vec<&str> = portals.iter().map(|ps| ps.portal.slug.as_str()).collect();
                if let Some(loc) = &content.feedback_portal_loc {
                    diags.error(
                        loc.clone(),
                        format!(
                            "`feedback_portal` names no portal: `{slug}`{}",
                            crate::diagnostics::hint(slug, &slugs)
                        ),
                    );
                }
            }
        }
    }

    Some(Site {
        region,
        categories: content.categories.into_iter().map(|(c, _)| c).collect(),
        portals,
        pages: umbrella_pages,
    })
}

fn offers(draft: &ServiceDraft, portal: &str) -> bool {
    draft
        .portals
        .as_ref()
        .is_some_and(|list| list.iter().any(|p| p.value == "*" || p.value == portal))
}

fn check_categories(draft: &ServiceDraft, known: &HashSet<&str>, diags: &Diagnostics) {
    for category in draft.categories.iter().flatten() {
        if !known.contains(category.value.as_str()) {
            let names: Vec<&str> = known.iter().copied().collect();
            diags.error(
                category.loc.clone(),
                format!(
                    "unknown category `{}`: not defined in categories.toml{}",
                    category.value,
                    hint(&category.value, &names)
                ),
            );
        }
    }
}

fn check_portal_list(draft: &ServiceDraft, portals: &[&str], diags: &Diagnostics) {
    for entry in draft.portals.iter().flatten() {
        if entry.value != "*" && !portals.contains(&entry.value.as_str()) {
            diags.error(
                entry.loc.clone(),
                format!(
                    "unknown portal `{}`: there is no content/portals/{}/portal.toml{}",
                    entry.value,
                    entry.value,
                    hint(&entry.value, portals)
                ),
            );
        }
    }
}

fn is_empty_override(d: &ServiceDraft) -> bool {
    d.title.is_none()
        && d.summary.is_none()
        && d.categories.is_none()
        && d.office.is_none()
        && d.provider.is_none()
        && d.url.is_none()
        && d.leika.is_none()
        && d.keywords.is_none()
        && d.documents.is_none()
        && d.fees.is_none()
        && d.deadlines.is_none()
        && d.legal_basis.is_none()
        && d.processing_time.is_none()
        && d.login.is_none()
        && d.form.is_none()
        && d.body.is_none()
}

/// A local override on top of its regional service: every key the override sets wins
/// as a whole; the rest is inherited.
fn merge(local: &ServiceDraft, base: &ServiceDraft) -> ServiceDraft {
    fn pick<T: Clone>(local: &Option<T>, base: &Option<T>) -> Option<T> {
        local.as_ref().or(base.as_ref()).cloned()
    }
    ServiceDraft {
        slug: base.slug.clone(),
        path: local.path.clone(),
        title: pick(&local.title, &base.title),
        summary: pick(&local.summary, &base.summary),
        categories: pick(&local.categories, &base.categories),
        portals: base.portals.clone(),
        extends: local.extends.clone(),
        office: pick(&local.office, &base.office),
        provider: pick(&local.provider, &base.provider),
        url: pick(&local.url, &base.url),
        leika: pick(&local.leika, &base.leika),
        keywords: pick(&local.keywords, &base.keywords),
        documents: pick(&local.documents, &base.documents),
        fees: pick(&local.fees, &base.fees),
        deadlines: pick(&local.deadlines, &base.deadlines),
        legal_basis: pick(&local.legal_basis, &base.legal_basis),
        processing_time: pick(&local.processing_time, &base.processing_time),
        login: pick(&local.login, &base.login),
        form: pick(&local.form, &base.form),
        body: pick(&local.body, &base.body),
    }
}

/// Checks what depends on the portal (office, provider rules) and turns the draft into
/// the model's service. Drafts missing required keys were already reported.
fn finish_service(
    draft: ServiceDraft,
    loaded: &crate::load::LoadedPortal,
    diags: &Diagnostics,
) -> Option<ResolvedService> {
    let portal = &loaded.config.portal;
    let provider = draft
        .provider
        .as_ref()
        .map_or(Provider::Kommune, |p| p.value);
    if provider.is_external() {
        if draft.url.is_none() {
            let at = draft
                .provider
                .as_ref()
                .map_or_else(|| Loc::file_start(&draft.path), |p| p.loc.clone());
            diags.error(
                at,
                format!(
                    "a `{}` service needs `url`, the address of its online service",
                    provider.as_str()
                ),
            );
        }
        if let Some(form) = &draft.form {
            diags.error(
                form.loc.clone(),
                "state and federal services link to their own online service; remove `[form]`",
            );
        }
    }
    if let Some(office) = &draft.office {
        match portal.office(&office.value) {
            None => {
                let names: Vec<&str> = portal.offices.iter().map(|o| o.id.as_str()).collect();
                diags.error(
                    office.loc.clone(),
                    format!(
                        "office `{}` does not exist in portal `{}`, which offers this service{}",
                        office.value,
                        portal.slug,
                        hint(&office.value, &names)
                    ),
                );
            }
            Some(found) if draft.form.is_some() && found.public_key.is_none() => {
                let at = loaded
                    .config
                    .office_locs
                    .get(&found.id)
                    .cloned()
                    .unwrap_or_else(|| loaded.loc.clone());
                diags.error(
                    at,
                    format!(
                        "office `{}` receives applications for `{}` but has no `public_key` to encrypt them to (create one with `lotse keys new`)",
                        found.id, draft.slug
                    ),
                );
            }
            Some(_) => {}
        }
    } else if let Some(form) = &draft.form {
        if !provider.is_external() {
            diags.error(
                form.loc.clone(),
                "a service with `[form]` needs `office`, the office its applications go to",
            );
        }
    }

    Some(ResolvedService {
        service: Service {
            slug: draft.slug,
            title: draft.title?.value,
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
        })
        .collect();
    pages.sort_by(|a, b| a.weight.cmp(&b.weight).then_with(|| a.title.cmp(&b.title)));
    pages
}

/// Within a portal every output folder must be taken once.
fn check_page_paths(services: &[ResolvedService], drafts: &[PageDraft], diags: &Diagnostics) {
    let service_slugs: HashSet<&str> = services.iter().map(|s| s.service.slug.as_str()).collect();
    for draft in drafts {
        if RESERVED_IN_PORTAL.contains(&draft.slug.as_str()) {
            diags.error(
                draft.loc.clone(),
                format!(
                    "the page slug `{}` is reserved for the portal's own pages",
                    draft.slug
                ),
            );
        } else if service_slugs.contains(draft.slug.as_str()) {
            diags.error(
                draft.loc.clone(),
                format!(
                    "the page slug `{}` is already used by a service of this portal",
                    draft.slug
                ),
            );
        }
    }
}

fn check_service_slug(draft: &ServiceDraft, diags: &Diagnostics) {
    if RESERVED_IN_PORTAL.contains(&draft.slug.as_str()) {
        diags.error(
            Loc::file_start(&draft.path),
            format!(
                "the service slug `{}` is reserved for the portal's own pages",
                draft.slug
            ),
        );
    }
}

fn check_root_paths(content: &Content, diags: &Diagnostics) {
    let portal_slugs: HashSet<&str> = content
        .portals
        .iter()
        .map(|p| p.config.portal.slug.as_str())
        .collect();
    for portal in &content.portals {
        let slug = portal.config.portal.slug.as_str();
        if RESERVED_AT_ROOT.contains(&slug) {
            diags.error(
                portal.loc.clone(),
                format!("the portal folder name `{slug}` is reserved for the umbrella's own pages"),
            );
        }
    }
    for page in &content.pages {
        if RESERVED_AT_ROOT.contains(&page.slug.as_str()) {
            diags.error(
                page.loc.clone(),
                format!(
                    "the page slug `{}` is reserved for the umbrella's own pages",
                    page.slug
                ),
            );
        } else if portal_slugs.contains(page.slug.as_str()) {
            diags.error(
                page.loc.clone(),
                format!("the page slug `{}` is already used by a portal", page.slug),
            );
        }
    }
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
