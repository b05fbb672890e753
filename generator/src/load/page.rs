//! Reads a free page (Impressum, Datenschutz, ...).

use super::fields::{Fields, TomlDoc};
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
    pub body: String,
}

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
        body: parts.body.to_string(),
    })
}
