//! Markdown to safe HTML: CommonMark with tables, heading anchors, and no script from
//! content ever reaching a page.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use lotse_model::slugify;
use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// The Markdown extensions bodies may use. Heading attributes (`{#id .class key=value}`)
/// stay off: they would let plain Markdown set event-handler attributes and the theme's
/// ids.
pub const OPTIONS: Options = Options::ENABLE_TABLES.union(Options::ENABLE_STRIKETHROUGH);

/// Renders Markdown to HTML.
///
/// Headings get ids for anchors, level-1 headings become level 2 (the page title is the
/// only h1), links with schemes other than http(s), mailto and tel are neutralised, and
/// when the text contains raw HTML the whole result goes through the ammonia sanitizer.
pub fn render(markdown: &str) -> String {
    let mut events: Vec<Event<'_>> = Parser::new_ext(markdown, OPTIONS).collect();
    let has_raw_html = events
        .iter()
        .any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_)));
    add_heading_ids(&mut events);
    for event in &mut events {
        match event {
            Event::Start(Tag::Heading { level, .. }) | Event::End(TagEnd::Heading(level))
                if *level == HeadingLevel::H1 =>
            {
                *level = HeadingLevel::H2;
            }
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. })
                if !is_safe_url(dest_url) =>
            {
                *dest_url = CowStr::Borrowed("#");
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    if has_raw_html {
        sanitizer().clean(&out).to_string()
    } else {
        out
    }
}

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut builder = ammonia::Builder::default();
        let heading_attrs: HashSet<&str> = ["id"].into_iter().collect();
        let mut tag_attrs: HashMap<&str, HashSet<&str>> = HashMap::new();
        for tag in ["h2", "h3", "h4", "h5", "h6"] {
            tag_attrs.insert(tag, heading_attrs.clone());
        }
        builder
            .add_tag_attributes("th", ["scope"])
            .add_tag_attributes("td", ["colspan", "rowspan"]);
        for (tag, attrs) in tag_attrs {
            builder.add_tag_attributes(tag, attrs);
        }
        builder.url_schemes(["http", "https", "mailto", "tel"].into_iter().collect());
        builder
    })
}

fn is_safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.find(':') {
        // A colon before any slash, ? or # starts a scheme.
        Some(i) if !lower[..i].contains(['/', '?', '#']) => {
            ["http", "https", "mailto", "tel"].contains(&&lower[..i])
        }
        _ => true,
    }
}

/// Ids the theme uses on service pages; a heading must not take them.
const THEME_IDS: [&str; 5] = ["inhalt", "antrag", "fehler", "hauptnavigation", "suche-q"];
/// Id prefixes of the theme (form fields, help texts, errors, sections, A–Z letters).
const THEME_ID_PREFIXES: [&str; 5] = ["feld-", "hilfe-", "fehler-", "s-", "buchstabe-"];

/// Gives each heading without an explicit `{#id}` an id made from its text, unique in
/// the document.
fn add_heading_ids(events: &mut [Event<'_>]) {
    let mut used: HashSet<String> = THEME_IDS.iter().map(|id| id.to_string()).collect();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { id: None, .. }) = &events[i] {
            let mut text = String::new();
            let mut j = i + 1;
            while j < events.len() && !matches!(events[j], Event::End(TagEnd::Heading(_))) {
                if let Event::Text(t) | Event::Code(t) = &events[j] {
                    text.push_str(t);
                }
                j += 1;
            }
            let base = match slugify(&text) {
                s if s.is_empty() => "abschnitt".to_string(),
                s if THEME_ID_PREFIXES.iter().any(|p| s.starts_with(p)) => format!("text-{s}"),
                s => s,
            };
            let mut candidate = base.clone();
            let mut n = 2;
            while !used.insert(candidate.clone()) {
                candidate = format!("{base}-{n}");
                n += 1;
            }
            if let Event::Start(Tag::Heading { id, .. }) = &mut events[i] {
                *id = Some(CowStr::from(candidate));
            }
            i = j;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_tables_and_heading_anchors() {
        let html =
            render("# Überblick\n\n## Kosten\n\n## Kosten\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(
            html.contains(r#"<h2 id="ueberblick">Überblick</h2>"#),
            "{html}"
        );
        assert!(html.contains(r#"<h2 id="kosten">Kosten</h2>"#), "{html}");
        assert!(html.contains(r#"<h2 id="kosten-2">Kosten</h2>"#), "{html}");
        assert!(html.contains("<table>"), "{html}");
        assert!(!html.contains("<h1"), "{html}");
    }

    #[test]
    fn heading_ids_avoid_the_theme_ids() {
        let html = render("## Antrag\n\n## Fehler\n\n## S-Bahn\n");
        assert!(html.contains(r#"<h2 id="antrag-2">"#), "{html}");
        assert!(html.contains(r#"<h2 id="fehler-2">"#), "{html}");
        assert!(html.contains(r#"<h2 id="text-s-bahn">"#), "{html}");
    }

    #[test]
    fn removes_script_from_raw_html() {
        let html =
            render("Hallo <script>alert(1)</script><img src=x onerror=alert(2)> <b>fett</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(html.contains("<b>fett</b>"), "{html}");
    }

    #[test]
    fn neutralises_javascript_links() {
        let html = render("[klick](javascript:alert(1)) [ok](https://example.org) [rel](/bottrop/) [tel](tel:+492041)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"href="https://example.org""#), "{html}");
        assert!(html.contains(r#"href="/bottrop/""#), "{html}");
        assert!(html.contains(r#"href="tel:+492041""#), "{html}");
    }

    #[test]
    fn sanitizes_links_inside_raw_html() {
        let html = render(
            r#"<a href="javascript:alert(1)">x</a> <iframe src="https://evil.example"></iframe>"#,
        );
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<iframe"), "{html}");
    }
}
