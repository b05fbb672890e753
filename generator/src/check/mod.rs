//! Stage 3 of the pipeline: the rules that span files, run on the loaded content and
//! the resolved site before anything is rendered. Each file holds one family of rules;
//! per-file rules (syntax, keys, types) are checked while loading (`load/`).
//!
//! Resolution (`resolve/`) only merges and silently leaves out what it cannot merge;
//! the rules here report it. A build stops on any error found here, so render never
//! sees a broken site.

mod accessibility;
pub mod addresses;
mod appointments;
mod layers;
mod links;
mod paths;
mod references;
mod services;

use rayon::prelude::*;

use crate::diagnostics::Diagnostics;
use crate::load::{Content, LoadedPortal};
use crate::resolve::layers::{plan, regional, Layers};
use crate::resolve::{PortalSite, Site};

pub use paths::{RESERVED_AT_ROOT, RESERVED_IN_PORTAL};

/// What the rules look at.
struct Input<'a> {
    content: &'a Content,
    site: &'a Site,
    /// One per portal, in the order of `content.portals` (and `site.portals`).
    portals: Vec<PortalInput<'a>>,
    /// Every address the build writes (links and aliases are checked against it).
    addresses: addresses::Addresses,
}

struct PortalInput<'a> {
    loaded: &'a LoadedPortal,
    site: &'a PortalSite,
    /// Where each of its services comes from (the plan resolution merged by).
    layers: Layers<'a>,
}

/// Runs every cross-file rule, reporting into `diags`. The families run in parallel:
/// each only reads, and the diagnostics are sorted afterwards.
pub fn check(content: &Content, site: &Site, diags: &Diagnostics) {
    let regional = regional(content);
    let (portals, addresses) = rayon::join(
        || {
            content
                .portals
                .par_iter()
                .zip(&site.portals)
                .map(|(loaded, site)| PortalInput {
                    loaded,
                    site,
                    layers: plan(content, &regional, loaded),
                })
                .collect()
        },
        || addresses::Addresses::of(site),
    );
    let input = Input {
        content,
        site,
        portals,
        addresses,
    };
    let input = &input;
    rayon::scope(|s| {
        s.spawn(|_| links::check(input, diags));
        s.spawn(|_| paths::check(input, diags));
        s.spawn(|_| references::check(input, diags));
        s.spawn(|_| {
            layers::check(input, diags);
            services::check(input, diags);
            appointments::check(input, diags);
            accessibility::check(input, diags);
        });
    });
}
