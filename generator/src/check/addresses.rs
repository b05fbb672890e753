//! Every address the build writes: the pages (folders with an `index.html`), the other
//! files, and the redirect pages of aliases. Links and aliases are checked against it;
//! `generator/tests/build_output.rs` checks that it matches what a build writes.

use rustc_hash::FxHashSet as HashSet;

use crate::resolve::{Site, Video};

/// Folders whose files come from the theme or the search index, which the check stage
/// does not load: links into them are not checked. (Each portal has a `pagefind/` of
/// its own too; see [`made_later`].)
pub const UNCHECKED: [&str; 2] = ["/assets/", "/pagefind/"];

/// Outputs whose names the check stage cannot know before rendering: a portal's search
/// index (`/<portal>/pagefind/…`) and the sitemaps, whose number depends on the site's
/// size (`/sitemap-umbrella-2.xml`, `/<portal>/sitemap-3.xml`, render/sitemap.rs).
fn made_later(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let sitemap = |name: &str| name.starts_with("sitemap") && name.ends_with(".xml");
    match segments.as_slice() {
        [name] => sitemap(name),
        [_, name] => sitemap(name) || *name == "pagefind",
        [_, "pagefind", ..] => true,
        _ => false,
    }
}

/// The addresses the functions answer (functions/core/src/api/mod.rs) that a page may
/// link to.
pub const FUNCTION_ROUTES: [&str; 9] = [
    "/api/applications",
    "/api/login",
    "/api/callback",
    "/api/session",
    "/api/logout",
    "/api/postfach",
    "/api/receipt",
    "/api/status",
    "/api/termin",
];

#[derive(Debug, Default)]
pub struct Addresses {
    /// `/`, `/bottrop/`, `/bottrop/hund-anmelden/`, ...: each written as `index.html`.
    pub pages: HashSet<String>,
    /// `/sitemap.xml`, `/bottrop/logo.svg`, `/forms/bottrop/hund-anmelden.json`,
    /// `/appointments/bottrop/personalausweis-beantragen.json`, ...
    pub files: HashSet<String>,
    /// The redirect pages of aliases (`/bottrop/alter-name/`).
    pub aliases: HashSet<String>,
}

impl Addresses {
    pub fn of(site: &Site) -> Addresses {
        let mut a = Addresses::default();
        for page in ["/", "/suche/"] {
            a.pages.insert(page.to_string());
        }
        for file in ["/404.html", "/sitemap.xml", "/robots.txt", "/theme.css"] {
            a.files.insert(file.to_string());
        }
        for c in &site.categories {
            a.pages.insert(format!("/themen/{}/", c.id));
        }
        a.add_pages("", &site.pages);
        for ps in &site.portals {
            let p = &ps.portal.slug;
            for page in ["", "a-z/", "suche/"] {
                a.pages.insert(format!("/{p}/{page}"));
            }
            a.files.insert(format!("/{p}/theme.css"));
            if let Some(logo) = &ps.portal.theme.logo {
                a.files.insert(format!("/{p}/{logo}"));
            }
            a.files
                .insert(format!("/{}", lotse_functions::offices_path(p)));
            for c in &site.categories {
                if ps
                    .services
                    .iter()
                    .any(|s| s.service.categories.contains(&c.id))
                {
                    a.pages.insert(format!("/{p}/themen/{}/", c.id));
                }
            }
            for s in &ps.services {
                a.pages.insert(format!("/{p}/{}/", s.service.slug));
                if crate::render::form_schema(&ps.portal, s).is_some() {
                    a.files
                        .insert(format!("/forms/{p}/{}.json", s.service.slug));
                }
                let weeks = site.region.booking_weeks();
                if crate::render::bookable_service(&ps.portal, s, weeks).is_some() {
                    let path = lotse_model::appointment::appointment_path(p, &s.service.slug);
                    a.files.insert(format!("/{path}"));
                }
                a.aliases.extend(s.service.aliases.iter().cloned());
            }
            for page in &ps.pages {
                if crate::render::page_form_schema(&ps.portal, page).is_some() {
                    a.files.insert(format!("/forms/{p}/{}.json", page.slug));
                }
            }
            a.add_pages(&format!("/{p}"), &ps.pages);
        }
        a
    }

    fn add_pages(&mut self, prefix: &str, pages: &[crate::resolve::Page]) {
        for page in pages {
            self.pages.insert(format!("{prefix}/{}/", page.slug));
            if let Some(Video::File { name, .. }) = &page.video {
                self.files.insert(format!("{prefix}/{}/{name}", page.slug));
            }
        }
    }

    /// Whether a link to `path` (absolute, without query and fragment) leads somewhere:
    /// a page (with or without its trailing `/` or `index.html`), a file, an alias, a
    /// function, or a folder of the theme or the search index.
    pub fn leads_somewhere(&self, path: &str) -> bool {
        let folder = path.strip_suffix("index.html").unwrap_or(path);
        let is_page = |p: &str| self.pages.contains(p) || self.aliases.contains(p);
        is_page(folder)
            || (!folder.ends_with('/') && is_page(&format!("{folder}/")))
            || self.files.contains(path)
            || FUNCTION_ROUTES.contains(&path.trim_end_matches('/'))
            || UNCHECKED.iter().any(|prefix| path.starts_with(prefix))
            || made_later(path)
    }
}

#[cfg(test)]
mod tests {
    use super::made_later;

    #[test]
    fn sitemaps_and_portal_indexes_are_made_later() {
        for path in [
            "/sitemap-umbrella-2.xml",
            "/bottrop/sitemap.xml",
            "/bottrop/sitemap-3.xml",
            "/bottrop/pagefind/",
            "/bottrop/pagefind/pagefind.js",
        ] {
            assert!(made_later(path), "{path}");
        }
        for path in [
            "/bottrop/impressum/",
            "/bottrop/x/sitemap.xml",
            "/sitemaps/",
        ] {
            assert!(!made_later(path), "{path}");
        }
    }
}
