//! The links of a Markdown body that point into the site, found once while loading so
//! that the check stage (`check/links.rs`) need not parse the body again, and `lotse
//! serve` parses only the bodies of the files that changed.

use pulldown_cmark::{Event, LinkType, Parser, Tag};

use crate::diagnostics::Loc;
use crate::source::loc_within;

/// A link or image of a body that points into the site: its address as written
/// (trimmed) and the byte offset of the link in the body.
pub type BodyLink = (String, usize);

/// The links and images of a body that point into the site, with their byte offsets.
pub fn internal_links(body: &str) -> Vec<BodyLink> {
    if !may_link_inside(body) {
        return Vec::new();
    }
    parsed_links(body)
}

/// A link of a body into the site and where it is in its file: the check stage reports
/// on it without the body's text, which the build does not keep (`body.rs`).
pub type LocatedLink = (String, Loc);

/// The links of `body` into the site, located in the file where the body starts at
/// `start`.
pub fn located_links(body: &str, start: &Loc) -> Vec<LocatedLink> {
    internal_links(body)
        .into_iter()
        .map(|(href, offset)| (href, loc_within(start, body, offset)))
        .collect()
}

/// [`internal_links`] as the Markdown parser finds them, without the quick look.
fn parsed_links(body: &str) -> Vec<BodyLink> {
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

/// Whether `body` may hold a link into the site, by a look at its text that never
/// misses one: parsing the Markdown is most of the cost of loading a body, and most
/// bodies link only elsewhere. An inline link or image has its address right after
/// `](` (after blanks, a line break or a `<`); a reference link needs a definition,
/// `[label]: address`, which contains `]:`; an autolink (`<https://…>`) always has a
/// scheme. So a body without `]:` whose every `](` is followed by an external
/// address has none. (Enabling wiki links in `markdown::OPTIONS` would need a look
/// for `[[` here.)
fn may_link_inside(body: &str) -> bool {
    if body.contains("]:") {
        return true;
    }
    body.match_indices("](").any(|(at, _)| {
        let rest = body[at + 2..].trim_start_matches([' ', '\t', '\n', '\r', '<']);
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>'))
            .unwrap_or(rest.len());
        is_internal(&rest[..end])
            // An empty address or one in pieces (`[a](` at the end) is left to the parser.
            || end == 0
    })
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
        let start = Loc {
            path: "s.md".into(),
            line: 4,
            column: 1,
        };
        let located = located_links("Text\nmit [a](../x/)", &start);
        assert_eq!((located[0].1.line, located[0].1.column), (5, 5));
    }

    #[test]
    fn the_quick_look_finds_every_link_the_parser_finds() {
        let bodies = [
            "nur [extern](https://e.de) und ![bild](https://e.de/b.png)",
            "[innen]( \n  /bottrop/x/)",
            "[innen](</bottrop/mit leer/>)",
            "[ref][r]\n\n[r]: /y/",
            "[kurz]\n\n[kurz]:\n  ../z/",
            "<https://e.de> <mail@e.de> [a](mailto:x@e.de) [b](#oben)",
            "`[code](/nicht/)` und\n\n    [block](/auch-nicht/)",
            "[leer]() [halb](",
            "[ ](tel:+49) [x](HTTPS://E.DE) [y](//cdn/x) [z](?q=1)",
        ];
        for body in bodies {
            let parsed = parsed_links(body);
            assert_eq!(internal_links(body), parsed, "{body:?}");
            if !parsed.is_empty() {
                assert!(may_link_inside(body), "{body:?}");
            }
        }
        assert!(!may_link_inside("nur [extern](https://e.de)"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        #[test]
        fn the_quick_look_never_misses_a_link(body in "[\\[\\]()<>:/a-z#?\n \\\\`!]{0,40}") {
            let links = parsed_links(&body);
            if !links.is_empty() {
                proptest::prop_assert!(may_link_inside(&body), "{:?} has {:?}", body, links);
            }
        }
    }
}
