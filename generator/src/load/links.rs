//! The links of a Markdown body that point into the site, found once while loading so
//! that the check stage (`check/links.rs`) need not parse the body again, and `lotse
//! serve` parses only the bodies of the files that changed.

use pulldown_cmark::{Event, LinkType, Parser, Tag};

/// A link or image of a body that points into the site: its address as written
/// (trimmed) and the byte offset of the link in the body.
pub type BodyLink = (String, usize);

/// The links and images of a body that point into the site, with their byte offsets.
pub fn internal_links(body: &str) -> Vec<BodyLink> {
    Parser::new_ext(body, crate::markdown::OPTIONS)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                ..
            })
            | Event::Start(Tag::Image {
                link_type,
                dest_url,
                ..
            }) if link_type != LinkType::Email && is_internal(&dest_url) => {
                Some((dest_url.trim().to_string(), range.start))
            }
            _ => None,
        })
        .collect()
}

/// Not external (a scheme, `//host`), not only a fragment or query of the same page.
fn is_internal(href: &str) -> bool {
    let href = href.trim();
    if href.is_empty() || href.starts_with(['#', '?']) || href.starts_with("//") {
        return false;
    }
    // A colon before any slash, ? or # starts a scheme (https:, mailto:, tel: ...).
    !matches!(href.find(':'), Some(i) if !href[..i].contains(['/', '?', '#']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_internal_links_only() {
        let body = "[a](../x/) [b](https://e.de) <c@d.de> [e](mailto:x@y.de) [f](#top)\n\
                    ![g](/bild.png) [h](tel:+49) [i](//cdn.example/x) [j][r]\n\n[r]: /y/\n";
        let links: Vec<String> = internal_links(body).into_iter().map(|l| l.0).collect();
        assert_eq!(links, ["../x/", "/bild.png", "/y/"]);
        assert_eq!(internal_links("xx [a](../x/)")[0].1, 3);
    }
}
