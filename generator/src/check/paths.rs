//! Every output folder is taken once: service and page slugs against each other and
//! the portal's own pages, portal folders and umbrella pages at the root, and aliases
//! against everything.

use std::collections::{HashMap, HashSet};

use super::Input;
use crate::diagnostics::{Diagnostics, Loc};
use crate::load::{Content, PageDraft, ServiceDraft};
use crate::resolve::layers::alias_path;
use crate::resolve::ResolvedService;

/// Names a portal uses for its own pages; no service or page may take them.
pub const RESERVED_IN_PORTAL: [&str; 8] = [
    "themen", "a-z", "suche", "postfach", "status", "eingang", "assets", "pagefind",
];
/// Top-level names of the umbrella site; no portal or umbrella page may take them.
pub const RESERVED_AT_ROOT: [&str; 9] = [
    "themen", "api", "assets", "forms", "suche", "status", "eingang", "postfach", "pagefind",
];

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    for draft in &input.content.services {
        check_service_slug(draft, diags);
    }
    for portal in &input.portals {
        for local in &portal.loaded.services {
            check_service_slug(local, diags);
        }
        check_page_paths(&portal.site.services, &portal.loaded.pages, diags);
    }
    check_root_paths(input.content, diags);
    check_aliases(input, diags);
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

fn has_absolute_alias(draft: &ServiceDraft) -> bool {
    draft
        .aliases
        .iter()
        .flatten()
        .any(|alias| alias.value.starts_with('/'))
}

/// An alias must lead to a free address: no page, no file, no reserved name, no other
/// alias; an absolute one must start with a portal that shows the service.
fn check_aliases(input: &Input<'_>, diags: &Diagnostics) {
    let addresses = &input.addresses;
    let mut taken: HashMap<String, (&Loc, &str)> = HashMap::new();
    // Portals each service file is shown in, for absolute aliases that apply nowhere.
    let mut shown_in: HashMap<*const ServiceDraft, (&ServiceDraft, Vec<&str>)> = HashMap::new();
    for portal in &input.portals {
        let slug = portal.loaded.config.portal.slug.as_str();
        for entry in &portal.layers.entries {
            // Only files with an absolute alias need to know where they are shown.
            for draft in std::iter::once(entry.base).chain(entry.local) {
                if has_absolute_alias(draft) {
                    let seen = shown_in.entry(draft).or_insert((draft, Vec::new()));
                    seen.1.push(slug);
                }
            }
            let service = entry.base.slug.as_str();
            for alias in entry.pick(|d| d.aliases.as_ref()).into_iter().flatten() {
                let Some(path) = alias_path(slug, &alias.value) else {
                    continue;
                };
                let first = path
                    .trim_start_matches(&format!("/{slug}/"))
                    .split('/')
                    .next();
                let message = if first.is_some_and(|f| RESERVED_IN_PORTAL.contains(&f)) {
                    format!("the alias `{}` leads to {path}, a name reserved for the portal's own pages", alias.value)
                } else if addresses.pages.contains(&path)
                    || addresses.files.contains(path.trim_end_matches('/'))
                {
                    format!("the alias `{}` leads to {path}, which is already a page; an alias must be a free address", alias.value)
                } else if let Some((loc, other)) = taken.get(&path) {
                    format!("the alias `{}` leads to {path}, which is already an alias of `{other}` at {loc}", alias.value)
                } else {
                    taken.insert(path, (&alias.loc, service));
                    continue;
                };
                diags.error(alias.loc.clone(), message);
            }
        }
    }
    let mut drafts: Vec<&(&ServiceDraft, Vec<&str>)> = shown_in.values().collect();
    drafts.sort_by_key(|(d, _)| &d.path);
    for (draft, portals) in drafts {
        for alias in draft.aliases.iter().flatten() {
            if alias.value.starts_with('/')
                && portals
                    .iter()
                    .all(|p| alias_path(p, &alias.value).is_none())
            {
                diags.error(
                    alias.loc.clone(),
                    format!(
                        "the alias `{}` starts with no portal that shows this service; an absolute alias begins with such a portal's folder, e.g. `/{}/{}/`",
                        alias.value,
                        portals.first().copied().unwrap_or("portal"),
                        alias.value.trim_matches('/').rsplit('/').next().unwrap_or("")
                    ),
                );
            }
        }
    }
}
