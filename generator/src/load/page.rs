//! Reads a free page (Impressum, Datenschutz, ...).

use std::path::Path;

use super::fields::{Fields, Located, TomlDoc};
use super::frontmatter;
use super::service::report_front_matter_error;
use crate::diagnostics::{Diagnostics, Loc};
use crate::source::SourceText;

#[derive(Clone, Debug)]
pub struct PageDraft {
    pub slug: String,
    pub loc: Loc,
    pub title: String,
    pub description: Option<String>,
    pub weight: i64,
    /// A video shown on the page (the Gebärdensprache page's video): an https address or
    /// a file next to the page, as written.
    pub video: Option<Located<String>>,
    pub body: String,
    /// The body's links into the site (`check/links.rs` checks them).
    pub links: Vec<super::LocatedLink>,
}

/// The file types a `video` file may have, which browsers play in `<video>`.
pub const VIDEO_TYPES: [&str; 2] = ["mp4", "webm"];

pub fn parse_page(src: &SourceText, slug: String, diags: &Diagnostics) -> Option<PageDraft> {
    let parts = match frontmatter::split(&src.text) {
        Ok(parts) => parts,
        Err(error) => {
            report_front_matter_error(src, error, diags);
            return None;
        }
    };
    let doc = TomlDoc {
        src,
        base: parts.front_matter_offset,
    };
    let table = doc.parse(parts.front_matter, diags)?;
    let mut f = Fields::new(&table, "page front matter", &doc, diags);
    let title = f.required_str("title");
    let description = f.str("description").map(|s| s.value);
    let weight = f.number("weight").map_or(0, |w| w.value as i64);
    let video = f.str("video").filter(|v| check_video(src, v, diags));
    f.finish();
    if parts.body.trim().is_empty() {
        diags.warning(src.start(), "this page has no text below its front matter");
    }
    Some(PageDraft {
        slug,
        loc: src.start(),
        title: title?.value,
        description,
        weight,
        video,
        body: parts.body.to_string(),
        links: super::links::located_links(parts.body, &src.loc(parts.body_offset)),
    })
}

/// A video is an https address or a `.mp4`/`.webm` file in the page's folder.
fn check_video(src: &SourceText, video: &Located<String>, diags: &Diagnostics) -> bool {
    let value = video.value.as_str();
    if value.starts_with("https://") {
        return true;
    }
    let error = if value.contains(':') {
        "`video` must be an https address or a file next to the page".to_string()
    } else if value.contains(['/', '\\']) || value.starts_with('.') {
        format!("video `{value}` must be a file name in the page's folder, without folders")
    } else if !VIDEO_TYPES.iter().any(|ext| {
        Path::new(value)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    }) {
        format!("video `{value}` must be an `.mp4` or `.webm` file, which browsers play")
    } else if !Path::new(&*src.path).with_file_name(value).is_file() {
        format!("video `{value}` not found next to the page")
    } else {
        return true;
    };
    diags.error(video.loc.clone(), error);
    false
}
