//! Loading for `lotse serve`: the content folder read like [`load`](super::load), but
//! with the diagnostics of each part kept apart (the region's files, each portal.toml,
//! each Markdown folder's listing, each Markdown file), so that after an edit only the
//! changed files are read again and the diagnostics stay exactly those of a full load.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::{
    collect_markdown, display, folders, load_portal, parse_markdown, place, portal_dirs,
    region_files, Content, FileKind, MarkdownFile, PageDraft, Parsed, ServiceDraft,
};
use crate::diagnostics::{Diagnostic, Diagnostics};

/// The loaded content and where each of its diagnostics came from.
pub struct Loader {
    content: Content,
    /// The content folder made absolute, to recognise the paths of file events.
    absolute_root: Option<PathBuf>,
    /// region.toml, categories.toml, the portal folders' names, and the portal.toml of
    /// portals that could not be loaded.
    region_diags: Vec<Diagnostic>,
    /// Each loaded portal's portal.toml (and logo), in the order of `content.portals`.
    portal_diags: Vec<Vec<Diagnostic>>,
    /// The Markdown folders, in the order of [`folders`].
    folders: Vec<Folder>,
    /// Each Markdown file's own diagnostics, where it has any.
    file_diags: HashMap<PathBuf, Vec<Diagnostic>>,
}

struct Folder {
    dir: PathBuf,
    owner: Option<usize>,
    kind: FileKind,
    /// The files its listing accepted, in order.
    files: Vec<PathBuf>,
    /// The listing's diagnostics (ignored files, names, duplicate slugs).
    diags: Vec<Diagnostic>,
}

/// What an [`Loader::update`] changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// Portals (indices into `content.portals`) whose portal.toml or local files
    /// changed.
    pub portals: BTreeSet<usize>,
    /// Whether the umbrella's own pages (`content/pages/`) changed.
    pub pages: bool,
    /// Regional services that changed, appeared or disappeared.
    pub regional: Vec<RegionalChange>,
}

/// A regional service file that changed, with the portals it was and is offered in
/// (its `portals` list as written, `*` included).
#[derive(Debug, PartialEq, Eq)]
pub struct RegionalChange {
    pub slug: String,
    pub offered_before: Vec<String>,
    pub offered_after: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Update {
    /// Everything was read again: a region-wide file changed (region.toml,
    /// categories.toml), a portal folder appeared or went, or a portal.toml became
    /// readable or unreadable.
    Full,
    /// Only the files named were read again.
    Partial(Changed),
}

impl Loader {
    /// Reads the whole content folder.
    pub fn new(root: &Path) -> Loader {
        let region = Diagnostics::new();
        let mut content = region_files(root, &region);
        let mut portal_diags = Vec::new();
        for (dir, slug) in portal_dirs(root, &region) {
            let diags = Diagnostics::new();
            match load_portal(&dir, slug, &diags) {
                Some(portal) => {
                    content.portals.push(portal);
                    portal_diags.push(diags.sorted());
                }
                // A change inside this folder reads everything again.
                None => append(&region, diags.sorted()),
            }
        }
        let mut folder_list = Vec::new();
        let mut markdown = Vec::new();
        for (dir, owner, kind) in folders(&content) {
            let diags = Diagnostics::new();
            let first = markdown.len();
            collect_markdown(&dir, owner, kind, &mut markdown, &diags);
            folder_list.push(Folder {
                dir,
                owner,
                kind,
                files: markdown[first..].iter().map(|f| f.path.clone()).collect(),
                diags: diags.sorted(),
            });
        }
        let mut file_diags = HashMap::new();
        let parsed = parse_all(markdown);
        let items = parsed
            .iter()
            .filter_map(|(file, item, _)| Some((file.owner, item.as_ref()?)));
        super::reserve(&mut content, items);
        for (file, parsed, diags) in parsed {
            if !diags.is_empty() {
                file_diags.insert(file.path, diags);
            }
            if let Some(item) = parsed {
                place(&mut content, file.owner, item);
            }
        }
        Loader {
            absolute_root: std::path::absolute(root).ok(),
            content,
            region_diags: region.sorted(),
            portal_diags,
            folders: folder_list,
            file_diags,
        }
    }

    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Every diagnostic of loading, as [`load`](super::load) reports them (in no
    /// particular order).
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.region_diags
            .iter()
            .chain(self.portal_diags.iter().flatten())
            .chain(self.folders.iter().flat_map(|f| &f.diags))
            .chain(self.file_diags.values().flatten())
    }

    /// Reads again what the changed `paths` (files or folders, created, changed or
    /// removed) affect. Paths outside the content folder, or in places loading never
    /// reads, change nothing.
    pub fn update(&mut self, paths: &[PathBuf]) -> Update {
        let mut configs: BTreeSet<usize> = BTreeSet::new();
        let mut touched: HashMap<usize, HashSet<PathBuf>> = HashMap::new();
        for path in paths {
            let Some(relative) = self.relative(path) else {
                continue;
            };
            let Some(parts) = relative
                .components()
                .map(|c| match c {
                    Component::Normal(name) => name.to_str(),
                    _ => None,
                })
                .collect::<Option<Vec<&str>>>()
            else {
                return self.reload();
            };
            let file = self.content.root.join(&relative);
            match parts.as_slice() {
                [] | ["region.toml"] | ["categories.toml"] | ["portals"] | ["portals", _] => {
                    return self.reload()
                }
                [folder @ ("services" | "pages"), rest @ ..] => {
                    let index = self.folder_index(None, folder);
                    mark(&mut touched, index, rest, file);
                }
                ["portals", name, rest @ ..] => {
                    let Some(portal) = self
                        .content
                        .portals
                        .iter()
                        .position(|p| p.dir.file_name().and_then(|n| n.to_str()) == Some(name))
                    else {
                        // Not a loaded portal (its portal.toml was unreadable).
                        return self.reload();
                    };
                    match rest {
                        [folder @ ("services" | "pages"), rest @ ..] => {
                            let index = self.folder_index(Some(portal), folder);
                            mark(&mut touched, index, rest, file);
                        }
                        // portal.toml, or another file next to it (the logo).
                        _ => {
                            configs.insert(portal);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut changed = Changed::default();
        for portal in configs {
            if !self.reload_config(portal) {
                return self.reload();
            }
            changed.portals.insert(portal);
        }
        let mut touched: Vec<(usize, HashSet<PathBuf>)> = touched.into_iter().collect();
        touched.sort_by_key(|(index, _)| *index);
        for (index, files) in touched {
            self.reload_folder(index, &files, &mut changed);
        }
        Update::Partial(changed)
    }

    /// Reads everything again.
    fn reload(&mut self) -> Update {
        *self = Loader::new(&self.content.root.clone());
        Update::Full
    }

    /// `path` relative to the content folder, if it is inside.
    fn relative(&self, path: &Path) -> Option<PathBuf> {
        let root = &self.content.root;
        if let Ok(rest) = path.strip_prefix(root) {
            return Some(rest.to_path_buf());
        }
        if let Some(rest) = self
            .absolute_root
            .as_ref()
            .and_then(|r| path.strip_prefix(r).ok())
        {
            return Some(rest.to_path_buf());
        }
        let canonical = root.canonicalize().ok()?;
        path.strip_prefix(canonical).ok().map(Path::to_path_buf)
    }

    fn folder_index(&self, owner: Option<usize>, name: &str) -> usize {
        let kind = if name == "services" {
            FileKind::Service
        } else {
            FileKind::Page
        };
        self.folders
            .iter()
            .position(|f| f.owner == owner && f.kind == kind)
            .expect("every loaded portal has its two folders")
    }

    /// Reads portal.toml of `portal` again; `false` when it can no longer be read (the
    /// portal drops out, which only a full load gets right).
    fn reload_config(&mut self, portal: usize) -> bool {
        let loaded = &self.content.portals[portal];
        let diags = Diagnostics::new();
        let slug = loaded.config.portal.slug.clone();
        let Some(fresh) = load_portal(&loaded.dir.clone(), slug, &diags) else {
            return false;
        };
        let loaded = &mut self.content.portals[portal];
        loaded.config = fresh.config;
        loaded.loc = fresh.loc;
        self.portal_diags[portal] = diags.sorted();
        true
    }

    /// Lists folder `index` again and parses the files in `changed`, the new ones, and
    /// for a pages folder all (a page checks that its video file exists).
    fn reload_folder(&mut self, index: usize, changed: &HashSet<PathBuf>, out: &mut Changed) {
        let folder = &self.folders[index];
        let (owner, kind) = (folder.owner, folder.kind);
        // Files that were listed and still are files leave the listing as it was; a
        // new or removed file, or the folder itself, needs it read again.
        let relist = changed
            .iter()
            .any(|path| !path.is_file() || !folder.files.contains(path));
        let mut listed = Vec::new();
        let listing = if relist {
            let diags = Diagnostics::new();
            collect_markdown(&folder.dir, owner, kind, &mut listed, &diags);
            diags.sorted()
        } else {
            for path in &folder.files {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                listed.push(MarkdownFile {
                    path: path.clone(),
                    slug: lotse_model::slugify(stem),
                    owner,
                    kind,
                });
            }
            folder.diags.clone()
        };
        let before: HashSet<&PathBuf> = folder.files.iter().collect();
        let now: HashSet<&PathBuf> = listed.iter().map(|f| &f.path).collect();
        let removed: Vec<PathBuf> = folder
            .files
            .iter()
            .filter(|p| !now.contains(p))
            .cloned()
            .collect();
        let order: Vec<PathBuf> = listed.iter().map(|f| f.path.clone()).collect();
        let (to_parse, keep): (Vec<MarkdownFile>, Vec<MarkdownFile>) =
            listed.into_iter().partition(|f| {
                kind == FileKind::Page || changed.contains(&f.path) || !before.contains(&f.path)
            });
        let kept: HashSet<Arc<str>> = keep.iter().map(|f| display(&f.path)).collect();
        let mut fresh: HashMap<Arc<str>, Parsed> = HashMap::new();
        for (file, parsed, file_diags) in parse_all(to_parse) {
            if file_diags.is_empty() {
                self.file_diags.remove(&file.path);
            } else {
                self.file_diags.insert(file.path.clone(), file_diags);
            }
            if let Some(item) = parsed {
                fresh.insert(display(&file.path), item);
            }
        }
        for path in &removed {
            self.file_diags.remove(path);
        }
        let folder = &mut self.folders[index];
        folder.files = order.clone();
        folder.diags = listing;

        let order: Vec<Arc<str>> = order.iter().map(|p| display(p)).collect();
        match (owner, kind) {
            (None, FileKind::Service) => {
                let offered = |d: &ServiceDraft| -> Vec<String> {
                    d.portals
                        .iter()
                        .flatten()
                        .map(|p| p.value.clone())
                        .collect()
                };
                let mut changes: HashMap<String, RegionalChange> = HashMap::new();
                for parsed in fresh.values() {
                    if let Parsed::Service(d) = parsed {
                        regional_change(&mut changes, &d.slug).offered_after = offered(d);
                    }
                }
                let old = std::mem::take(&mut self.content.services);
                let (new, dropped) = merge(old, &order, &kept, fresh, |d| &d.path, service_of);
                for d in &dropped {
                    regional_change(&mut changes, &d.slug).offered_before = offered(d);
                }
                let mut changes: Vec<RegionalChange> = changes.into_values().collect();
                changes.sort_by(|a, b| a.slug.cmp(&b.slug));
                out.regional.extend(changes);
                self.content.services = new;
            }
            (None, FileKind::Page) => {
                let old = std::mem::take(&mut self.content.pages);
                let (new, _) = merge(old, &order, &kept, fresh, |d| &d.loc.path, page_of);
                self.content.pages = new;
                out.pages = true;
            }
            (Some(portal), FileKind::Service) => {
                let loaded = &mut self.content.portals[portal];
                let old = std::mem::take(&mut loaded.services);
                let (new, _) = merge(old, &order, &kept, fresh, |d| &d.path, service_of);
                loaded.services = new;
                out.portals.insert(portal);
            }
            (Some(portal), FileKind::Page) => {
                let loaded = &mut self.content.portals[portal];
                let old = std::mem::take(&mut loaded.pages);
                let (new, _) = merge(old, &order, &kept, fresh, |d| &d.loc.path, page_of);
                loaded.pages = new;
                out.portals.insert(portal);
            }
        }
    }
}

fn regional_change<'a>(
    changes: &'a mut HashMap<String, RegionalChange>,
    slug: &str,
) -> &'a mut RegionalChange {
    changes
        .entry(slug.to_string())
        .or_insert_with(|| RegionalChange {
            slug: slug.to_string(),
            offered_before: Vec::new(),
            offered_after: Vec::new(),
        })
}

fn service_of(parsed: Parsed) -> Option<ServiceDraft> {
    match parsed {
        Parsed::Service(s) => Some(*s),
        Parsed::Page(_) => None,
    }
}

fn page_of(parsed: Parsed) -> Option<PageDraft> {
    match parsed {
        Parsed::Page(p) => Some(*p),
        Parsed::Service(_) => None,
    }
}

/// The drafts of a folder in listing order (`order`, the files' display paths): the
/// old draft of each file in `kept`, the fresh one of each file parsed again. Also
/// returns the old drafts that were replaced or whose file went.
fn merge<D>(
    old: Vec<D>,
    order: &[Arc<str>],
    kept: &HashSet<Arc<str>>,
    mut fresh: HashMap<Arc<str>, Parsed>,
    path: impl Fn(&D) -> &Arc<str>,
    from: impl Fn(Parsed) -> Option<D>,
) -> (Vec<D>, Vec<D>) {
    let mut by_path: HashMap<Arc<str>, D> = HashMap::new();
    let mut dropped = Vec::new();
    for draft in old {
        if kept.contains(path(&draft)) {
            by_path.insert(path(&draft).clone(), draft);
        } else {
            dropped.push(draft);
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for file in order {
        if let Some(draft) = by_path.remove(file) {
            out.push(draft);
        } else if let Some(draft) = fresh.remove(file).and_then(&from) {
            out.push(draft);
        }
    }
    (out, dropped)
}

/// Notes a change in folder `index`: of a file in it, or (no `rest`, `file` is the
/// folder) of the folder. Deeper paths are in subfolders, which loading does not read.
fn mark(
    touched: &mut HashMap<usize, HashSet<PathBuf>>,
    index: usize,
    rest: &[&str],
    file: PathBuf,
) {
    match rest {
        [] | [_] => {
            touched.entry(index).or_default().insert(file);
        }
        _ => {}
    }
}

/// Parses the files in parallel, each with its own diagnostics.
fn parse_all(files: Vec<MarkdownFile>) -> Vec<(MarkdownFile, Option<Parsed>, Vec<Diagnostic>)> {
    files
        .into_par_iter()
        .map(|file| {
            let diags = Diagnostics::new();
            let parsed = parse_markdown(&file, &diags);
            (file, parsed, diags.sorted())
        })
        .collect()
}

/// Adds `items` to `diags` as they are.
fn append(diags: &Diagnostics, items: Vec<Diagnostic>) {
    for d in items {
        match d.severity {
            crate::diagnostics::Severity::Error => diags.error(d.loc, d.message),
            crate::diagnostics::Severity::Warning => diags.warning(d.loc, d.message),
        }
    }
}
