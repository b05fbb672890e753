//! What each kind of page adds to the template context. One builder per page kind, so
//! that adding a page type (docs/ARCHITECTURE.md) means one job, one builder and one
//! template; the renderer adds what every page shares (`renderer.rs`).

use lotse_model::{Category, PortalKind};
use tera::Context;

use super::context::{
    form_ctx_of, CategoryCard, CategoryCtx, Link, OfficeCtx, PageCtx, PortalCard, PortalCtx,
    ServiceDetail, ServiceSummary,
};
use super::extras;
use super::lists::{category_cards, letters, portal_crumb, region_crumb, regional_services};
use super::videos;
use crate::resolve::{sort_key, Page, PortalSite, ResolvedService, Site};

/// The template of a page, its heading and its description (`None`: the default one).
pub(super) struct Head {
    pub template: &'static str,
    pub heading: String,
    pub description: Option<String>,
}

impl Head {
    pub(super) fn new(
        template: &'static str,
        heading: String,
        description: Option<String>,
    ) -> Self {
        Head {
            template,
            heading,
            description,
        }
    }
}

/// The umbrella's home: every portal, districts last, and the region's topics.
pub(super) fn umbrella_home(ctx: &mut Context, site: &Site, topics: &[CategoryCard<'_>]) -> Head {
    let mut portals: Vec<&PortalSite> = site.portals.iter().collect();
    portals.sort_by_key(|ps| {
        (
            ps.portal.kind == PortalKind::District,
            sort_key(&ps.portal.name),
        )
    });
    let cards: Vec<PortalCard<'_>> = portals
        .iter()
        .map(|ps| {
            let p = PortalCtx::new(&ps.portal);
            PortalCard {
                slug: &ps.portal.slug,
                name: &ps.portal.name,
                short_name: &ps.portal.short_name,
                kind: ps.portal.kind,
                url: p.url,
                logo_url: p.logo_url,
                service_count: ps.services.len(),
            }
        })
        .collect();
    ctx.insert("portals", &cards);
    ctx.insert("categories", topics);
    Head::new(
        "umbrella_home.html",
        site.region.name.clone(),
        site.region.description.clone(),
    )
}

/// A topic across the region: each service once, with the portals offering it.
pub(super) fn umbrella_category(ctx: &mut Context, site: &Site, category: &Category) -> Head {
    ctx.insert("category", &CategoryCtx::from(category));
    ctx.insert("services", &regional_services(site, &category.id));
    ctx.insert("breadcrumbs", &[region_crumb(site)]);
    Head::new(
        "umbrella_category.html",
        category.title.clone(),
        category.description.clone(),
    )
}

/// A content page of the umbrella (`portal` `None`) or of a portal, with its form and
/// video if it has them.
pub(super) fn page(
    ctx: &mut Context,
    site: &Site,
    portal: Option<&PortalSite>,
    page: &Page,
    body_html: &str,
) -> Head {
    let region_crumb = region_crumb(site);
    if let Some(ps) = portal {
        ctx.insert("breadcrumbs", &[region_crumb, portal_crumb(&ps.portal)]);
    } else {
        ctx.insert("breadcrumbs", &[region_crumb]);
    }
    let (form, form_office) = match &page.form {
        Some(pf) => (
            Some(form_ctx_of(&pf.portal, &page.slug, &pf.form)),
            site.portals
                .iter()
                .find(|ps| ps.portal.slug == pf.portal)
                .and_then(|ps| ps.portal.office(&pf.office))
                .map(OfficeCtx::from),
        ),
        None => (None, None),
    };
    ctx.insert(
        "page",
        &PageCtx {
            title: &page.title,
            description: page.description.as_deref(),
            body_html,
            form,
            form_office,
        },
    );
    ctx.insert("video", &videos::context(page));
    Head::new("page.html", page.title.clone(), page.description.clone())
}

/// The search page of the umbrella (`portal` `None`, with its portal filter) or of a
/// portal.
pub(super) fn search(
    ctx: &mut Context,
    site: &Site,
    portal: Option<&PortalSite>,
    cards: &[CategoryCard<'_>],
) -> Head {
    ctx.insert("categories", cards);
    let mut crumbs = vec![region_crumb(site)];
    if let Some(ps) = portal {
        crumbs.push(portal_crumb(&ps.portal));
    } else {
        // The umbrella search's portal filter (search.html, search.js).
        let mut choices: Vec<(&str, &str)> = site
            .portals
            .iter()
            .map(|ps| (ps.portal.slug.as_str(), ps.portal.name.as_str()))
            .collect();
        choices.sort_by_key(|(_, name)| sort_key(name));
        let choices: Vec<serde_json::Value> = choices
            .into_iter()
            .map(|(slug, name)| serde_json::json!({ "slug": slug, "name": name }))
            .collect();
        ctx.insert("search_portals", &choices);
    }
    ctx.insert("breadcrumbs", &crumbs);
    Head::new("search.html", "Suche".to_string(), None)
}

/// A portal's home: its online services, topics and offices.
pub(super) fn portal_home(ctx: &mut Context, site: &Site, ps: &PortalSite) -> Head {
    let summaries: Vec<ServiceSummary<'_>> = ps
        .services
        .iter()
        .filter(|s| s.service.form.is_some())
        .map(|s| ServiceSummary::new(&ps.portal, s))
        .collect();
    ctx.insert("online_services", &summaries);
    ctx.insert("categories", &category_cards(site, Some(ps)));
    let offices: Vec<OfficeCtx<'_>> = ps.portal.offices.iter().map(OfficeCtx::from).collect();
    ctx.insert("offices", &offices);
    ctx.insert("breadcrumbs", &[region_crumb(site)]);
    Head::new(
        "portal_home.html",
        ps.portal.name.clone(),
        ps.portal.description.clone(),
    )
}

/// A topic in one portal: the portal's services in it.
pub(super) fn portal_category(
    ctx: &mut Context,
    site: &Site,
    ps: &PortalSite,
    category: &Category,
) -> Head {
    let summaries: Vec<ServiceSummary<'_>> = ps
        .services
        .iter()
        .filter(|s| s.service.categories.contains(&category.id))
        .map(|s| ServiceSummary::new(&ps.portal, s))
        .collect();
    ctx.insert("category", &CategoryCtx::from(category));
    ctx.insert("services", &summaries);
    ctx.insert(
        "breadcrumbs",
        &[region_crumb(site), portal_crumb(&ps.portal)],
    );
    Head::new(
        "portal_category.html",
        category.title.clone(),
        category.description.clone(),
    )
}

/// A service page, with its JSON-LD; the breadcrumbs end in its first topic.
pub(super) fn service(
    ctx: &mut Context,
    site: &Site,
    ps: &PortalSite,
    s: &ResolvedService,
    body_html: &str,
    canonical: &str,
) -> Head {
    let detail = ServiceDetail::new(site, ps, s, body_html);
    let mut crumbs = vec![region_crumb(site), portal_crumb(&ps.portal)];
    crumbs.extend(detail.categories.first().map(|c| Link {
        title: c.title.to_string(),
        url: c.url.clone(),
    }));
    let category_titles: Vec<String> = detail
        .categories
        .iter()
        .map(|c| c.title.to_string())
        .collect();
    ctx.insert(
        "jsonld",
        &extras::service_jsonld(
            &site.region,
            &ps.portal,
            &s.service,
            canonical,
            &category_titles,
        ),
    );
    ctx.insert("breadcrumbs", &crumbs);
    ctx.insert("service", &detail);
    Head::new(
        "service.html",
        s.service.title.clone(),
        Some(s.service.summary.clone()),
    )
}

/// A portal's services from A to Z.
pub(super) fn az(ctx: &mut Context, site: &Site, ps: &PortalSite) -> Head {
    ctx.insert("letters", &letters(ps));
    ctx.insert("service_count", &ps.services.len());
    ctx.insert(
        "breadcrumbs",
        &[region_crumb(site), portal_crumb(&ps.portal)],
    );
    Head::new(
        "az.html",
        "Leistungen von A bis Z".to_string(),
        Some(format!(
            "Alle Leistungen der {} von A bis Z",
            ps.portal.name
        )),
    )
}
