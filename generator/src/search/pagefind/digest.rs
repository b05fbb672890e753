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
    /// The text of the first h1 with text: the title when the record has none.
    pub auto_title: Option<String>,
}

#[derive(PartialEq, Clone, Copy)]
enum Status {
    Indexing,
    Ignored,
    Excluded,
}

/// An open element. Pagefind builds each element's text in a string of its own and
/// appends it to the parent's when the element ends; here all text goes into one
/// buffer, what an element adds in front of its text (weight marker, a space) is added
/// when it opens, and an element left out truncates the buffer back to where it began.
struct Node {
    tag: String,
    /// Where the element's part of the buffer begins, and its text after the weight
    /// marker and space it opens with.
    start: usize,
    text: usize,
    status: Status,
    sentence: bool,
    weighted: bool,
    anchor_ids: Option<Vec<String>>,
}

/// The digest of `html`, which must be well-formed (every non-void element closed).
pub fn digest(html: &str) -> Digest {
    let mut out = Digest::default();
    let mut buf = String::with_capacity(html.len());
    let mut stack = vec![Node {
        tag: String::new(),
        start: 0,
        text: 0,
        status: Status::Indexing,
        sentence: false,
        weighted: false,
        anchor_ids: None,
    }];
    let mut anchor_counter = 0usize;
    let mut seen_title = false;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            text(&stack, &mut buf, &mut out, rest);
            break;
        };
        if lt > 0 {
            text(&stack, &mut buf, &mut out, &rest[..lt]);
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
            let name = name.trim().to_ascii_lowercase();
            close(&mut stack, &mut buf, &mut out, &name, &mut seen_title);
        } else if !tag.starts_with('!') && !tag.starts_with('?') {
            let (name, attrs) = parse_tag(tag);
            let void = VOID.contains(&name.as_str()) || tag.ends_with('/');
            let mut open = Open {
                out: &mut out,
                buf: &mut buf,
                anchor_counter: &mut anchor_counter,
                seen_title,
            };
            let node = open.element(&stack, &name, &attrs, void);
            if !void {
                stack.push(node);
            }
        }
    }
    while stack.len() > 1 {
        let tag = stack.last().map(|n| n.tag.clone()).unwrap_or_default();
        close(&mut stack, &mut buf, &mut out, &tag, &mut seen_title);
    }
    out.text = normalize_content(&buf);
    out
}

fn text(stack: &[Node], buf: &mut String, out: &mut Digest, raw: &str) {
    let Some(node) = stack.last() else { return };
    buf.push_str(raw);
    if node.status == Status::Indexing {
        for id in node.anchor_ids.iter().flatten() {
            out.anchor_content
                .entry(id.clone())
                .or_default()
                .push_str(raw);
        }
    }
}

struct Open<'a> {
    out: &'a mut Digest,
    buf: &'a mut String,
    anchor_counter: &'a mut usize,
    seen_title: bool,
}

impl Open<'_> {
    fn element(
        &mut self,
        stack: &[Node],
        name: &str,
        attrs: &[(String, String)],
        void: bool,
    ) -> Node {
        let attr = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let parent = stack.last().expect("the root is never popped");
        let mut status = match attr("data-pagefind-ignore").map(str::to_ascii_lowercase) {
            Some(v) if matches!(v.as_str(), "" | "index" | "true") => Status::Ignored,
            Some(_) => Status::Excluded,
            None => Status::Indexing,
        };
        if REMOVE.contains(&name) || parent.status == Status::Excluded {
            status = Status::Excluded;
        }
        let mut anchor_id = None;
        if status == Status::Indexing {
            if let Some(id) = attr("id") {
                let id: String = id.chars().filter(|c| !c.is_whitespace()).collect();
                let counter = *self.anchor_counter;
                self.buf
                    .push_str(&format!(" {ANCHOR}{name}:{counter}:{id} "));
                anchor_id = Some(format!("{counter}:{id}"));
                *self.anchor_counter += 1;
            }
        }
        if status != Status::Excluded && name == "br" {
            self.buf.push(' ');
        }
        if status != Status::Excluded
            && name == "img"
            && self.seen_title
            && self.out.image.is_none()
        {
            if let Some(src) = attr("src") {
                let alt = attr("alt").map(normalize_content).unwrap_or_default();
                self.out.image = Some((normalize_content(src), alt));
            }
        }
        let mut anchors = match &parent.anchor_ids {
            Some(ids) if INLINE.contains(&name) => Some(ids.clone()),
            _ => None,
        };
        if let Some(id) = anchor_id {
            anchors.get_or_insert_with(Vec::new).push(id);
        }
        let start = self.buf.len();
        let mut node = Node {
            tag: name.to_string(),
            start,
            text: start,
            status,
            sentence: SENTENCE.contains(&name),
            weighted: false,
            anchor_ids: anchors,
        };
        // A void element has no end, and Pagefind adds nothing for it.
        if !void {
            let weight = attr("data-pagefind-weight")
                .map(|w| (WEIGHT, w))
                .or_else(|| {
                    let auto = match name {
                        "h1" => "7",
                        "h2" => "6",
                        "h3" => "5",
                        "h4" => "4",
                        "h5" => "3",
                        "h6" => "2",
                        _ => return None,
                    };
                    Some((AUTO_WEIGHT, auto))
                });
            if let Some((marker, weight)) = weight {
                self.buf.push(' ');
                self.buf.push_str(marker);
                self.buf.push_str(weight);
                self.buf.push(' ');
                node.weighted = true;
            }
            if node.sentence {
                self.buf.push(' ');
            }
            node.text = self.buf.len();
        }
        node
    }
}

fn close(
    stack: &mut Vec<Node>,
    buf: &mut String,
    out: &mut Digest,
    name: &str,
    seen_title: &mut bool,
) {
    // Our HTML is well-formed; a stray end tag closes nothing.
    if stack.len() < 2 || stack.last().is_some_and(|n| n.tag != name) {
        return;
    }
    let Some(node) = stack.pop() else { return };
    // Pagefind takes the first h1 with text as the title; images after it count.
    if node.tag == "h1" && node.status != Status::Excluded && !buf[node.text..].trim().is_empty() {
        *seen_title = true;
        if out.auto_title.is_none() {
            out.auto_title = Some(normalize_content(&buf[node.text..]));
        }
    }
    if node.status != Status::Indexing {
        buf.truncate(node.start);
        return;
    }
    if node.sentence {
        if buf[node.start..]
            .chars()
            .last()
            .is_some_and(is_sentence_char)
        {
            buf.push('.');
        }
        buf.push(' ');
    }
    if node.weighted {
        buf.push(' ');
        buf.push_str(END_WEIGHT);
        buf.push(' ');
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
    let text = decoded.trim_matches(char::is_whitespace);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !c.is_whitespace() {
            continue;
        }
        let mut end = i + c.len_utf8();
        let mut run = 1;
        while let Some(&(j, next)) = chars.peek() {
            if !next.is_whitespace() {
                break;
            }
            end = j + next.len_utf8();
            run += 1;
            chars.next();
        }
        // A lone space, tab or no-break space stays; a newline or a run becomes one space.
        if run == 1 && c != '\n' {
            continue;
        }
        out.push_str(&text[copied..i]);
        out.push(' ');
        copied = end;
    }
    out.push_str(&text[copied..]);
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
