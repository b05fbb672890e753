//! Stage 1 of the pipeline: read every content file into drafts, reporting syntax and
//! schema problems. Cross-file checks happen in [`crate::check`].

pub mod appointments;
mod config;
pub mod fields;
pub mod frontmatter;
mod page;
mod service;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lotse_model::{slugify, Category, Region};
use rayon::prelude::*;

pub use appointments::AppointmentDraft;
pub use config::{parse_hex_color, PortalConfig};
pub use page::PageDraft;
pub use service::{Layer, PaymentDraft, ServiceDraft};

use crate::diagnostics::{Diagnostics, Loc};
use crate::source::SourceText;

/// Everything read from a content folder.
pub struct Content {
    /// The content folder.
    pub root: PathBuf,
    pub region: Option<Region>,
    /// Where region.toml sets `feedback_portal`.
    pub feedback_portal_loc: Option<Loc>,
    /// Where region.toml has its `[payment]` table (the provider of every portal that
    /// sets none), also when the table was invalid.
    pub region_payment_loc: Option<Loc>,
    pub categories: Vec<(Category, Loc)>,
    /// Regional services (`content/services/`).
    pub services: Vec<ServiceDraft>,
    /// Free pages of the umbrella (`content/pages/`).
    pub pages: Vec<PageDraft>,
    pub portals: Vec<LoadedPortal>,
}

pub struct LoadedPortal {
    pub config: PortalConfig,
    pub dir: PathBuf,
    pub loc: Loc,
    pub services: Vec<ServiceDraft>,
    pub pages: Vec<PageDraft>,
}

/// One Markdown file to parse, and where it belongs.
struct MarkdownFile {
    path: PathBuf,
    slug: String,
    owner: Option<usize>,
    kind: FileKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Service,
    Page,
}

enum Parsed {
    Service(Box<ServiceDraft>),
    Page(PageDraft),
}

/// Reads the whole content folder. Problems go to `diags`; what could be read is
/// returned either way so that one run reports as much as possible.
pub fn load(root: &Path, diags: &Diagnostics) -> Content {
    let (region, region_locs) = read_source(&root.join("region.toml"), diags)
        .and_then(|src| config::parse_region(&src, diags))
        .unzip();
    let region_locs = region_locs.unwrap_or_default();
    let categories = read_source(&root.join("categories.toml"), diags)
        .map(|src| config::parse_categories(&src, diags))
        .unwrap_or_default();

    let mut markdown = Vec::new();
    collect_markdown(
        &root.join("services"),
        None,
        FileKind::Service,
        &mut markdown,
        diags,
    );
    collect_markdown(
        &root.join("pages"),
        None,
        FileKind::Page,
        &mut markdown,
        diags,
    );

    let mut portals = Vec::new();
    let mut portal_dirs: HashMap<String, PathBuf> = HashMap::new();
    for dir in list_dir(&root.join("portals"), diags) {
        if !dir.is_dir() {
            continue;
        }
        let Some(slug) = slug_of(&dir, diags) else {
            continue;
        };
        if let Some(first) = portal_dirs.get(&slug) {
            diags.error(
                Loc::file_start(&display(&dir.join("portal.toml"))),
                format!(
                    "duplicate slug `{slug}`: {} has the same slug",
                    first.display()
                ),
            );
            continue;
        }
        portal_dirs.insert(slug.clone(), dir.clone());
        let toml_path = dir.join("portal.toml");
        let Some(src) = read_source(&toml_path, diags) else {
            continue;
        };
        let Some(config) = config::parse_portal(&src, slug, diags) else {
            continue;
        };
        if let (Some(logo), Some(loc)) = (&config.portal.theme.logo, &config.logo_loc) {
            if logo.contains("..") || logo.starts_with('/') || !dir.join(logo).is_file() {
                diags.error(
                    loc.clone(),
                    format!("logo `{logo}` not found next to portal.toml"),
                );
            }
        }
        let index = portals.len();
        collect_markdown(
            &dir.join("services"),
            Some(index),
            FileKind::Service,
            &mut markdown,
            diags,
        );
        collect_markdown(
            &dir.join("pages"),
            Some(index),
            FileKind::Page,
            &mut markdown,
            diags,
        );
        portals.push(LoadedPortal {
            loc: src.start(),
            config,
            dir,
            services: Vec::new(),
            pages: Vec::new(),
        });
    }

    let parsed: Vec<(Option<usize>, Parsed)> = markdown
        .into_par_iter()
        .filter_map(|file| {
            let src = read_source(&file.path, diags)?;
            let layer = if file.owner.is_some() {
                Layer::Local
            } else {
                Layer::Regional
            };
            let parsed = match file.kind {
                FileKind::Service => Parsed::Service(Box::new(service::parse_service(
                    &src, file.slug, layer, diags,
                )?)),
                FileKind::Page => Parsed::Page(page::parse_page(&src, file.slug, diags)?),
            };
            Some((file.owner, parsed))
        })
        .collect();

    let mut services = Vec::new();
    let mut pages = Vec::new();
    for (owner, item) in parsed {
        match (owner, item) {
            (None, Parsed::Service(s)) => services.push(*s),
            (None, Parsed::Page(p)) => pages.push(p),
            (Some(i), Parsed::Service(s)) => portals[i].services.push(*s),
            (Some(i), Parsed::Page(p)) => portals[i].pages.push(p),
        }
    }
    Content {
        root: root.to_path_buf(),
        region,
        feedback_portal_loc: region_locs.feedback_portal,
        region_payment_loc: region_locs.payment,
        categories,
        services,
        pages,
        portals,
    }
}

/// Lists the `.md` files of a folder (a missing folder is fine: it is optional).
fn collect_markdown(
    dir: &Path,
    owner: Option<usize>,
    kind: FileKind,
    out: &mut Vec<MarkdownFile>,
    diags: &Diagnostics,
) {
    if !dir.exists() {
        return;
    }
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for path in list_dir(dir, diags) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        // A page's video lives next to it (`video` in its front matter).
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if kind == FileKind::Page
            && page::VIDEO_TYPES
                .iter()
                .any(|ext| extension.eq_ignore_ascii_case(ext))
        {
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("md") || !path.is_file() {
            diags.warning(
                Loc::file_start(&display(&path)),
                "ignored: only `.md` files are read in this folder",
            );
            continue;
        }
        let Some(slug) = slug_of(&path, diags) else {
            continue;
        };
        if let Some(first) = seen.get(&slug) {
            diags.error(
                Loc::file_start(&display(&path)),
                format!(
                    "duplicate slug `{slug}`: {} has the same slug",
                    first.display()
                ),
            );
            continue;
        }
        seen.insert(slug.clone(), path.clone());
        out.push(MarkdownFile {
            path,
            slug,
            owner,
            kind,
        });
    }
}

/// The slug of a file or folder name (without extension); warns when the name is not
/// already the slug, errors when nothing of it survives.
fn slug_of(path: &Path, diags: &Diagnostics) -> Option<String> {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let slug = slugify(stem);
    let loc = Loc::file_start(&display(path));
    if slug.is_empty() {
        diags.error(
            loc,
            format!("cannot make a slug of the name `{stem}`: use letters or digits"),
        );
        return None;
    }
    if slug != stem {
        diags.warning(
            loc,
            format!("the name `{stem}` is published as `{slug}`; rename it to match"),
        );
    }
    Some(slug)
}

/// Entries of a folder in name order, so output and messages are stable.
fn list_dir(dir: &Path, diags: &Diagnostics) -> Vec<PathBuf> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            paths
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            diags.error(
                Loc::file_start(&display(dir)),
                format!("cannot read folder: {e}"),
            );
            Vec::new()
        }
    }
}

fn read_source(path: &Path, diags: &Diagnostics) -> Option<SourceText> {
    let shown = display(path);
    match fs::read_to_string(path) {
        Ok(text) => Some(SourceText::new(shown, text)),
        Err(e) => {
            let message = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found".to_string(),
                std::io::ErrorKind::InvalidData => "not valid UTF-8 text".to_string(),
                _ => format!("cannot read file: {e}"),
            };
            diags.error(Loc::file_start(&shown), message);
            None
        }
    }
}

pub fn display(path: &Path) -> Arc<str> {
    Arc::from(path.display().to_string())
}
