//! Which pages a render must produce. A full build renders everything; `lotse serve`
//! compares the site before and after an edit and renders only the pages whose inputs
//! changed, which keeps an edit-to-reload cycle well under 100 ms.

use std::collections::{HashMap, HashSet};

use lotse_model::{Provider, TrustLevel};

use crate::resolve::{PortalSite, ResolvedService, Site};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selection {
    everything: bool,
    /// Umbrella home and 404.
    pub umbrella: bool,
    /// Topics whose umbrella topic page must be rendered.
    pub umbrella_categories: HashSet<String>,
    /// Portals whose home and A–Z pages must be rendered, with the topics whose topic
    /// page must be rendered.
    pub portal_lists: HashMap<String, HashSet<String>>,
    /// (portal, service) pairs whose service page must be rendered.
    pub services: HashSet<(String, String)>,
}

impl Selection {
    pub fn everything() -> Self {
        Selection {
            everything: true,
            ..Selection::default()
        }
    }

    pub fn is_everything(&self) -> bool {
        self.everything
    }

    pub fn is_empty(&self) -> bool {
        !self.everything
            && !self.umbrella
            && self.umbrella_categories.is_empty()
            && self.portal_lists.is_empty()
            && self.services.is_empty()
    }

    pub(super) fn wants_umbrella(&self) -> bool {
        self.everything || self.umbrella
    }

    pub(super) fn wants_umbrella_category(&self, category: &str) -> bool {
        self.everything || self.umbrella_categories.contains(category)
    }

    pub(super) fn wants_lists(&self, portal: &str) -> bool {
        self.everything || self.portal_lists.contains_key(portal)
    }

    pub(super) fn wants_category(&self, portal: &str, category: &str) -> bool {
        self.everything
            || self
                .portal_lists
                .get(portal)
                .is_some_and(|categories| categories.contains(category))
    }

    pub(super) fn wants_service(&self, portal: &str, service: &str) -> bool {
        self.everything
            || self
                .services
                .contains(&(portal.to_string(), service.to_string()))
    }
}

/// What a service contributes to list pages (homes, topics, A–Z, umbrella).
pub(super) type Listing<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a [String],
    Provider,
    Option<&'a str>,
    bool,
    TrustLevel,
);

pub(super) fn listing(s: &ResolvedService) -> Listing<'_> {
    let service = &s.service;
    (
        &service.slug,
        &service.title,
        &service.summary,
        &service.categories,
        service.provider,
        service.url.as_deref(),
        service.form.is_some(),
        service.login,
    )
}

/// The pages that differ between two resolutions of the same content folder.
pub fn changes(old: &Site, new: &Site) -> Selection {
    let portals_differ = old.portals.len() != new.portals.len()
        || old
            .portals
            .iter()
            .zip(&new.portals)
            .any(|(a, b)| a.portal != b.portal || a.pages != b.pages);
    // Every page's navigation lists the topics that have services: when that set changes,
    // every page changes.
    let navigation_differs = old
        .portals
        .iter()
        .zip(&new.portals)
        .any(|(a, b)| topics_in_use(a) != topics_in_use(b));
    if old.region != new.region
        || old.categories != new.categories
        || old.pages != new.pages
        || portals_differ
        || navigation_differs
    {
        return Selection::everything();
    }
    let mut selection = Selection::default();
    for (before, after) in old.portals.iter().zip(&new.portals) {
        compare_portal(before, after, &mut selection);
    }
    selection
}

fn topics_in_use(ps: &PortalSite) -> HashSet<&str> {
    ps.services
        .iter()
        .flat_map(|s| s.service.categories.iter().map(String::as_str))
        .collect()
}

fn compare_portal(before: &PortalSite, after: &PortalSite, selection: &mut Selection) {
    let slug = &after.portal.slug;
    let old_listing: HashMap<&str, Listing<'_>> = before
        .services
        .iter()
        .map(|s| (s.service.slug.as_str(), listing(s)))
        .collect();
    let new_listing: HashMap<&str, Listing<'_>> = after
        .services
        .iter()
        .map(|s| (s.service.slug.as_str(), listing(s)))
        .collect();
    let mut touched_categories: HashSet<String> = HashSet::new();
    let mut lists_changed = false;
    for service in old_listing.keys().chain(new_listing.keys()) {
        let (old, new) = (old_listing.get(service), new_listing.get(service));
        if old != new {
            lists_changed = true;
            for entry in [old, new].into_iter().flatten() {
                touched_categories.extend(entry.3.iter().cloned());
            }
        }
    }
    if lists_changed {
        selection.umbrella = true;
        selection
            .umbrella_categories
            .extend(touched_categories.iter().cloned());
        selection
            .portal_lists
            .insert(slug.clone(), touched_categories);
    }
    for service in &after.services {
        let unchanged = before
            .services
            .iter()
            .any(|old| old.service.slug == service.service.slug && old == service);
        if !unchanged {
            selection
                .services
                .insert((slug.clone(), service.service.slug.clone()));
        }
    }
}
