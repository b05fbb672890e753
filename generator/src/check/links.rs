//! Links in Markdown bodies that point into the site must lead to a page, in every
//! portal that shows the body: a regional text is shown by many portals, and each
//! resolves its relative links against its own address (`/<portal>/<service>/`).

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::addresses::Addresses;
use super::Input;
use crate::diagnostics::{did_you_mean, Diagnostics};
use crate::load::LocatedLink;

/// A body and the pages that show it.
struct Shown<'a> {
    /// Its links into the site, found and located while loading.
    links: &'a [LocatedLink],
    /// (portal, or `None` for the umbrella; the folder address of the page).
    at: Vec<(Option<&'a str>, String)>,
}

pub(super) fn check(input: &Input<'_>, diags: &Diagnostics) {
    let addresses = &input.addresses;
    let mut bodies: Vec<Shown<'_>> = Vec::new();
    let mut index: HashMap<usize, usize> = HashMap::new();
    for portal in &input.portals {
        let slug = portal.loaded.config.portal.slug.as_str();
        for entry in &portal.layers.entries {
            let Some(source) = entry.body_source() else {
                continue;
            };
            let Some(body) = &source.body else {
                continue;
            };
            let key = Arc::as_ptr(body) as *const u8 as usize;
            let i = *index.entry(key).or_insert_with(|| {
                bodies.push(Shown {
                    links: &source.links,
                    at: Vec::new(),
                });
                bodies.len() - 1
            });
            bodies[i]
                .at
                .push((Some(slug), format!("/{slug}/{}/", entry.base.slug)));
        }
        for page in &portal.loaded.pages {
            bodies.push(Shown {
                links: &page.links,
                at: vec![(Some(slug), format!("/{slug}/{}/", page.slug))],
            });
        }
    }
    for page in &input.content.pages {
        bodies.push(Shown {
            links: &page.links,
            at: vec![(None, format!("/{}/", page.slug))],
        });
    }
    bodies
        .par_iter()
        .for_each(|shown| check_body(shown, addresses, diags));
}

fn check_body(shown: &Shown<'_>, addresses: &Addresses, diags: &Diagnostics) {
    for (href, loc) in shown.links {
        for (portal, page) in &shown.at {
            let target = join(page, href);
            if addresses.leads_somewhere(&target) {
                continue;
            }
            let suggestion = closest(&target, *portal, addresses);
            let place = match portal {
                Some(p) => format!("in portal `{p}`"),
                None => "on the umbrella site".to_string(),
            };
            diags.error(
                loc.clone(),
                format!(
                    "the link `{href}` leads to no page {place}: there is no {target}{}",
                    suggestion.map_or(String::new(), |c| format!("; did you mean `{c}`?"))
                ),
            );
        }
    }
}

/// The existing page closest to `target`, compared below the portal's folder (or the
/// root), so that the shared `/<portal>/` does not make every page look close.
fn closest<'a>(target: &str, portal: Option<&str>, addresses: &'a Addresses) -> Option<&'a str> {
    let prefix = portal.map_or_else(|| "/".to_string(), |p| format!("/{p}/"));
    let key = target.strip_prefix(prefix.as_str()).unwrap_or(target);
    let candidates: HashMap<&str, &str> = addresses
        .pages
        .iter()
        .filter_map(|page| Some((page.strip_prefix(prefix.as_str())?, page.as_str())))
        .filter(|(rest, _)| !rest.is_empty())
        .collect();
    did_you_mean(key, candidates.keys().copied()).map(|found| candidates[found])
}

/// The absolute path `href` leads to from the page at folder address `page`, without
/// query and fragment, dot segments resolved as a browser does.
fn join(page: &str, href: &str) -> String {
    let path = href.split(['#', '?']).next().unwrap_or("");
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{page}{path}")
    };
    let segments: Vec<&str> = full.split('/').collect();
    let mut out: Vec<&str> = Vec::new();
    for segment in &segments {
        match *segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let folder = matches!(segments.last(), Some(&"" | &"." | &".."));
    let mut joined = format!("/{}", out.join("/"));
    if folder && !out.is_empty() {
        joined.push('/');
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_a_browser() {
        let page = "/bottrop/hund-anmelden/";
        assert_eq!(
            join(page, "../personalausweis/"),
            "/bottrop/personalausweis/"
        );
        assert_eq!(join(page, "/marl/impressum/#x"), "/marl/impressum/");
        assert_eq!(
            join(page, "impressum/"),
            "/bottrop/hund-anmelden/impressum/"
        );
        assert_eq!(join(page, "../../../a-z?x=1"), "/a-z");
        assert_eq!(join(page, ".."), "/bottrop/");
        assert_eq!(join(page, "./"), page);
    }
}
