//! A record's searchable HTML turned into Pagefind's "digest": the text in reading
//! order, with block elements closed by a full stop and weight markers around weighted
//! elements, exactly as Pagefind's own parser (`fossick/parser.rs`, 1.6) would produce
//! it for the same HTML. The HTML is ours (records.rs and the sanitised Markdown
//! renderer), so a small scanner suffices where Pagefind runs a full HTML rewriter.

use std::collections::HashMap;

/// Block elements: their text is kept apart from the neighbours' and ends a sentence.
const SENTENCE: &[&str] = &[
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "td", "div", "ul", "li", "article", "section",
];
/// Inline elements: an anchor's text runs on through them.
const INLINE: &[&str] = &[
    "a", "abbr", "acronym", "b", "bdo", "big", "br", "button", "cite", "code", "dfn", "em", "i",
    "img", "input", "kbd", "label", "map", "object", "output", "q", "samp", "script", "select",
    "small", "span", "strong", "sub", "sup", "textarea", "time", "tt", "var",
];
/// Never indexed, with everything inside.
const REMOVE: &[&str] = &[
    "head", "style", "script", "noscript", "label", "form", "svg", "footer", "nav", "iframe",
    "template",
];
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

pub const WEIGHT: &str = "___PAGEFIND_WEIGHT___";
pub const AUTO_WEIGHT: &str = "___PAGEFIND_AUTO_WEIGHT___";
pub const END_WEIGHT: &str = "___END_PAGEFIND_WEIGHT___";
pub const ANCHOR: &str = "___PAGEFIND_ANCHOR___";

/// What Pagefind's parser hands on to its word splitter.
#[derive(Debug, Default)]
pub struct Digest {
    /// Whitespace-normalised text with entity references decoded and the markers above.
    pub text: String,
    /// The raw text of each element with an `id`, by `"<counter>:<id>"`.
    pub anchor_content: HashMap<String, String>,
    /// The first image after the title: `(src, alt)`.
    pub image: Option<(String, String)>,
}

#[derive(PartialEq, Clone, Copy)]
enum Status {
    Indexing,
    Ignored,
    Excluded,
}

struct Node {
    tag: String,
    value: String,
    status: Status,
    weight: Option<String>,
    anchor_ids: Option<Vec<String>>,
}

impl Node {
    fn new(tag: &str, status: Status) -> Node {
        Node {
            tag: tag.to_string(),
            value: String::new(),
            status,
            weight: None,
            anchor_ids: None,
        }
    }
}

/// The digest of `html`, which must be well-formed (every non-void element closed).
pub fn digest(html: &str) -> Digest {
    let mut out = Digest::default();
    let mut stack = vec![Node::new("", Status::Indexing)];
    let mut anchor_counter = 0usize;
    let mut seen_title = false;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            text(&mut stack, &mut out, rest);
            break;
        };
        if lt > 0 {
            text(&mut stack, &mut out, &rest[..lt]);
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let end = tag_end(rest);
        let tag = &rest[1..end];
        rest = &rest[(end + 1).min(rest.len())..];
        if let Some(name) = tag.strip_prefix('/') {
            close(
                &mut stack,
                &name.trim().to_ascii_lowercase(),
                &mut seen_title,
            );
        } else if !tag.starts_with('!') && !tag.starts_with('?') {
            let (name, attrs) = parse_tag(tag);
            open(
                &mut stack,
                &mut out,
                &name,
                &attrs,
                &mut anchor_counter,
                seen_title,
            );
            if VOID.contains(&name.as_str()) || tag.ends_with('/') {
                stack.pop();
            }
        }
    }
    while stack.len() > 1 {
        let tag = stack.last().map(|n| n.tag.clone()).unwrap_or_default();
        close(&mut stack, &tag, &mut seen_title);
    }
    out.text = normalize_content(&stack.pop().map(|n| n.value).unwrap_or_default());
    out
}

fn text(stack: &mut [Node], out: &mut Digest, raw: &str) {
    let Some(node) = stack.last_mut() else { return };
    node.value.push_str(raw);
    if node.status == Status::Indexing {
        for id in node.anchor_ids.iter().flatten() {
            out.anchor_content
                .entry(id.clone())
                .or_default()
                .push_str(raw);
        }
    }
}

fn open(
    stack: &mut Vec<Node>,
    out: &mut Digest,
    name: &str,
    attrs: &[(String, String)],
    anchor_counter: &mut usize,
    seen_title: bool,
) {
    let attr = |key: &str| {
        attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let parent = stack.last_mut().expect("the root is never popped");
    let mut status = match attr("data-pagefind-ignore").map(str::to_ascii_lowercase) {
        Some(v) if matches!(v.as_str(), "" | "index" | "true") => Status::Ignored,
        Some(_) => Status::Excluded,
        None => Status::Indexing,
    };
    if REMOVE.contains(&name) {
        status = Status::Excluded;
    }
    if parent.status == Status::Excluded {
        status = Status::Excluded;
    }
    let mut anchor_id = None;
    if status == Status::Indexing {
        if let Some(id) = attr("id") {
            let id: String = id.chars().filter(|c| !c.is_whitespace()).collect();
            parent
                .value
                .push_str(&format!(" {ANCHOR}{name}:{anchor_counter}:{id} "));
            anchor_id = Some(format!("{anchor_counter}:{id}"));
            *anchor_counter += 1;
        }
    }
    if status != Status::Excluded && name == "br" {
        parent.value.push(' ');
    }
    if status != Status::Excluded && name == "img" && seen_title && out.image.is_none() {
        if let Some(src) = attr("src") {
            let alt = attr("alt").map(normalize_content).unwrap_or_default();
            out.image = Some((normalize_content(src), alt));
        }
    }
    let mut anchors = match &parent.anchor_ids {
        Some(ids) if INLINE.contains(&name) => Some(ids.clone()),
        _ => None,
    };
    if let Some(id) = anchor_id {
        anchors.get_or_insert_with(Vec::new).push(id);
    }
    let mut node = Node::new(name, status);
    node.weight = attr("data-pagefind-weight").map(str::to_string);
    node.anchor_ids = anchors;
    stack.push(node);
}

fn close(stack: &mut Vec<Node>, name: &str, seen_title: &mut bool) {
    // Our HTML is well-formed; a stray end tag closes nothing.
    if stack.len() < 2 || stack.last().is_some_and(|n| n.tag != name) {
        return;
    }
    let Some(mut node) = stack.pop() else { return };
    if node.tag == "h1" {
        *seen_title = true;
    }
    if node.status != Status::Indexing {
        return;
    }
    if SENTENCE.contains(&node.tag.as_str()) {
        node.value.insert(0, ' ');
        if node.value.chars().last().is_some_and(is_sentence_char) {
            node.value.push('.');
        }
        node.value.push(' ');
    }
    let weight = node.weight.clone().map(|w| (WEIGHT, w)).or_else(|| {
        let auto = match node.tag.as_str() {
            "h1" => "7",
            "h2" => "6",
            "h3" => "5",
            "h4" => "4",
            "h5" => "3",
            "h6" => "2",
            _ => return None,
        };
        Some((AUTO_WEIGHT, auto.to_string()))
    });
    let parent = stack.last_mut().expect("the root is never popped");
    if let Some((marker, weight)) = weight {
        parent.value.push(' ');
        parent.value.push_str(marker);
        parent.value.push_str(&weight);
        parent.value.push(' ');
        parent.value.push_str(&node.value);
        parent.value.push(' ');
        parent.value.push_str(END_WEIGHT);
        parent.value.push(' ');
    } else {
        parent.value.push_str(&node.value);
    }
}

/// Pagefind's `[\w'")$*]`: a character after which a block gets a full stop.
fn is_sentence_char(c: char) -> bool {
    static SENTENCE_CHARS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || matches!(c, '_' | '\'' | '"' | ')' | '$' | '*');
    }
    let re = SENTENCE_CHARS.get_or_init(|| regex::Regex::new("^\\w$").expect("valid pattern"));
    re.is_match(c.encode_utf8(&mut [0; 4]))
}

/// Where the tag starting at `s[0] == '<'` ends (its `>`), quotes respected.
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return i,
            _ => {}
        }
    }
    s.len()
}

/// A start tag's name and attributes (values entity-decoded, as an HTML parser gives
/// them).
fn parse_tag(tag: &str) -> (String, Vec<(String, String)>) {
    let tag = tag.trim_end_matches('/');
    let name_end = tag.find(|c: char| c.is_whitespace()).unwrap_or(tag.len());
    let name = tag[..name_end].to_ascii_lowercase();
    let mut attrs = Vec::new();
    let mut rest = tag[name_end..].trim_start();
    while !rest.is_empty() {
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let key = rest[..key_end].to_ascii_lowercase();
        rest = rest[key_end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (raw, tail) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let end = body.find(q).unwrap_or(body.len());
                    (&body[..end], &body[(end + 1).min(body.len())..])
                }
                _ => {
                    let end = after
                        .find(|c: char| c.is_whitespace())
                        .unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            value = html_escape::decode_html_entities(raw).into_owned();
            rest = tail.trim_start();
        }
        if !key.is_empty() {
            attrs.push((key, value));
        }
    }
    (name, attrs)
}

/// Pagefind's `normalize_content`: entities decoded, newlines and runs of whitespace
/// made one space, the ends trimmed.
pub fn normalize_content(content: &str) -> String {
    let decoded = html_escape::decode_html_entities(content);
    let mut out = String::with_capacity(decoded.len());
    let mut pending: Option<char> = None;
    let mut run = 0usize;
    for c in decoded.trim_matches(|c: char| c.is_whitespace()).chars() {
        if c.is_whitespace() {
            // "\n" and "\r\n" runs become one space; other whitespace is kept when
            // alone and collapsed when two or more follow each other.
            let c = if c == '\n' { ' ' } else { c };
            run += 1;
            pending = Some(if run > 1 { ' ' } else { c });
            continue;
        }
        if let Some(p) = pending.take() {
            out.push(p);
        }
        run = 0;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_end_sentences_and_headings_carry_weights() {
        let d = digest("<h1>Hund anmelden</h1><p>Kosten: 12 €</p><ul><li>Ausweis</li></ul>");
        assert_eq!(
            d.text,
            "___PAGEFIND_AUTO_WEIGHT___7 Hund anmelden. ___END_PAGEFIND_WEIGHT___ \
             Kosten: 12 € Ausweis."
        );
    }

    #[test]
    fn ignored_parts_are_left_out_and_entities_decoded() {
        let d = digest(
            "<p data-pagefind-weight=\"6\">A &amp; B</p><div data-pagefind-ignore>\
             <span>geheim</span></div>",
        );
        assert_eq!(
            d.text,
            "___PAGEFIND_WEIGHT___6 A & B. ___END_PAGEFIND_WEIGHT___"
        );
    }

    #[test]
    fn anchors_and_line_breaks() {
        let d = digest("<h2 id=\"a b\">Unterlagen</h2><p>eins<br />zwei</p>");
        assert!(d.text.starts_with("___PAGEFIND_ANCHOR___h2:0:ab"));
        assert!(d.text.ends_with("eins zwei."));
        assert_eq!(d.anchor_content["0:ab"], "Unterlagen");
    }

    #[test]
    fn normalizes_whitespace_like_pagefind() {
        assert_eq!(normalize_content("  a\n\n b \t c\u{a0}d  "), "a b c\u{a0}d");
    }
}
