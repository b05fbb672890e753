//! The lists several pages show: breadcrumbs, footer links, topic cards and the
//! navigation, a topic's services across the region, the A–Z letters. Built from the
//! resolved site in one place so that the navigation and the pages it links to always
//! count and order services the same way.

use std::collections::{BTreeMap, HashMap};

use lotse_model::Portal;

use super::context::{
    category_url, portal_url, provider_label, service_url, CategoryCard, Letter, Link, NavItem,
    OfferedIn, RegionalService, ServiceSummary,
};
use crate::resolve::{sort_key, Page, PortalSite, Site};

/// The first breadcrumb of every page but the umbrella's home: the region.
pub(super) fn region_crumb(site: &Site) -> Link {
    Link {
        title: site.region.name.clone(),
        url: "/".into(),
    }
}

/// The breadcrumb of a portal's home.
pub(super) fn portal_crumb(portal: &Portal) -> Link {
    Link {
        title: portal.name.clone(),
        url: portal_url(portal),
    }
}

/// Links to `pages` of `portal`, or of the umbrella for `None` (the footer).
pub(super) fn page_links(portal: Option<&Portal>, pages: &[Page]) -> Vec<Link> {
    let prefix = portal.map_or_else(|| "/".to_string(), portal_url);
    pages
        .iter()
        .map(|p| Link {
            title: p.title.clone(),
            url: format!("{prefix}{}/", p.slug),
        })
        .collect()
}

fn count_in(ps: &PortalSite, category: &str) -> usize {
    ps.services
        .iter()
        .filter(|s| s.service.categories.iter().any(|c| c == category))
        .count()
}

/// The topics with at least one service, in `portal` or (for `None`) the region.
pub(super) fn category_cards<'a>(
    site: &'a Site,
    portal: Option<&PortalSite>,
) -> Vec<CategoryCard<'a>> {
    let regional = portal.is_none().then(|| regional_counts(site));
    site.categories
        .iter()
        .map(|c| CategoryCard {
            id: &c.id,
            title: &c.title,
            description: c.description.as_deref(),
            url: category_url(portal.map(|ps| &ps.portal), &c.id),
            service_count: match (portal, &regional) {
                (Some(ps), _) => count_in(ps, &c.id),
                (None, Some(counts)) => counts.get(c.id.as_str()).copied().unwrap_or(0),
                (None, None) => 0,
            },
        })
        .filter(|card| card.service_count > 0)
        .collect()
}

/// How many entries each topic's region-wide list has (the length of
/// [`regional_services`] for each topic), in one pass over the services: counting by
/// building every list cost `lotse serve` a fifth of a reload on a large region.
fn regional_counts(site: &Site) -> HashMap<&str, usize> {
    // By slug, each title the slug goes by (as written and as sorted) with the topics
    // counted for it: a catalogue service that thirteen portals offer under one title
    // is compared as written, and its sort key made once, not thirteen times.
    struct Spelling<'a> {
        title: &'a str,
        key: String,
        topics: Vec<&'a str>,
    }
    let mut by_slug: HashMap<&str, Vec<Spelling<'_>>> = HashMap::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for ps in &site.portals {
        for s in &ps.services {
            let service = &s.service;
            if service.categories.is_empty() {
                continue;
            }
            let spellings = by_slug.entry(&service.slug).or_default();
            let at = match spellings.iter().position(|sp| sp.title == service.title) {
                Some(at) => at,
                None => {
                    let key = sort_key(&service.title);
                    match spellings.iter().position(|sp| sp.key == key) {
                        Some(at) => at,
                        None => {
                            spellings.push(Spelling {
                                title: &service.title,
                                key,
                                topics: Vec::new(),
                            });
                            spellings.len() - 1
                        }
                    }
                }
            };
            let topics = &mut spellings[at].topics;
            for category in &service.categories {
                if !topics.contains(&category.as_str()) {
                    topics.push(category);
                    *counts.entry(category.as_str()).or_default() += 1;
                }
            }
        }
    }
    counts
}

/// The navigation's topics: the same as the topic cards.
pub(super) fn nav_categories<'a>(cards: &[CategoryCard<'a>]) -> Vec<NavItem<'a>> {
    cards
        .iter()
        .map(|c| NavItem {
            id: c.id,
            title: c.title,
            url: c.url.clone(),
        })
        .collect()
}

/// Services of a category across all portals, each once with the portals offering it.
pub(super) fn regional_services<'a>(site: &'a Site, category: &str) -> Vec<RegionalService<'a>> {
    let mut by_slug: BTreeMap<(String, &str), RegionalService<'a>> = BTreeMap::new();
    for ps in &site.portals {
        for s in ps
            .services
            .iter()
            .filter(|s| s.service.categories.iter().any(|c| c == category))
        {
            let entry = by_slug
                .entry((sort_key(&s.service.title), s.service.slug.as_str()))
                .or_insert_with(|| RegionalService {
                    slug: &s.service.slug,
                    title: &s.service.title,
                    summary: &s.service.summary,
                    provider: s.service.provider,
                    provider_label: provider_label(s.service.provider),
                    offered_in: Vec::new(),
                });
            entry.offered_in.push(OfferedIn {
                name: &ps.portal.name,
                short_name: &ps.portal.short_name,
                url: service_url(&ps.portal, &s.service.slug),
            });
        }
    }
    by_slug.into_values().collect()
}

/// A portal's services grouped by first letter, in their sorted order (the A–Z page).
pub(super) fn letters(ps: &PortalSite) -> Vec<Letter<'_>> {
    let mut letters: Vec<Letter<'_>> = Vec::new();
    for s in &ps.services {
        let first = sort_key(&s.service.title)
            .chars()
            .next()
            .filter(char::is_ascii_alphabetic)
            .map_or_else(|| "0–9".to_string(), |c| c.to_ascii_uppercase().to_string());
        if letters.last().is_none_or(|l| l.letter != first) {
            letters.push(Letter {
                anchor: format!("buchstabe-{}", lotse_model::slugify(&first)),
                letter: first,
                services: Vec::new(),
            });
        }
        if let Some(letter) = letters.last_mut() {
            letter.services.push(ServiceSummary::new(&ps.portal, s));
        }
    }
    letters
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_counts_are_the_lengths_of_the_regional_lists() {
        let content = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
        let (site, _) = crate::build::check(&content);
        let site = site.expect("the example region is valid");
        let counts = regional_counts(&site);
        assert!(counts.values().any(|&n| n > 1), "{counts:?}");
        for c in &site.categories {
            assert_eq!(
                counts.get(c.id.as_str()).copied().unwrap_or(0),
                regional_services(&site, &c.id).len(),
                "topic {}",
                c.id
            );
        }
    }
}
