//! Turns one page job into HTML. What every page of a portal (or of the umbrella)
//! shares—navigation, footer, theme—is built once per run and cloned per page, so a
//! page only adds its own part (`pages.rs`), its address and its title.

use std::collections::HashMap;

use anyhow::Result;
use lotse_model::Portal;
use tera::Context;

use super::bodies::Bodies;
use super::context::CategoryCard;
use super::context::{Link, PortalCtx, RegionCtx};
use super::jobs::{self, Job};
use super::lists::{category_cards, nav_categories, page_links};
use super::pages::{self, Head};
use crate::resolve::Site;
use crate::theme::{tera_error_chain, Theme};

pub(super) struct Renderer<'a> {
    site: &'a Site,
    theme: &'a Theme,
    umbrella_base: Context,
    portal_bases: HashMap<&'a str, Context>,
    /// The region's topics with their service counts (umbrella navigation, home and
    /// search page).
    umbrella_cards: Vec<CategoryCard<'a>>,
}

impl<'a> Renderer<'a> {
    pub(super) fn new(site: &'a Site, theme: &'a Theme) -> Self {
        let mut umbrella_base = Context::new();
        umbrella_base.insert("lang", &site.region.language);
        umbrella_base.insert("asset_version", &theme.asset_version);
        umbrella_base.insert("region", &RegionCtx::new(site));
        umbrella_base.insert("home_url", "/");
        umbrella_base.insert("theme_css_url", "/theme.css");
        umbrella_base.insert("breadcrumbs", &Vec::<Link>::new());

        let mut portal_bases = HashMap::new();
        for ps in &site.portals {
            let mut ctx = umbrella_base.clone();
            let portal_ctx = PortalCtx::new(&ps.portal);
            ctx.insert("theme_css_url", &portal_ctx.theme_css_url);
            ctx.insert("home_url", &portal_ctx.url);
            ctx.insert("az_url", &format!("{}a-z/", portal_ctx.url));
            ctx.insert("portal", &portal_ctx);
            let cards = category_cards(site, Some(ps));
            ctx.insert("nav_categories", &nav_categories(&cards));
            ctx.insert("footer_pages", &page_links(Some(&ps.portal), &ps.pages));
            portal_bases.insert(ps.portal.slug.as_str(), ctx);
        }
        // Counting the region's services per topic walks every service: once.
        let umbrella_cards = category_cards(site, None);
        umbrella_base.insert("nav_categories", &nav_categories(&umbrella_cards));
        umbrella_base.insert("footer_pages", &page_links(None, &site.pages));
        Renderer {
            site,
            theme,
            umbrella_base,
            portal_bases,
            umbrella_cards,
        }
    }

    /// The absolute address of the page at `path` of `portal` (or of the umbrella).
    pub(super) fn canonical(&self, portal: Option<&Portal>, path: &str) -> String {
        jobs::canonical(self.site, portal, path)
    }

    pub(super) fn render(&self, job: &Job<'_>, bodies: &Bodies) -> Result<String> {
        let portal = job.portal();
        let mut ctx = match portal {
            Some(ps) => self.portal_bases[ps.portal.slug.as_str()].clone(),
            None => self.umbrella_base.clone(),
        };
        let canonical = self.canonical(portal.map(|ps| &ps.portal), &job.path());
        ctx.insert("canonical_url", &canonical);
        let site = self.site;
        let head = match job {
            Job::UmbrellaHome => pages::umbrella_home(&mut ctx, site, &self.umbrella_cards),
            Job::UmbrellaCategory(category) => pages::umbrella_category(&mut ctx, site, category),
            Job::UmbrellaPage(page) => {
                let body = bodies.page(&page.body);
                pages::page(&mut ctx, site, None, page, body)
            }
            Job::PortalPage(ps, page) => {
                let body = bodies.page(&page.body);
                pages::page(&mut ctx, site, Some(ps), page, body)
            }
            Job::NotFound => Head::new("404.html", "Seite nicht gefunden".to_string(), None),
            Job::UmbrellaSearch => pages::search(&mut ctx, site, None, &self.umbrella_cards),
            Job::PortalSearch(ps) => {
                let cards = category_cards(site, Some(ps));
                pages::search(&mut ctx, site, Some(ps), &cards)
            }
            Job::PortalHome(ps) => pages::portal_home(&mut ctx, site, ps),
            Job::PortalCategory(ps, category) => {
                pages::portal_category(&mut ctx, site, ps, category)
            }
            Job::Service(ps, s) => {
                let body = bodies.get(&s.body);
                pages::service(&mut ctx, site, ps, s, body, &canonical)
            }
            Job::Az(ps) => pages::az(&mut ctx, site, ps),
        };
        let Head {
            template,
            heading,
            description,
        } = head;
        let suffix = match portal {
            Some(ps) => &ps.portal.name,
            None => &site.region.name,
        };
        let title = if &heading == suffix {
            heading.clone()
        } else {
            format!("{heading} – {suffix}")
        };
        ctx.insert("title", &title);
        ctx.insert("title_short", &heading);
        ctx.insert(
            "description",
            &description.unwrap_or_else(|| format!("{heading} im {}", site.region.name)),
        );
        ctx.insert(
            "page_kind",
            template
                .trim_end_matches(".html")
                .replace("404", "not_found")
                .as_str(),
        );
        self.theme
            .tera
            .render(template, &ctx)
            .map_err(|e| anyhow::anyhow!("themes: {template}: {}", tera_error_chain(&e)))
    }
}
