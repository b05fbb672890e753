//! The caseworkers' workspace (`/amt/`, SPEC section 9, docs/workspace.md): five pages
//! from the theme's `amt/` templates, the list of offices with their public keys that
//! the browser checks a key file against, and the staff login's settings for the
//! worker. One workspace for the whole region: the staff session says which offices a
//! person works for. Nothing here is citizen-facing: no sitemap entry, `noindex`, and
//! robots.txt keeps crawlers out.

use anyhow::{anyhow, Result};
use serde::Serialize;
use tera::Context;

use super::{form_schema, page_form_schema};
use crate::resolve::Site;
use crate::theme::{tera_error_chain, Theme};

/// Where the worker and `lotse serve` find `[office_login]` (docs/workspace.md).
pub const OFFICE_LOGIN_PATH: &str = "forms/_office_login.json";

/// The offices of every portal, for the workspace's office chooser and key check.
pub const OFFICES_PATH: &str = "amt/dienststellen.json";

/// The theme's static files below `amt/` belong to the workspace and are published
/// under `/amt/` (docs/workspace.md), apart from the citizen-facing assets, whose
/// JavaScript budget they must not count against; everything else goes to `/assets/`.
pub fn static_path(rel: &str) -> String {
    if rel.starts_with("amt/") {
        rel.to_string()
    } else {
        format!("assets/{rel}")
    }
}

/// The workspace's pages: output path, template, heading, page kind.
pub const PAGES: [(&str, &str, &str, &str); 5] = [
    (
        "amt/index.html",
        "amt/posteingang.html",
        "Posteingang",
        "posteingang",
    ),
    (
        "amt/vorgang/index.html",
        "amt/vorgang.html",
        "Vorgang",
        "vorgang",
    ),
    (
        "amt/druck/index.html",
        "amt/druck.html",
        "Antrag drucken",
        "druck",
    ),
    (
        "amt/protokoll/index.html",
        "amt/protokoll.html",
        "Protokoll",
        "protokoll",
    ),
    (
        "amt/schluessel/index.html",
        "amt/schluessel.html",
        "Schlüssel",
        "schluessel",
    ),
];

/// robots.txt with the workspace kept out as well as the functions.
pub fn robots_txt(base_url: &str) -> String {
    super::extras::robots_txt(base_url).replacen(
        "Disallow: /api/\n",
        "Disallow: /api/\nDisallow: /amt/\n",
        1,
    )
}

/// The content of [`OFFICES_PATH`].
#[derive(Serialize)]
struct Offices<'a> {
    offices: Vec<OfficeEntry<'a>>,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct OfficeEntry<'a> {
    /// `<portal>/<office>`, as the staff session's claim names it.
    pub id: String,
    pub portal: &'a str,
    pub portal_name: &'a str,
    pub office: &'a str,
    pub name: &'a str,
    /// Standard base64 of the X25519 public key; `None` for an office without one
    /// (it receives no forms).
    pub public_key: Option<&'a str>,
    /// The services (and page forms) whose applications this office receives, for the
    /// Posteingang's filter: `[{slug, title}]`, sorted by title.
    pub services: Vec<ServiceEntry<'a>>,
}

#[derive(Serialize, Debug, PartialEq)]
pub struct ServiceEntry<'a> {
    pub slug: &'a str,
    pub title: &'a str,
}

/// Every office of every portal, in the order of the portals and their portal.toml.
pub fn offices(site: &Site) -> Vec<OfficeEntry<'_>> {
    let mut out = Vec::new();
    for ps in &site.portals {
        let portal = &ps.portal;
        for office in &portal.offices {
            let mut services: Vec<ServiceEntry<'_>> = ps
                .services
                .iter()
                .filter(|s| form_schema(portal, s).is_some_and(|f| f.office == office.id))
                .map(|s| ServiceEntry {
                    slug: &s.service.slug,
                    title: &s.service.title,
                })
                .chain(
                    ps.pages
                        .iter()
                        .filter(|p| {
                            page_form_schema(portal, p).is_some_and(|f| f.office == office.id)
                        })
                        .filter_map(|p| {
                            p.form.as_ref().map(|f| ServiceEntry {
                                slug: &p.slug,
                                title: &f.title,
                            })
                        }),
                )
                .collect();
            services.sort_by_key(|s| crate::resolve::sort_key(s.title));
            out.push(OfficeEntry {
                id: format!("{}/{}", portal.slug, office.id),
                portal: &portal.slug,
                portal_name: &portal.name,
                office: &office.id,
                name: &office.name,
                public_key: office.public_key.as_deref(),
                services,
            });
        }
    }
    out
}

/// Writes the workspace: its pages, `amt/dienststellen.json` and, when region.toml has
/// `[office_login]`, `forms/_office_login.json`. Its scripts and styles are the theme's
/// `static/amt/` files, which [`static_path`] puts next to the pages.
pub fn put_all(
    site: &Site,
    theme: &Theme,
    put: &mut dyn FnMut(&str, &[u8]) -> Result<()>,
) -> Result<()> {
    let region = &site.region;
    for (path, template, heading, kind) in PAGES {
        let mut ctx = Context::new();
        ctx.insert("lang", &region.language);
        ctx.insert("asset_version", &theme.asset_version);
        ctx.insert("region", &super::context::RegionCtx::new(site));
        ctx.insert("theme_css_url", "/theme.css");
        ctx.insert(
            "title",
            &format!("{heading} – Arbeitsplatz – {}", region.name),
        );
        ctx.insert("title_short", heading);
        ctx.insert("page_kind", kind);
        ctx.insert("login_configured", &region.office_login.is_some());
        let html = theme
            .tera
            .render(template, &ctx)
            .map_err(|e| anyhow!("themes: {template}: {}", tera_error_chain(&e)))?;
        put(path, html.as_bytes())?;
    }
    let offices = Offices {
        offices: offices(site),
    };
    put(OFFICES_PATH, &serde_json::to_vec_pretty(&offices)?)?;
    if let Some(login) = &region.office_login {
        // The model's own serialization: `{"issuer", "client_id", "offices_claim"}`.
        put(OFFICE_LOGIN_PATH, &serde_json::to_vec_pretty(login)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_files_go_next_to_its_pages_and_the_rest_to_assets() {
        assert_eq!(static_path("amt/api.js"), "amt/api.js");
        assert_eq!(
            static_path("amt/wasm/lotse_envelope_web_bg.wasm"),
            "amt/wasm/lotse_envelope_web_bg.wasm"
        );
        assert_eq!(static_path("style.css"), "assets/style.css");
        assert_eq!(static_path("amtlich.css"), "assets/amtlich.css");
    }

    #[test]
    fn robots_keep_out_of_the_workspace() {
        let robots = robots_txt("https://x.example");
        assert!(
            robots.contains("Disallow: /api/\nDisallow: /amt/\n"),
            "{robots}"
        );
        assert!(robots.contains("Sitemap: https://x.example/sitemap.xml"));
    }
}
