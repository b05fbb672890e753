//! Input stamps: for each page, the SHA-256 of everything its rendering reads. A build
//! writes them to `lotse-pages.sha256`; the next build renders only the pages whose
//! stamp changed and hard-links the others from the previous output, which makes a
//! rebuild after one edit cost that edit, not the region.
//!
//! The dependencies are the ones `lotse serve` re-renders by (`selection.rs`): what
//! every page shows (region, topics, free pages, each portal's settings and the topics
//! it has services in, the theme, this program) goes into a base stamp; a service page
//! adds its service; list pages add the listings (title, summary, topics, …) of the
//! services they list.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::marker::PhantomData;
use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::jobs::Job;
use super::selection::listing;
use crate::resolve::{PortalSite, ResolvedService, Site};
use crate::theme::Theme;

/// The manifest's file name at the site root: `<hex stamp> <path>` per line.
pub const MANIFEST: &str = "lotse-pages.sha256";

/// Bump when what a page shows changes in a way the inputs below do not capture.
const FORMAT: &str = "lotse pages 1";

pub(crate) type Stamp = [u8; 32];

/// (path, hex stamp) of the pages and indexes of a build: its manifest.
pub type Entries = Vec<(String, String)>;

/// The parts of the site's stamps that many pages share, computed once.
pub(crate) struct Stamps<'site> {
    base: Stamp,
    /// By the service's address in the site: all of it, body included.
    services: HashMap<usize, Stamp>,
    /// By portal slug: the listings of all its services, in order.
    portal_lists: HashMap<String, Stamp>,
    /// By (portal slug, topic): the listings of the portal's services in that topic.
    portal_topics: HashMap<(String, String), Stamp>,
    umbrella_lists: Stamp,
    umbrella_topics: HashMap<String, Stamp>,
    /// `services` is keyed by address: the stamps may not outlive the site.
    site: PhantomData<&'site Site>,
}

impl<'site> Stamps<'site> {
    pub(crate) fn of(site: &'site Site, theme: &Theme) -> Stamps<'site> {
        let mut base = Sha256::new();
        base.update(FORMAT);
        base.update(env!("CARGO_PKG_VERSION"));
        base.update(program_identity());
        base.update(theme.stamp);
        let mut text = String::new();
        let _ = write!(
            text,
            "{:?}{:?}{:?}",
            site.region, site.categories, site.pages
        );
        for ps in &site.portals {
            let mut topics: Vec<&str> = ps
                .services
                .iter()
                .flat_map(|s| s.service.categories.iter().map(String::as_str))
                .collect();
            topics.sort_unstable();
            topics.dedup();
            let _ = write!(text, "{:?}{:?}{:?}{topics:?}", ps.portal, ps.dir, ps.pages);
        }
        base.update(&text);
        let base: Stamp = base.finalize().into();

        let services: HashMap<usize, Stamp> = site
            .portals
            .par_iter()
            .flat_map_iter(|ps| ps.services.iter())
            .map(|s| (key_of(s), service_stamp(s)))
            .collect();
        let listed: Vec<(&PortalSite, Vec<(&ResolvedService, Stamp)>)> = site
            .portals
            .par_iter()
            .map(|ps| {
                let listings = ps
                    .services
                    .iter()
                    .map(|s| {
                        let mut hash = Sha256::new();
                        let _ = write!(HashWriter(&mut hash), "{:?}", listing(s));
                        (s, hash.finalize().into())
                    })
                    .collect();
                (ps, listings)
            })
            .collect();
        let mut portal_lists = HashMap::new();
        let mut portal_topics = HashMap::new();
        let mut umbrella_lists = Sha256::new();
        let mut umbrella_topics: HashMap<String, Sha256> = HashMap::new();
        umbrella_lists.update(base);
        for (ps, listings) in &listed {
            let slug = &ps.portal.slug;
            let mut lists = Sha256::new();
            lists.update(base);
            lists.update(slug);
            let mut topics: HashMap<&str, Sha256> = HashMap::new();
            for (s, stamp) in listings {
                lists.update(stamp);
                for topic in &s.service.categories {
                    topics.entry(topic).or_default().update(stamp);
                }
            }
            let lists: Stamp = lists.finalize().into();
            umbrella_lists.update(lists);
            portal_lists.insert(slug.clone(), lists);
            for (topic, hash) in topics {
                let stamp: Stamp = hash.finalize().into();
                let umbrella = umbrella_topics.entry(topic.to_string()).or_default();
                umbrella.update(slug);
                umbrella.update(stamp);
                let mut own = Sha256::new();
                own.update(base);
                own.update(slug);
                own.update(stamp);
                portal_topics.insert((slug.clone(), topic.to_string()), own.finalize().into());
            }
        }
        Stamps {
            base,
            services,
            portal_lists,
            portal_topics,
            umbrella_lists: umbrella_lists.finalize().into(),
            umbrella_topics: umbrella_topics
                .into_iter()
                .map(|(topic, mut hash)| {
                    hash.update(base);
                    (topic, hash.finalize().into())
                })
                .collect(),
            site: PhantomData,
        }
    }

    /// The stamp of one page: its address and what it shows.
    pub(super) fn of_job(&self, job: &Job<'_>, path: &str) -> Stamp {
        let mut hash = Sha256::new();
        hash.update(path);
        let empty = [0; 32];
        match job {
            Job::Service(ps, s) => {
                hash.update(self.base);
                hash.update(&ps.portal.slug);
                hash.update(self.service(s));
            }
            Job::UmbrellaHome | Job::UmbrellaSearch | Job::NotFound => {
                hash.update(self.umbrella_lists)
            }
            Job::UmbrellaCategory(c) => {
                hash.update(self.umbrella_topics.get(&c.id).unwrap_or(&empty));
                hash.update(self.base);
            }
            Job::UmbrellaPage(_) | Job::PortalPage(..) => hash.update(self.base),
            Job::PortalHome(ps) | Job::Az(ps) | Job::PortalSearch(ps) => {
                hash.update(self.portal_lists.get(&ps.portal.slug).unwrap_or(&empty))
            }
            Job::PortalCategory(ps, c) => {
                let key = (ps.portal.slug.clone(), c.id.clone());
                hash.update(self.portal_topics.get(&key).unwrap_or(&empty));
                hash.update(self.base);
            }
        }
        hash.finalize().into()
    }

    /// The stamp of what a portal's search index is made of: every service it lists,
    /// in full, and what every page shows.
    pub(crate) fn of_index(&self, ps: &PortalSite, format: &str) -> Stamp {
        let mut hash = Sha256::new();
        hash.update(format);
        hash.update(self.base);
        hash.update(&ps.portal.slug);
        for s in &ps.services {
            hash.update(self.service(s));
        }
        hash.finalize().into()
    }

    fn service(&self, s: &ResolvedService) -> Stamp {
        // Every service of the site was stamped in `of`; another one is stamped now.
        self.services
            .get(&key_of(s))
            .copied()
            .unwrap_or_else(|| service_stamp(s))
    }
}

fn key_of(s: &ResolvedService) -> usize {
    s as *const ResolvedService as usize
}

/// Feeds formatted text straight into a hash, without building the string first.
struct HashWriter<'h>(&'h mut Sha256);

impl std::fmt::Write for HashWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.update(s);
        Ok(())
    }
}

fn service_stamp(s: &ResolvedService) -> Stamp {
    let mut hash = Sha256::new();
    let _ = write!(HashWriter(&mut hash), "{:?}", s.service);
    match &s.body {
        Some(body) => hash.update(body.digest()),
        None => hash.update(u64::MAX.to_le_bytes()),
    }
    hash.finalize().into()
}

/// This program's file, by size and modification time: a rebuilt `lotse` may render
/// differently under the same version number.
fn program_identity() -> Vec<u8> {
    let meta = std::env::current_exe().and_then(std::fs::metadata);
    let mut out = Vec::new();
    if let Ok(meta) = meta {
        out.extend(meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified() {
            let since = modified
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            out.extend(since.as_nanos().to_le_bytes());
        }
    }
    out
}

pub(crate) fn hex(stamp: &Stamp) -> String {
    stamp.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The previous build's stamps: path -> hex stamp. Empty when there is none or it
/// cannot be read (then everything is rendered).
pub(crate) fn read_manifest(root: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(root.join(MANIFEST)) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(stamp, path)| stamp.len() == 64 && !path.is_empty())
        .map(|(stamp, path)| (path.to_string(), stamp.to_string()))
        .collect()
}

/// The manifest for `entries` (path, stamp), sorted by path.
pub(crate) fn manifest(mut entries: Entries) -> String {
    entries.sort_unstable();
    let mut out = String::with_capacity(entries.len() * 100);
    for (path, stamp) in entries {
        out.push_str(&stamp);
        out.push(' ');
        out.push_str(&path);
        out.push('\n');
    }
    out
}
