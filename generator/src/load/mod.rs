//! Stage 1 of the pipeline: read every content file into drafts, reporting syntax and
//! schema problems. Cross-file checks happen in [`crate::check`].

pub mod appointments;
mod config;
pub mod fields;
pub mod frontmatter;
mod incremental;
mod links;
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
pub use incremental::{Changed, Loader, RegionalChange, Update};
pub use links::LocatedLink;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum FileKind {
    Service,
    Page,
}

enum Parsed {
    Service(Box<ServiceDraft>),
    Page(Box<PageDraft>),
}

/// Reads the whole content folder. Problems go to `diags`; what could be read is
/// returned either way so that one run reports as much as possible.
pub fn load(root: &Path, diags: &Diagnostics) -> Content {
    let mut content = load_region(root, diags);
    let mut markdown = Vec::new();
    for (dir, owner, kind) in folders(&content) {
        collect_markdown(&dir, owner, kind, &mut markdown, diags);
    }
    let parsed: Vec<(Option<usize>, Parsed)> = markdown
        .into_par_iter()
        .filter_map(|file| Some((file.owner, parse_markdown(&file, diags)?)))
        .collect();
    reserve(
        &mut content,
        parsed.iter().map(|(owner, item)| (*owner, item)),
    );
    for (owner, item) in parsed {
        place(&mut content, owner, item);
    }
    content
}

/// Makes room for `items` in their places, so that placing them moves each draft
/// once (the drafts are large, and growing a vector of 1,300 copies them many times).
fn reserve<'a>(content: &mut Content, items: impl Iterator<Item = (Option<usize>, &'a Parsed)>) {
    let mut services = vec![0usize; content.portals.len() + 1];
    let mut pages = vec![0usize; content.portals.len() + 1];
    for (owner, item) in items {
        let slot = owner.map_or(0, |i| i + 1);
        match item {
            Parsed::Service(_) => services[slot] += 1,
            Parsed::Page(_) => pages[slot] += 1,
        }
    }
    content.services.reserve(services[0]);
    content.pages.reserve(pages[0]);
    for (i, portal) in content.portals.iter_mut().enumerate() {
        portal.services.reserve(services[i + 1]);
        portal.pages.reserve(pages[i + 1]);
    }
}

/// The region's own files and its portals' portal.toml, without any Markdown: the
/// services and pages of the returned content are empty.
fn load_region(root: &Path, diags: &Diagnostics) -> Content {
    let mut content = region_files(root, diags);
    for (dir, slug) in portal_dirs(root, diags) {
        if let Some(portal) = load_portal(&dir, slug, diags) {
            content.portals.push(portal);
        }
    }
    content
}

/// region.toml and categories.toml: the content without portals and Markdown.
fn region_files(root: &Path, diags: &Diagnostics) -> Content {
    let (region, region_locs) = read_source(&root.join("region.toml"), diags)
        .and_then(|src| config::parse_region(&src, diags))
        .unzip();
    let region_locs = region_locs.unwrap_or_default();
    let categories = read_source(&root.join("categories.toml"), diags)
        .map(|src| config::parse_categories(&src, diags))
        .unwrap_or_default();
    Content {
        root: root.to_path_buf(),
        region,
        feedback_portal_loc: region_locs.feedback_portal,
        region_payment_loc: region_locs.payment,
        categories,
        services: Vec::new(),
        pages: Vec::new(),
        portals: Vec::new(),
    }
}

/// The portal folders with their slugs, in name order; folders whose name gives no
/// slug or the slug of an earlier one are reported and left out.
fn portal_dirs(root: &Path, diags: &Diagnostics) -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for entry in list_dir(&root.join("portals"), diags) {
        if !entry.is_dir() {
            continue;
        }
        let dir = entry.path;
        let Some(slug) = slug_of(&dir, diags) else {
            continue;
        };
        if let Some(first) = seen.get(&slug) {
            diags.error(
                Loc::file_start(&display(&dir.join("portal.toml"))),
                format!(
                    "duplicate slug `{slug}`: {} has the same slug",
                    first.display()
                ),
            );
            continue;
        }
        seen.insert(slug.clone(), dir.clone());
        out.push((dir, slug));
    }
    out
}

/// Reads a portal's portal.toml and checks its logo; `None` when it cannot be read.
fn load_portal(dir: &Path, slug: String, diags: &Diagnostics) -> Option<LoadedPortal> {
    let src = read_source(&dir.join("portal.toml"), diags)?;
    let config = config::parse_portal(&src, slug, diags)?;
    if let (Some(logo), Some(loc)) = (&config.portal.theme.logo, &config.logo_loc) {
        if logo.contains("..") || logo.starts_with('/') || !dir.join(logo).is_file() {
            diags.error(
                loc.clone(),
                format!("logo `{logo}` not found next to portal.toml"),
            );
        }
    }
    Some(LoadedPortal {
        loc: src.start(),
        config,
        dir: dir.to_path_buf(),
        services: Vec::new(),
        pages: Vec::new(),
    })
}

/// The Markdown folders of the loaded content, in the order their files are read:
/// the regional services and pages, then each portal's.
fn folders(content: &Content) -> Vec<(PathBuf, Option<usize>, FileKind)> {
    let root = &content.root;
    let mut out = vec![
        (root.join("services"), None, FileKind::Service),
        (root.join("pages"), None, FileKind::Page),
    ];
    for (i, portal) in content.portals.iter().enumerate() {
        out.push((portal.dir.join("services"), Some(i), FileKind::Service));
        out.push((portal.dir.join("pages"), Some(i), FileKind::Page));
    }
    out
}

/// Reads and parses one Markdown file; `None` when it cannot be read as its kind at
/// all (reported).
fn parse_markdown(file: &MarkdownFile, diags: &Diagnostics) -> Option<Parsed> {
    let src = read_source(&file.path, diags)?;
    let layer = if file.owner.is_some() {
        Layer::Local
    } else {
        Layer::Regional
    };
    Some(match file.kind {
        FileKind::Service => Parsed::Service(Box::new(service::parse_service(
            &src,
            file.slug.clone(),
            layer,
            diags,
        )?)),
        FileKind::Page => Parsed::Page(Box::new(page::parse_page(&src, file.slug.clone(), diags)?)),
    })
}

/// Adds a parsed file to its place in `content` (after the ones already there).
fn place(content: &mut Content, owner: Option<usize>, item: Parsed) {
    match (owner, item) {
        (None, Parsed::Service(s)) => content.services.push(*s),
        (None, Parsed::Page(p)) => content.pages.push(*p),
        (Some(i), Parsed::Service(s)) => content.portals[i].services.push(*s),
        (Some(i), Parsed::Page(p)) => content.portals[i].pages.push(*p),
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
    for entry in list_dir(dir, diags) {
        let is_file = entry.is_file();
        let path = entry.path;
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
        if path.extension().and_then(|e| e.to_str()) != Some("md") || !is_file {
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

/// An entry of a folder, with its type as the folder listing told it.
struct DirEntry {
    path: PathBuf,
    file_type: Option<fs::FileType>,
}

impl DirEntry {
    /// A file, or a link to one (as `Path::is_file`, without asking again for most).
    fn is_file(&self) -> bool {
        match self.file_type {
            Some(t) if !t.is_symlink() => t.is_file(),
            _ => self.path.is_file(),
        }
    }

    fn is_dir(&self) -> bool {
        match self.file_type {
            Some(t) if !t.is_symlink() => t.is_dir(),
            _ => self.path.is_dir(),
        }
    }
}

/// Entries of a folder in name order, so output and messages are stable.
fn list_dir(dir: &Path, diags: &Diagnostics) -> Vec<DirEntry> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            let mut entries: Vec<(std::ffi::OsString, DirEntry)> = entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    let entry = DirEntry {
                        path: e.path(),
                        file_type: e.file_type().ok(),
                    };
                    (e.file_name(), entry)
                })
                .collect();
            // All in one folder: by name is the order of the paths.
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            entries.into_iter().map(|(_, entry)| entry).collect()
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
