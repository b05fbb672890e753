//! The Markdown bodies, converted to HTML once. A regional text is shared by every
//! portal that inherits it (the same `Arc<str>`), so converting it per page would do
//! the same work up to thirteen times; keyed by the body's allocation, each shared
//! text is converted once and looked up by every page and search record that shows it.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::jobs::Job;
use crate::markdown;
use crate::resolve::Site;

/// Markdown bodies rendered once each: a regional text shared by thirteen portals is
/// converted once, keyed by its allocation.
pub(crate) struct Bodies(HashMap<usize, String>);

impl Bodies {
    /// The HTML of every service body of the site, each shared body converted once.
    pub(crate) fn of_services(site: &Site) -> Bodies {
        let services = site.portals.iter().flat_map(|ps| &ps.services);
        Bodies::of(services.filter_map(|s| s.body.as_ref()))
    }

    /// The bodies the pages of `jobs` show: services' and pages' bodies.
    pub(super) fn of_jobs(jobs: &[&Job<'_>]) -> Bodies {
        Bodies::of(jobs.iter().filter_map(|job| match job {
            Job::Service(_, s) => s.body.as_ref(),
            Job::UmbrellaPage(p) | Job::PortalPage(_, p) => Some(&p.body),
            _ => None,
        }))
    }

    fn of<'b>(bodies: impl Iterator<Item = &'b Arc<str>>) -> Bodies {
        let mut unique: HashMap<usize, &Arc<str>> = HashMap::new();
        for body in bodies {
            unique.entry(key_of(body)).or_insert(body);
        }
        Bodies(
            unique
                .into_par_iter()
                .map(|(key, body)| (key, markdown::render(body)))
                .collect(),
        )
    }

    /// The HTML of `body`; empty for no body or one these bodies were not made from.
    pub(crate) fn get(&self, body: &Option<Arc<str>>) -> &str {
        body.as_ref()
            .and_then(|b| self.0.get(&key_of(b)))
            .map_or("", String::as_str)
    }
}

fn key_of(body: &Arc<str>) -> usize {
    Arc::as_ptr(body) as *const u8 as usize
}
