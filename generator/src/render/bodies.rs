//! The Markdown bodies, converted to HTML once. A regional text is shared by every
//! portal that inherits it (the same `Arc<str>`), so converting it per page would do
//! the same work up to thirteen times; keyed by the body's allocation, each shared
//! text is converted once and looked up by every page and search record that shows it.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use super::jobs::Job;
use crate::markdown;
use crate::resolve::PortalSite;
#[cfg(test)]
use crate::resolve::Site;

/// Markdown bodies rendered once each: a regional text shared by thirteen portals is
/// converted once, keyed by its allocation.
pub(crate) struct Bodies(HashMap<usize, Arc<str>>);

impl Bodies {
    /// The HTML of the service bodies of `portals`, each shared body converted once.
    pub(crate) fn of_portals(portals: &[&PortalSite]) -> Bodies {
        let services = portals.iter().flat_map(|ps| &ps.services);
        Bodies::of(services.filter_map(|s| s.body.as_ref()), None)
    }

    /// The HTML of the service bodies of one portal.
    #[cfg(test)]
    pub(crate) fn of_portal(ps: &PortalSite) -> Bodies {
        Bodies::of(ps.services.iter().filter_map(|s| s.body.as_ref()), None)
    }

    /// The bodies more than one group of jobs shows (the regional texts the portals
    /// inherit), converted once for the whole build; their number is the regional
    /// catalogue's, not the region's.
    pub(super) fn shared<'j, 'a: 'j>(groups: impl Iterator<Item = &'j [&'j Job<'a>]>) -> Bodies {
        let mut groups_of: HashMap<usize, (usize, &Arc<str>)> = HashMap::new();
        for jobs in groups {
            let mut seen = std::collections::HashSet::new();
            for body in jobs.iter().filter_map(|job| body_of(job)) {
                if seen.insert(key_of(body)) {
                    groups_of.entry(key_of(body)).or_insert((0, body)).0 += 1;
                }
            }
        }
        let shared = groups_of
            .into_values()
            .filter(|(n, _)| *n > 1)
            .map(|(_, b)| b);
        Bodies::of(shared, None)
    }

    /// The bodies the pages of `jobs` show: services' and pages' bodies, those in
    /// `shared` taken from there.
    pub(super) fn of_jobs(jobs: &[&Job<'_>], shared: Option<&Bodies>) -> Bodies {
        Bodies::of(jobs.iter().filter_map(|job| body_of(job)), shared)
    }

    fn of<'b>(bodies: impl Iterator<Item = &'b Arc<str>>, shared: Option<&Bodies>) -> Bodies {
        let mut unique: HashMap<usize, &Arc<str>> = HashMap::new();
        let mut done: HashMap<usize, Arc<str>> = HashMap::new();
        for body in bodies {
            let key = key_of(body);
            match shared.and_then(|s| s.0.get(&key)) {
                Some(html) => {
                    done.insert(key, html.clone());
                }
                None => {
                    unique.entry(key).or_insert(body);
                }
            }
        }
        let converted: Vec<(usize, Arc<str>)> = unique
            .into_par_iter()
            .map(|(key, body)| (key, Arc::from(markdown::render(body))))
            .collect();
        done.extend(converted);
        Bodies(done)
    }

    /// The HTML of `body`; empty for no body or one these bodies were not made from.
    pub(crate) fn get(&self, body: &Option<Arc<str>>) -> &str {
        body.as_ref()
            .and_then(|b| self.0.get(&key_of(b)))
            .map_or("", |html| html)
    }
}

fn body_of<'a>(job: &Job<'a>) -> Option<&'a Arc<str>> {
    match job {
        Job::Service(_, s) => s.body.as_ref(),
        Job::UmbrellaPage(p) | Job::PortalPage(_, p) => Some(&p.body),
        _ => None,
    }
}

fn key_of(body: &Arc<str>) -> usize {
    Arc::as_ptr(body) as *const u8 as usize
}

#[cfg(test)]
mod tests {
    use lotse_model::{Portal, Service};

    use super::*;
    use crate::resolve::ResolvedService;

    fn service(slug: &str, body: Option<&Arc<str>>) -> ResolvedService {
        ResolvedService {
            service: Service {
                slug: slug.into(),
                ..Service::default()
            },
            body: body.cloned(),
        }
    }

    fn portal(slug: &str, services: Vec<ResolvedService>) -> PortalSite {
        PortalSite {
            portal: Portal {
                slug: slug.into(),
                ..Portal::default()
            },
            dir: std::path::PathBuf::new(),
            services,
            pages: Vec::new(),
        }
    }

    #[test]
    fn of_portal_holds_that_portals_service_bodies_only() {
        let shared: Arc<str> = Arc::from("# Hund anmelden\n\nRegional.");
        let own: Arc<str> = Arc::from("Nur *Bottrop*.");
        let elsewhere: Arc<str> = Arc::from("Nur Gladbeck.");
        let bottrop = portal(
            "bottrop",
            vec![
                service("hund", Some(&shared)),
                service("eigen", Some(&own)),
                service("leer", None),
            ],
        );
        let gladbeck = portal(
            "gladbeck",
            vec![
                service("hund", Some(&shared)),
                service("anders", Some(&elsewhere)),
            ],
        );

        let bodies = Bodies::of_portal(&bottrop);
        assert_eq!(bodies.0.len(), 2);
        assert_eq!(bodies.get(&Some(own.clone())), markdown::render(&own));
        assert_eq!(bodies.get(&None), "");
        // Keyed by allocation: the other portal's handle on the shared text finds it,
        // a text of the other portal only is not there, nor an equal copy.
        assert_eq!(
            bodies.get(&gladbeck.services[0].body),
            markdown::render(&shared)
        );
        assert_eq!(bodies.get(&gladbeck.services[1].body), "");
        assert_eq!(bodies.get(&Some(Arc::from(&*own))), "");
    }

    #[test]
    fn a_shared_body_is_converted_once_and_lent_to_each_portal() {
        let text: Arc<str> = Arc::from("Regional.");
        let shared = &text;
        let site = Site {
            region: lotse_model::Region::default(),
            categories: Vec::new(),
            portals: vec![
                portal("a", vec![service("x", Some(shared))]),
                portal("b", vec![service("x", Some(shared))]),
            ],
            pages: Vec::new(),
        };
        let portals: Vec<&PortalSite> = site.portals.iter().collect();
        assert_eq!(Bodies::of_portals(&portals).0.len(), 1);
        let all = super::super::jobs::plan(&site);
        let groups: Vec<Vec<&Job>> = site
            .portals
            .iter()
            .map(|ps| {
                all.iter()
                    .filter(|job| job.portal().is_some_and(|p| std::ptr::eq(p, ps)))
                    .collect()
            })
            .collect();
        let once = Bodies::shared(groups.iter().map(Vec::as_slice));
        assert_eq!(once.0.len(), 1);
        let converted = once.0.values().next().unwrap();
        for ps in &site.portals {
            let jobs = [Job::Service(ps, &ps.services[0])];
            let jobs: Vec<&Job> = jobs.iter().collect();
            let bodies = Bodies::of_jobs(&jobs, Some(&once));
            // The portal's bodies hold the one conversion, not a copy of their own.
            assert!(Arc::ptr_eq(&bodies.0[&key_of(shared)], converted));
            assert_eq!(bodies.get(&ps.services[0].body), markdown::render(&text));
        }
    }
}
