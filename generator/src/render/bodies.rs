//! The Markdown bodies, converted to HTML once. A regional text is shared by every
//! portal that inherits it (the same `Arc<Body>`), so converting it per page would do
//! the same work up to thirteen times; keyed by the body's allocation, each shared
//! text is converted once and looked up by every page and search record that shows it.
//! Service bodies are read again from their files here (`body.rs`), portal by portal,
//! so that only the portals being rendered hold their text.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use rayon::prelude::*;

use super::jobs::Job;
use crate::body::Body;
use crate::markdown;
use crate::resolve::PortalSite;
#[cfg(test)]
use crate::resolve::Site;

/// Markdown bodies rendered once each: a regional text shared by thirteen portals is
/// converted once, keyed by its allocation.
pub(crate) struct Bodies(HashMap<usize, Arc<str>>);

/// A body to convert: a service's, in its file, or a free page's, held as text.
#[derive(Clone, Copy)]
enum Source<'a> {
    Service(&'a Arc<Body>),
    Page(&'a Arc<str>),
}

impl Source<'_> {
    fn key(self) -> usize {
        match self {
            Source::Service(body) => Arc::as_ptr(body) as usize,
            Source::Page(text) => Arc::as_ptr(text) as *const u8 as usize,
        }
    }

    fn html(self) -> Result<Arc<str>> {
        Ok(Arc::from(match self {
            Source::Service(body) => markdown::render(&body.read()?),
            Source::Page(text) => markdown::render(text),
        }))
    }
}

impl Bodies {
    /// The HTML of the service bodies of `portals`, each shared body converted once.
    pub(crate) fn of_portals(portals: &[&PortalSite]) -> Result<Bodies> {
        let services = portals.iter().flat_map(|ps| &ps.services);
        Bodies::of(services.filter_map(service_body), None)
    }

    /// The HTML of the service bodies of one portal.
    #[cfg(test)]
    pub(crate) fn of_portal(ps: &PortalSite) -> Result<Bodies> {
        Bodies::of(ps.services.iter().filter_map(service_body), None)
    }

    /// The bodies more than one group of jobs shows (the regional texts the portals
    /// inherit), converted once for the whole build; their number is the regional
    /// catalogue's, not the region's.
    pub(super) fn shared<'j, 'a: 'j>(
        groups: impl Iterator<Item = &'j [&'j Job<'a>]>,
    ) -> Result<Bodies> {
        let mut groups_of: HashMap<usize, (usize, Source<'_>)> = HashMap::new();
        for jobs in groups {
            let mut seen = std::collections::HashSet::new();
            for body in jobs.iter().filter_map(|job| body_of(job)) {
                if seen.insert(body.key()) {
                    groups_of.entry(body.key()).or_insert((0, body)).0 += 1;
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
    pub(super) fn of_jobs(jobs: &[&Job<'_>], shared: Option<&Bodies>) -> Result<Bodies> {
        Bodies::of(jobs.iter().filter_map(|job| body_of(job)), shared)
    }

    fn of<'b>(bodies: impl Iterator<Item = Source<'b>>, shared: Option<&Bodies>) -> Result<Bodies> {
        let mut unique: HashMap<usize, Source<'b>> = HashMap::new();
        let mut done: HashMap<usize, Arc<str>> = HashMap::new();
        for body in bodies {
            let key = body.key();
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
            .map(|(key, body)| Ok((key, body.html()?)))
            .collect::<Result<_>>()?;
        done.extend(converted);
        Ok(Bodies(done))
    }

    /// The HTML of a service's `body`; empty for no body or one these bodies were not
    /// made from.
    pub(crate) fn get(&self, body: &Option<Arc<Body>>) -> &str {
        body.as_ref()
            .and_then(|b| self.0.get(&Source::Service(b).key()))
            .map_or("", |html| html)
    }

    /// The HTML of a free page's body, as [`Bodies::get`].
    pub(crate) fn page(&self, body: &Arc<str>) -> &str {
        self.0
            .get(&Source::Page(body).key())
            .map_or("", |html| html)
    }
}

fn service_body(s: &crate::resolve::ResolvedService) -> Option<Source<'_>> {
    s.body.as_ref().map(Source::Service)
}

fn body_of<'a>(job: &Job<'a>) -> Option<Source<'a>> {
    match job {
        Job::Service(_, s) => service_body(s),
        Job::UmbrellaPage(p) | Job::PortalPage(_, p) => Some(Source::Page(&p.body)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use lotse_model::{Portal, Service};

    use super::*;
    use crate::resolve::ResolvedService;

    fn service(slug: &str, body: Option<&Arc<Body>>) -> ResolvedService {
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
        let shared = Arc::new(Body::text("# Hund anmelden\n\nRegional."));
        let own = Arc::new(Body::text("Nur *Bottrop*."));
        let elsewhere = Arc::new(Body::text("Nur Gladbeck."));
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

        let bodies = Bodies::of_portal(&bottrop).unwrap();
        assert_eq!(bodies.0.len(), 2);
        assert_eq!(
            bodies.get(&Some(own.clone())),
            markdown::render("Nur *Bottrop*.")
        );
        assert_eq!(bodies.get(&None), "");
        // Keyed by allocation: the other portal's handle on the shared text finds it,
        // a text of the other portal only is not there, nor an equal copy.
        assert_eq!(
            bodies.get(&gladbeck.services[0].body),
            markdown::render("# Hund anmelden\n\nRegional.")
        );
        assert_eq!(bodies.get(&gladbeck.services[1].body), "");
        assert_eq!(
            bodies.get(&Some(Arc::new(Body::text("Nur *Bottrop*.")))),
            ""
        );
    }

    #[test]
    fn a_shared_body_is_converted_once_and_lent_to_each_portal() {
        let shared = &Arc::new(Body::text("Regional."));
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
        assert_eq!(Bodies::of_portals(&portals).unwrap().0.len(), 1);
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
        let once = Bodies::shared(groups.iter().map(Vec::as_slice)).unwrap();
        assert_eq!(once.0.len(), 1);
        let converted = once.0.values().next().unwrap();
        for ps in &site.portals {
            let jobs = [Job::Service(ps, &ps.services[0])];
            let jobs: Vec<&Job> = jobs.iter().collect();
            let bodies = Bodies::of_jobs(&jobs, Some(&once)).unwrap();
            // The portal's bodies hold the one conversion, not a copy of their own.
            let key = Source::Service(shared).key();
            assert!(Arc::ptr_eq(&bodies.0[&key], converted));
            assert_eq!(
                bodies.get(&ps.services[0].body),
                markdown::render("Regional.")
            );
        }
    }

    #[test]
    fn bodies_are_read_from_their_files_and_a_changed_file_fails_the_portal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hund.md");
        let text = "+++\ntitle = \"Hund\"\n+++\nDer *Hund*.\n";
        std::fs::write(&file, text).unwrap();
        let path: Arc<str> = Arc::from(file.to_str().unwrap());
        let offset = text.find("Der").unwrap();
        let body = Arc::new(Body::in_file(path, offset, &text[offset..]));
        let bottrop = portal("bottrop", vec![service("hund", Some(&body))]);
        let bodies = Bodies::of_portal(&bottrop).unwrap();
        assert_eq!(
            bodies.get(&bottrop.services[0].body),
            markdown::render("Der *Hund*.\n")
        );

        std::fs::write(&file, "+++\ntitle = \"Hund\"\n+++\nDie *Katze*.\n").unwrap();
        let error = Bodies::of_portal(&bottrop).err().unwrap();
        assert!(error.to_string().contains("hund.md changed"), "{error}");
    }
}
