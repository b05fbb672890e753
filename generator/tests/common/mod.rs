//! Helpers shared by the integration tests: paths of the fixture and theme, writing
//! content files into temporary folders, and a tiny HTML tag reader for assertions.
//!
//! Each test binary uses a different subset, hence the blanket `dead_code` allowance.
#![allow(dead_code)]

pub mod browser;
pub mod payment;
pub mod servers;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use lotse::diagnostics::{Diagnostic, Severity};

/// The fixture region (`generator/tests/fixture`).
pub fn fixture_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixture"))
}

/// The default theme of the repository.
pub fn theme_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../themes/default"))
}

/// Writes `text` to `root/rel`, creating parent folders.
pub fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("a file has a parent folder")).unwrap();
    fs::write(&path, text).unwrap();
}

/// Replaces the first `from` in the file at `path` with `to`; `from` must be there.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file below `root`, by path relative to it, with its bytes.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A key that decodes to 32 bytes, as `lotse keys new` prints.
pub const KEY_A: &str = "AxSD0/FbgrfpxJDtwX/0nFd7cNh0h6bFSWF6IQd8IwM=";
pub const KEY_B: &str = "llK5B72zSvXlFdy1uAi57ginimeaWHrFDCV7huyeM6k=";

/// Writes the smallest valid region: two categories, two city portals (`stadt-a` with
/// an office `buergerbuero` and an office `ohne-schluessel` without key, `stadt-b` with
/// `buergerbuero` only), one regional service `basis` offered everywhere, and a
/// Gebärdensprache page with a video for each portal and the umbrella (without, the
/// check warns). Tests then add or overwrite single files to break one thing.
pub fn minimal_region(root: &Path) {
    write(
        root,
        "region.toml",
        r##"name = "Serviceportal Prüfregion"
slug = "pruefregion"
base_url = "https://www.pruefregion.example"
language = "de"
"##,
    );
    write(
        root,
        "categories.toml",
        r#"[[categories]]
id = "familie-kind"
title = "Familie & Kind"

[[categories]]
id = "umwelt"
title = "Umwelt"
"#,
    );
    write(
        root,
        "portals/stadt-a/portal.toml",
        format!(
            r#"name = "Stadt A"
short_name = "A"
kind = "city"

[[offices]]
id = "buergerbuero"
name = "Bürgerbüro A"
public_key = "{KEY_A}"

[[offices]]
id = "ohne-schluessel"
name = "Amt ohne Schlüssel"
"#
        ),
    );
    write(
        root,
        "portals/stadt-b/portal.toml",
        format!(
            r#"name = "Stadt B"
short_name = "B"
kind = "city"

[[offices]]
id = "buergerbuero"
name = "Bürgerbüro B"
public_key = "{KEY_B}"
"#
        ),
    );
    write(
        root,
        "services/basis.md",
        r#"+++
title = "Basisleistung"
summary = "Eine Leistung, die alle Städte anbieten."
categories = ["familie-kind"]
portals = ["*"]
office = "buergerbuero"
+++

Text der Basisleistung.
"#,
    );
    for dir in ["", "portals/stadt-a/", "portals/stadt-b/"] {
        write(
            root,
            &format!("{dir}pages/gebaerdensprache.md"),
            SIGN_LANGUAGE_PAGE,
        );
    }
}

/// A Gebärdensprache page with its video, as [`minimal_region`] writes it.
pub const SIGN_LANGUAGE_PAGE: &str = "+++\ntitle = \"Gebärdensprache\"\nvideo = \"https://video.pruefregion.example/dgs.mp4\"\n+++\n\nUnser Angebot in Deutscher Gebärdensprache.\n";

/// A service front matter + body around the given extra TOML lines, valid on its own in
/// [`minimal_region`].
pub fn service(extra: &str) -> String {
    format!(
        "+++\ntitle = \"Testleistung\"\nsummary = \"Eine Leistung zum Testen.\"\ncategories = [\"umwelt\"]\nportals = [\"*\"]\n{extra}+++\n\nText der Leistung.\n"
    )
}

/// Diagnostics printed as the CLI prints them.
pub fn lines(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(ToString::to_string).collect()
}

pub fn error_lines(diags: &[Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect()
}

pub fn warning_lines(diags: &[Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(ToString::to_string)
        .collect()
}

/// Decodes the entities Tera and pulldown-cmark write (`&#x2F;`, `&amp;`, ...).
pub fn unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// One start tag: its name and attributes (values unescaped).
#[derive(Debug, Clone)]
pub struct Tag {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    /// Byte offset of the `<` in the document.
    pub at: usize,
}

impl Tag {
    pub fn get(&self, attr: &str) -> Option<&str> {
        self.attrs.get(attr).map(String::as_str)
    }

    pub fn has(&self, attr: &str) -> bool {
        self.attrs.contains_key(attr)
    }
}

/// Every start tag of the document (enough HTML for tests: quoted or bare attribute
/// values, boolean attributes, comments skipped).
pub fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(rel) = html[i..].find('<') {
        let start = i + rel;
        if html[start..].starts_with("<!--") {
            i = html[start..]
                .find("-->")
                .map_or(html.len(), |e| start + e + 3);
            continue;
        }
        let mut j = start + 1;
        if j >= bytes.len() || !bytes[j].is_ascii_alphabetic() {
            i = start + 1;
            continue;
        }
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-') {
            j += 1;
        }
        let name = html[start + 1..j].to_ascii_lowercase();
        let mut attrs = BTreeMap::new();
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                break;
            }
            let key_start = j;
            while j < bytes.len()
                && !bytes[j].is_ascii_whitespace()
                && !matches!(bytes[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            let key = html[key_start..j].to_ascii_lowercase();
            let mut value = String::new();
            if j < bytes.len() && bytes[j] == b'=' {
                j += 1;
                if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                    let quote = bytes[j];
                    let value_start = j + 1;
                    j = value_start;
                    while j < bytes.len() && bytes[j] != quote {
                        j += 1;
                    }
                    value = unescape(&html[value_start..j.min(bytes.len())]);
                    j += 1;
                } else {
                    let value_start = j;
                    while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                        j += 1;
                    }
                    value = unescape(&html[value_start..j]);
                }
            }
            attrs.insert(key, value);
        }
        out.push(Tag {
            name,
            attrs,
            at: start,
        });
        i = j.min(html.len());
    }
    out
}

/// The text between `<tag ...>` at `open.at` and its first `</tag>`.
pub fn inner<'a>(html: &'a str, open: &Tag) -> &'a str {
    let body_start = html[open.at..]
        .find('>')
        .map_or(html.len(), |e| open.at + e + 1);
    let close = format!("</{}>", open.name);
    let body_end = html[body_start..]
        .find(&close)
        .map_or(html.len(), |e| body_start + e);
    &html[body_start..body_end]
}

/// The `<main>` part of a page, where a page's own content is.
pub fn main_part(html: &str) -> &str {
    let start = html.find("<main").unwrap_or(0);
    let end = html.find("</main>").unwrap_or(html.len());
    &html[start..end]
}
