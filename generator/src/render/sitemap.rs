//! The sitemap (sitemaps.org protocol 0.9). One file may list at most 50,000 URLs and
//! be at most 50 MiB (52,428,800 bytes) uncompressed; search engines reject a bigger
//! one. So `sitemap.xml` is a single `<urlset>` while the whole site fits into one
//! file, and past either limit an index (`<sitemapindex>`) of one sitemap per section:
//! `sitemap-umbrella.xml` for the umbrella's pages, `<portal>/sitemap.xml` for each
//! portal's. A section that alone crosses a limit is split into numbered parts
//! (`<portal>/sitemap-1.xml`, `<portal>/sitemap-2.xml`, …). Every child lies in the
//! index's folder or below it, as the protocol requires, and a portal's child below
//! the portal's folder. `robots.txt` names `sitemap.xml` either way.

use std::collections::HashMap;
use std::fmt::Write as _;

const URLSET_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
const URLSET_TAIL: &str = "</urlset>\n";
const INDEX_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
const INDEX_TAIL: &str = "</sitemapindex>\n";

/// The most one sitemap file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// URLs (`<url>` entries) per file.
    pub urls: usize,
    /// Bytes per file, uncompressed.
    pub bytes: usize,
}

impl Limits {
    /// The limits of sitemaps.org, which Google, Bing and the others apply.
    pub const SITEMAPS_ORG: Limits = Limits {
        urls: 50_000,
        bytes: 52_428_800,
    };
}

/// The sitemap files of a site as `(path, content)`, paths relative to the site root.
/// `pages` are the absolute URLs of the site's pages, each with the slug of the portal
/// it belongs to (`None`: the umbrella's); `base_url` (no trailing slash) is where the
/// site root is served, used for the index's links to its children.
///
/// The index itself is not split: it would need more than 50,000 children of 50,000
/// URLs each.
pub fn files<'a>(
    base_url: &str,
    pages: impl IntoIterator<Item = (Option<&'a str>, String)>,
    limits: Limits,
) -> Vec<(String, String)> {
    // Sections in the order their first page comes, the umbrella's usually first.
    let mut sections: Vec<(Option<&str>, Vec<String>)> = Vec::new();
    let mut position: HashMap<Option<&str>, usize> = HashMap::new();
    for (portal, url) in pages {
        let index = *position.entry(portal).or_insert_with(|| {
            sections.push((portal, Vec::new()));
            sections.len() - 1
        });
        sections[index].1.push(url);
    }

    let all: Vec<&String> = sections.iter().flat_map(|(_, urls)| urls).collect();
    if parts(&all, limits).len() <= 1 {
        return vec![("sitemap.xml".to_string(), urlset(&all))];
    }

    let mut out = Vec::new();
    for (portal, urls) in &sections {
        let urls: Vec<&String> = urls.iter().collect();
        let parts = parts(&urls, limits);
        let numbered = parts.len() > 1;
        for (n, part) in parts.iter().enumerate() {
            let path = match (portal, numbered) {
                (None, false) => "sitemap-umbrella.xml".to_string(),
                (None, true) => format!("sitemap-umbrella-{}.xml", n + 1),
                (Some(slug), false) => format!("{slug}/sitemap.xml"),
                (Some(slug), true) => format!("{slug}/sitemap-{}.xml", n + 1),
            };
            out.push((path, urlset(part)));
        }
    }
    let mut index = String::from(INDEX_HEAD);
    for (path, _) in &out {
        let url = format!("{base_url}/{path}");
        let loc = escape_xml(&url);
        let _ = writeln!(index, "  <sitemap><loc>{loc}</loc></sitemap>");
    }
    index.push_str(INDEX_TAIL);
    out.insert(0, ("sitemap.xml".to_string(), index));
    out
}

/// `urls` cut greedily into runs that each fit into one file under `limits`. A single
/// URL longer than the byte limit gets a file of its own (no real URL comes close).
fn parts<'u, 's>(urls: &'u [&'s String], limits: Limits) -> Vec<&'u [&'s String]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = URLSET_HEAD.len() + URLSET_TAIL.len();
    for (i, url) in urls.iter().enumerate() {
        let entry = url_entry_len(url);
        let count = i - start;
        if count > 0 && (count >= limits.urls.max(1) || bytes + entry > limits.bytes) {
            out.push(&urls[start..i]);
            start = i;
            bytes = URLSET_HEAD.len() + URLSET_TAIL.len();
        }
        bytes += entry;
    }
    if start < urls.len() || out.is_empty() {
        out.push(&urls[start..]);
    }
    out
}

/// The length of `url`'s line in a `<urlset>`, as [`urlset`] writes it.
fn url_entry_len(url: &str) -> usize {
    "  <url><loc></loc></url>\n".len() + escape_xml(url).len()
}

fn urlset(urls: &[&String]) -> String {
    let mut xml = String::with_capacity(urls.len() * 80 + URLSET_HEAD.len());
    xml.push_str(URLSET_HEAD);
    for url in urls {
        let _ = writeln!(xml, "  <url><loc>{}</loc></url>", escape_xml(url));
    }
    xml.push_str(URLSET_TAIL);
    xml
}

fn escape_xml(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"', '\'']) {
        return s.into();
    }
    let escaped = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    escaped.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://x.de";

    fn pages(
        umbrella: usize,
        portals: &[(&'static str, usize)],
    ) -> Vec<(Option<&'static str>, String)> {
        let mut out: Vec<_> = (0..umbrella)
            .map(|i| (None, format!("{BASE}/themen/t{i}/")))
            .collect();
        for (slug, n) in portals {
            out.extend((0..*n).map(|i| (Some(*slug), format!("{BASE}/{slug}/s{i}/"))));
        }
        out
    }

    fn locs(xml: &str) -> Vec<String> {
        xml.split("<loc>")
            .skip(1)
            .map(|rest| rest.split("</loc>").next().unwrap().to_string())
            .collect()
    }

    fn paths(files: &[(String, String)]) -> Vec<&str> {
        files.iter().map(|(p, _)| p.as_str()).collect()
    }

    #[test]
    fn below_the_limits_one_urlset_lists_every_page() {
        let pages = pages(2, &[("a", 3), ("b", 3)]);
        let limits = Limits {
            urls: 8,
            bytes: 10_000,
        };
        let files = files(BASE, pages.clone(), limits);
        assert_eq!(paths(&files), ["sitemap.xml"]);
        let xml = &files[0].1;
        assert!(xml.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
        let expected: Vec<String> = pages.into_iter().map(|(_, u)| u).collect();
        assert_eq!(locs(xml), expected);
    }

    #[test]
    fn past_the_url_limit_sitemap_xml_indexes_one_sitemap_per_portal() {
        let files = files(
            BASE,
            pages(2, &[("a", 3), ("b", 3)]),
            Limits {
                urls: 7,
                bytes: 10_000,
            },
        );
        assert_eq!(
            paths(&files),
            [
                "sitemap.xml",
                "sitemap-umbrella.xml",
                "a/sitemap.xml",
                "b/sitemap.xml"
            ]
        );
        let index = &files[0].1;
        assert!(
            index.contains("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">")
        );
        assert!(!index.contains("<urlset"));
        assert_eq!(
            locs(index),
            [
                "https://x.de/sitemap-umbrella.xml",
                "https://x.de/a/sitemap.xml",
                "https://x.de/b/sitemap.xml"
            ]
        );
        assert_eq!(
            locs(&files[2].1),
            [
                "https://x.de/a/s0/",
                "https://x.de/a/s1/",
                "https://x.de/a/s2/"
            ]
        );
    }

    #[test]
    fn a_portal_past_the_limit_alone_is_split_into_numbered_parts() {
        let pages = pages(1, &[("a", 7), ("b", 2)]);
        let limits = Limits {
            urls: 3,
            bytes: 10_000,
        };
        let files = files(BASE, pages.clone(), limits);
        assert_eq!(
            paths(&files),
            [
                "sitemap.xml",
                "sitemap-umbrella.xml",
                "a/sitemap-1.xml",
                "a/sitemap-2.xml",
                "a/sitemap-3.xml",
                "b/sitemap.xml"
            ]
        );
        let listed: Vec<String> = files[1..].iter().flat_map(|(_, xml)| locs(xml)).collect();
        let expected: Vec<String> = pages.into_iter().map(|(_, u)| u).collect();
        assert_eq!(listed, expected, "every page once, in order");
        assert!(files[1..].iter().all(|(_, xml)| locs(xml).len() <= 3));
    }

    #[test]
    fn the_byte_limit_splits_too_and_every_file_stays_under_it() {
        let pages = pages(3, &[("a", 40)]);
        let limits = Limits {
            urls: 1_000,
            bytes: 600,
        };
        let files = files(BASE, pages.clone(), limits);
        assert_eq!(files[0].0, "sitemap.xml");
        assert!(files[0].1.contains("<sitemapindex"));
        assert!(files.len() > 3, "{:?}", paths(&files));
        for (path, xml) in &files[1..] {
            assert!(xml.len() <= limits.bytes, "{path}: {} bytes", xml.len());
            assert!(xml.ends_with("</urlset>\n"));
        }
        // Parts are full: the first URL of the second part did not fit into the first.
        let part = |path: &str| &files.iter().find(|(p, _)| p == path).unwrap().1;
        let next = locs(part("a/sitemap-2.xml")).remove(0);
        assert!(part("a/sitemap-1.xml").len() + url_entry_len(&next) > limits.bytes);
        let listed: Vec<String> = files[1..].iter().flat_map(|(_, xml)| locs(xml)).collect();
        assert_eq!(listed.len(), pages.len());
    }

    #[test]
    fn exactly_at_the_limits_stays_one_file() {
        let pages = pages(1, &[("a", 4)]);
        let one = files(
            BASE,
            pages.clone(),
            Limits {
                urls: 5,
                bytes: usize::MAX,
            },
        );
        assert_eq!(paths(&one), ["sitemap.xml"]);
        let size = one[0].1.len();
        let exact = files(
            BASE,
            pages.clone(),
            Limits {
                urls: 5,
                bytes: size,
            },
        );
        assert_eq!(paths(&exact), ["sitemap.xml"]);
        let over = files(
            BASE,
            pages,
            Limits {
                urls: 5,
                bytes: size - 1,
            },
        );
        assert_eq!(over.len(), 3, "{:?}", paths(&over));
    }

    #[test]
    fn urls_are_escaped() {
        let files = files(
            BASE,
            [(None, "https://x.de/a?b=1&c=2".to_string())],
            Limits::SITEMAPS_ORG,
        );
        assert!(files[0].1.contains("<loc>https://x.de/a?b=1&amp;c=2</loc>"));
    }
}
