//! The search index: Pagefind (`pagefind::api`) run over one small synthetic HTML record
//! per service page and per office contact, written to `pagefind/` in the build output.
//!
//! One global index with filters `portal`, `thema`, `anbieter` and `typ`. A portal's
//! search page always filters on its own `portal` value, so another portal's local
//! services can never appear there; the umbrella search offers the same filter as a
//! choice. A portal's copy of a state or federal service is its own record (its own URL
//! under the portal), so "the state and federal services it lists" come for free.
//!
//! Records are built from the resolved site, not scraped from the rendered pages: the
//! templates need no `data-pagefind-*` attributes, and keywords get their own weight.
//! Only `lotse build` indexes; `lotse serve` does not (see docs/search.md).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use pagefind::api::PagefindIndex;
use pagefind::options::PagefindServiceConfig;

use rayon::prelude::*;

use crate::markdown;
use crate::render::Sink;
use crate::resolve::{PortalSite, Site};

/// Folder of the index inside the site root.
pub const INDEX_DIR: &str = "pagefind";

/// What indexing produced.
#[derive(Debug, Default, Clone)]
pub struct IndexStats {
    pub records: usize,
    pub files: usize,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// One record to index: a URL and the synthetic HTML Pagefind reads.
pub struct Record {
    pub url: String,
    pub html: String,
}

/// Builds the index for `site` and stores its files under `pagefind/` through `sink`.
pub fn write_index(site: &Site, sink: &dyn Sink) -> Result<IndexStats> {
    let started = Instant::now();
    let mut stats = index_records(records(site), sink)?;
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// Indexes `records` and stores the index under `pagefind/` through `sink`.
pub fn index_records(records: Vec<Record>, sink: &dyn Sink) -> Result<IndexStats> {
    let started = Instant::now();
    let count = records.len();
    // Pagefind parses files from a folder in parallel (rayon); its in-memory
    // `add_html_file` is serial and copies every parsed page, three times slower on the
    // 18,200-page corpus (docs/search.md). So the records go to a scratch folder first.
    let scratch = scratch_dir().context("cannot create a scratch folder for the search records")?;
    records
        .par_iter()
        .enumerate()
        .try_for_each(|(i, r)| -> Result<()> {
            // A folder per thousand records keeps directories small.
            let dir = scratch.path().join(format!("{}", i / 1000));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(format!("{i}.html")), &r.html)?;
            Ok(())
        })
        .with_context(|| {
            format!(
                "cannot write search records to {}",
                scratch.path().display()
            )
        })?;
    drop(records);
    // Pagefind's API is async; run it on a private runtime in its own thread so this
    // works whether or not the caller is already inside a Tokio runtime.
    let folder = scratch.path().to_string_lossy().into_owned();
    let files = std::thread::scope(|scope| {
        scope
            .spawn(|| -> Result<Vec<pagefind::api::SyntheticFile>> {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("cannot start the indexer's runtime")?;
                runtime.block_on(async move {
                    let options = PagefindServiceConfig::builder()
                        .force_language("de".to_string())
                        .build();
                    let mut index = PagefindIndex::new(Some(options))?;
                    let added = index
                        .add_directory(folder, Some("**/*.html".to_string()))
                        .await?;
                    anyhow::ensure!(
                        added == count,
                        "the indexer read {added} of {count} search records"
                    );
                    index.get_files().await
                })
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the search indexer panicked"))?
    })?;
    drop(scratch);
    // The ready-made UI and the playground are not used: search.js talks to the
    // low-level pagefind.js API.
    let files: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|f| (f.filename.to_string_lossy().replace('\\', "/"), f.contents))
        .filter(|(name, _)| {
            !(name.starts_with("pagefind-ui.")
                || name == "pagefind-highlight.js"
                || name == "wasm.unknown.pagefind"
                || name.starts_with("pagefind-modular-ui.")
                || name.starts_with("pagefind-component-ui.")
                || name.starts_with("playground/"))
        })
        .collect();
    // One fragment file per record: write them in parallel like the pages.
    files.par_iter().try_for_each(|(name, contents)| {
        let path = format!("{INDEX_DIR}/{name}");
        sink.put(&path, contents)
            .with_context(|| format!("cannot write {path}"))
    })?;
    let mut stats = IndexStats {
        records: count,
        files: files.len(),
        bytes: files.iter().map(|(_, c)| c.len() as u64).sum(),
        ..IndexStats::default()
    };
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// A scratch folder for the records, in memory (`/dev/shm`) where the system has one:
/// creating 18,000 small files on disk costs seconds, in memory a fraction of that.
fn scratch_dir() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(dir) = tempfile::Builder::new()
            .prefix("lotse-search-")
            .tempdir_in(shm)
        {
            return Ok(dir);
        }
    }
    tempfile::Builder::new().prefix("lotse-search-").tempdir()
}

/// The records of the whole site: every service page of every portal, and every office
/// that some service names (linked to that service's "Zuständige Stelle").
pub fn records(site: &Site) -> Vec<Record> {
    site.portals
        .par_iter()
        .flat_map_iter(|ps| portal_records(site, ps))
        .collect()
}

/// The records of one portal: its service pages and the offices they name.
fn portal_records(site: &Site, ps: &PortalSite) -> Vec<Record> {
    let mut out = Vec::new();
    {
        let portal = &ps.portal;
        let mut offices_done = BTreeSet::new();
        for s in &ps.services {
            let svc = &s.service;
            let url = format!("/{}/{}/", portal.slug, svc.slug);
            let mut h = String::with_capacity(2048);
            h.push_str("<html lang=\"de\"><body>");
            push_el(&mut h, "h1", &svc.title);
            // Keywords are synonyms ("Hundesteuer" for "Hund anmelden"): weighted
            // almost like the title. The folded spellings (ue for ü) go along so that
            // a query typed without umlauts still finds the page.
            let mut keywords: Vec<String> = svc.keywords.clone();
            for text in std::iter::once(&svc.title).chain(svc.keywords.iter()) {
                let folded = fold_umlauts(text);
                if &folded != text {
                    keywords.push(folded);
                }
            }
            if !keywords.is_empty() {
                h.push_str("<p data-pagefind-weight=\"6\">");
                h.push_str(&escape(&keywords.join(" · ")));
                h.push_str("</p>");
            }
            push_el(&mut h, "p", &svc.summary);
            if let Some(body) = &s.body {
                h.push_str("<div>");
                h.push_str(&markdown::render(body));
                h.push_str("</div>");
            }
            for list in [&svc.documents, &svc.fees, &svc.deadlines] {
                for item in list {
                    push_el(&mut h, "p", item);
                }
            }
            let office = svc.office.as_deref().and_then(|id| portal.office(id));
            if let Some(o) = office {
                push_el(&mut h, "p", &o.name);
            }
            // Filters and result metadata, kept out of the searchable text.
            h.push_str("<div data-pagefind-ignore>");
            push_attr_el(&mut h, "data-pagefind-filter", "portal", &portal.slug);
            push_attr_el(
                &mut h,
                "data-pagefind-filter",
                "anbieter",
                svc.provider.as_str(),
            );
            push_attr_el(&mut h, "data-pagefind-filter", "typ", "leistung");
            for id in &svc.categories {
                if let Some(c) = site.categories.iter().find(|c| &c.id == id) {
                    push_attr_el(&mut h, "data-pagefind-filter", "thema", &c.title);
                }
            }
            push_attr_el(&mut h, "data-pagefind-meta", "title", &svc.title);
            push_attr_el(&mut h, "data-pagefind-meta", "summary", &svc.summary);
            push_attr_el(&mut h, "data-pagefind-meta", "portal_name", &portal.name);
            push_attr_el(
                &mut h,
                "data-pagefind-meta",
                "anbieter",
                svc.provider.as_str(),
            );
            // Land and Bund services repeat in every portal; the umbrella search shows
            // them once.
            let dedupe = if svc.provider.is_external() {
                svc.slug.clone()
            } else {
                url.clone()
            };
            push_attr_el(&mut h, "data-pagefind-meta", "gruppe", &dedupe);
            push_attr_el(&mut h, "data-pagefind-meta", "ziel", &url);
            h.push_str("</div></body></html>");
            out.push(Record {
                url: url.clone(),
                html: h,
            });

            if let Some(o) = office {
                if offices_done.insert(o.id.clone()) {
                    let mut h = String::with_capacity(512);
                    h.push_str("<html lang=\"de\"><body>");
                    push_el(&mut h, "h1", &o.name);
                    let folded = fold_umlauts(&o.name);
                    if folded != o.name {
                        push_el(&mut h, "p", &folded);
                    }
                    for line in o.address.iter().chain(o.phone.iter()).chain(o.email.iter()) {
                        push_el(&mut h, "p", line);
                    }
                    for line in &o.hours {
                        push_el(&mut h, "p", line);
                    }
                    let contact = [o.address.as_deref(), o.phone.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ");
                    h.push_str("<div data-pagefind-ignore>");
                    push_attr_el(&mut h, "data-pagefind-filter", "portal", &portal.slug);
                    push_attr_el(&mut h, "data-pagefind-filter", "anbieter", "kommune");
                    push_attr_el(&mut h, "data-pagefind-filter", "typ", "kontakt");
                    push_attr_el(&mut h, "data-pagefind-meta", "title", &o.name);
                    push_attr_el(&mut h, "data-pagefind-meta", "summary", &contact);
                    push_attr_el(&mut h, "data-pagefind-meta", "portal_name", &portal.name);
                    push_attr_el(&mut h, "data-pagefind-meta", "anbieter", "kontakt");
                    let url = format!("{url}#s-stelle");
                    push_attr_el(&mut h, "data-pagefind-meta", "gruppe", &url);
                    push_attr_el(&mut h, "data-pagefind-meta", "ziel", &url);
                    h.push_str("</div></body></html>");
                    out.push(Record { url, html: h });
                }
            }
        }
    }
    out
}

/// ä -> ae, ö -> oe, ü -> ue, ß -> ss: how people type German without umlauts.
pub fn fold_umlauts(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'Ä' => out.push_str("Ae"),
            'Ö' => out.push_str("Oe"),
            'Ü' => out.push_str("Ue"),
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn push_el(h: &mut String, tag: &str, text: &str) {
    h.push('<');
    h.push_str(tag);
    h.push('>');
    h.push_str(&escape(text));
    h.push_str("</");
    h.push_str(tag);
    h.push('>');
}

/// `<span data-pagefind-filter="portal">bottrop</span>`: the element form, so values
/// may contain commas and colons.
fn push_attr_el(h: &mut String, attr: &str, key: &str, value: &str) {
    h.push_str("<span ");
    h.push_str(attr);
    h.push_str("=\"");
    h.push_str(key);
    h.push_str("\">");
    h.push_str(&escape(value));
    h.push_str("</span>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_umlauts() {
        assert_eq!(fold_umlauts("Führungszeugnis"), "Fuehrungszeugnis");
        assert_eq!(fold_umlauts("Straße Ärger"), "Strasse Aerger");
    }
}
