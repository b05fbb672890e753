//! Stage 3: render the resolved site through the theme's templates into output files.
//! Pages are independent, so they render in parallel and go straight to the sink: the
//! whole site is never held in memory.

mod context;
pub mod extras;
mod redirects;
mod selection;
pub mod sitemap;
mod videos;
pub mod workspace;

pub use selection::{changes, Selection};

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use lotse_model::appointment::{appointment_path, AppointmentPlan, BookableService};
use lotse_model::{Category, FormSchema, Portal, PortalKind};
use rayon::prelude::*;
use tera::Context;

use crate::markdown;
use crate::resolve::{sort_key, Page, PortalSite, ResolvedService, Site};
use crate::theme::tera_error_chain;
pub use crate::theme::Theme;
use context::*;

/// Where rendered files go: a staging folder on disk, or memory under `lotse serve`.
pub trait Sink: Sync {
    /// Stores `bytes` at `path`, relative to the site root, with `/` separators.
    fn put(&self, path: &str, bytes: &[u8]) -> std::io::Result<()>;
}

/// What a render produced.
#[derive(Debug, Default, Clone)]
pub struct RenderStats {
    /// Pages rendered this time.
    pub pages: usize,
    /// Files written this time, pages included.
    pub files: usize,
    /// Every path of the complete site, rendered this time or not.
    pub paths: Vec<String>,
}

/// One HTML page to render.
enum Job<'a> {
    UmbrellaHome,
    UmbrellaCategory(&'a Category),
    UmbrellaPage(&'a Page),
    UmbrellaSearch,
    NotFound,
    PortalHome(&'a PortalSite),
    PortalCategory(&'a PortalSite, &'a Category),
    Service(&'a PortalSite, &'a ResolvedService),
    Az(&'a PortalSite),
    PortalSearch(&'a PortalSite),
    PortalPage(&'a PortalSite, &'a Page),
}

impl Job<'_> {
    /// Output path relative to the site root (`bottrop/hund-anmelden/index.html`).
    fn path(&self) -> String {
        match self {
            Job::UmbrellaHome => "index.html".into(),
            Job::UmbrellaCategory(c) => format!("themen/{}/index.html", c.id),
            Job::UmbrellaPage(p) => format!("{}/index.html", p.slug),
            Job::UmbrellaSearch => "suche/index.html".into(),
            Job::NotFound => "404.html".into(),
            Job::PortalHome(ps) => format!("{}/index.html", ps.portal.slug),
            Job::PortalCategory(ps, c) => format!("{}/themen/{}/index.html", ps.portal.slug, c.id),
            Job::Service(ps, s) => format!("{}/{}/index.html", ps.portal.slug, s.service.slug),
            Job::Az(ps) => format!("{}/a-z/index.html", ps.portal.slug),
            Job::PortalSearch(ps) => format!("{}/suche/index.html", ps.portal.slug),
            Job::PortalPage(ps, p) => format!("{}/{}/index.html", ps.portal.slug, p.slug),
        }
    }

    fn selected(&self, selection: &Selection) -> bool {
        match self {
            Job::UmbrellaHome | Job::UmbrellaSearch | Job::NotFound => selection.wants_umbrella(),
            Job::UmbrellaCategory(c) => selection.wants_umbrella_category(&c.id),
            Job::UmbrellaPage(_) | Job::PortalPage(..) => selection.is_everything(),
            Job::PortalHome(ps) | Job::Az(ps) | Job::PortalSearch(ps) => {
                selection.wants_lists(&ps.portal.slug)
            }
            Job::PortalCategory(ps, c) => selection.wants_category(&ps.portal.slug, &c.id),
            Job::Service(ps, s) => selection.wants_service(&ps.portal.slug, &s.service.slug),
        }
    }

    fn portal(&self) -> Option<&PortalSite> {
        match self {
            Job::PortalHome(ps)
            | Job::PortalCategory(ps, _)
            | Job::Service(ps, _)
            | Job::Az(ps)
            | Job::PortalSearch(ps)
            | Job::PortalPage(ps, _) => Some(ps),
            _ => None,
        }
    }
}

/// Renders every page and support file of the site into `sink`. `on_page` is called
/// once per finished page (for progress display).
pub fn render_site(
    site: &Site,
    theme: &Theme,
    sink: &dyn Sink,
    selection: &Selection,
    on_page: &(dyn Fn() + Sync),
) -> Result<RenderStats> {
    let all_jobs = plan(site);
    let mut paths: Vec<String> = all_jobs.iter().map(Job::path).collect();
    let jobs: Vec<&Job<'_>> = all_jobs
        .iter()
        .filter(|job| job.selected(selection))
        .collect();
    let bodies = render_bodies(&jobs);
    let renderer = Renderer::new(site, theme, &bodies);

    jobs.par_iter().try_for_each(|job| -> Result<()> {
        let html = renderer.render(job)?;
        let path = job.path();
        sink.put(&path, html.as_bytes())
            .with_context(|| format!("cannot write {path}"))?;
        on_page();
        Ok(())
    })?;

    let mut files = 0;
    let mut put = |path: &str, bytes: &[u8]| -> Result<()> {
        files += 1;
        paths.push(path.to_string());
        sink.put(path, bytes)
            .with_context(|| format!("cannot write {path}"))
    };
    let pages = all_jobs
        .iter()
        .filter(|job| !matches!(job, Job::NotFound))
        .map(|job| {
            let portal = job.portal().map(|ps| &ps.portal);
            let url = renderer.canonical(portal, &job.path());
            (portal.map(|p| p.slug.as_str()), url)
        });
    let limits = sitemap::Limits::SITEMAPS_ORG;
    for (path, xml) in sitemap::files(&site.region.base_url, pages, limits) {
        put(&path, xml.as_bytes())?;
    }
    put(
        "robots.txt",
        workspace::robots_txt(&site.region.base_url).as_bytes(),
    )?;
    put(
        "_headers",
        extras::headers_file(&extras::payment_origins(site)).as_bytes(),
    )?;
    put(
        "theme.css",
        extras::theme_css(site.region.theme.primary.as_deref()).as_bytes(),
    )?;
    for (path, bytes) in &theme.static_files {
        put(&workspace::static_path(path), bytes)?;
    }
    for ps in &site.portals {
        let slug = &ps.portal.slug;
        put(
            &format!("{slug}/theme.css"),
            extras::theme_css(ps.portal.theme.primary.as_deref()).as_bytes(),
        )?;
        if let Some(logo) = &ps.portal.theme.logo {
            let bytes = std::fs::read(ps.dir.join(logo))
                .with_context(|| format!("cannot read logo {}", ps.dir.join(logo).display()))?;
            put(&format!("{slug}/{logo}"), &bytes)?;
        }
        // Which offices exist, for the office inbox (404 for an unknown one).
        let offices = lotse_functions::OfficeList {
            portal: slug.clone(),
            offices: ps.portal.offices.iter().map(|o| o.id.clone()).collect(),
        };
        put(
            &lotse_functions::offices_path(slug),
            &serde_json::to_vec_pretty(&offices)?,
        )?;
        for s in &ps.services {
            if let Some(schema) = form_schema(&ps.portal, s) {
                let json = serde_json::to_vec_pretty(&schema)?;
                put(&format!("forms/{slug}/{}.json", s.service.slug), &json)?;
            }
        }
        let weeks = site.region.booking_weeks();
        for s in &ps.services {
            if let Some(bookable) = bookable_service(&ps.portal, s, weeks) {
                let json = serde_json::to_vec_pretty(&bookable)?;
                put(&appointment_path(slug, &s.service.slug), &json)?;
            }
        }
        for page in &ps.pages {
            if let Some(schema) = page_form_schema(&ps.portal, page) {
                let json = serde_json::to_vec_pretty(&schema)?;
                put(&format!("forms/{slug}/{}.json", page.slug), &json)?;
            }
        }
    }
    let canonical = |portal: &Portal, path: &str| renderer.canonical(Some(portal), path);
    redirects::put_all(site, &canonical, &mut put)?;
    videos::put_all(site, &mut put)?;
    workspace::put_all(site, theme, &mut put)?;
    Ok(RenderStats {
        pages: jobs.len(),
        files: jobs.len() + files,
        paths,
    })
}

/// The schema the functions validate applications against; `None` for services
/// without a form (or whose office cannot receive one, or whose fee has no payment
/// provider in this portal, which `check` reports).
pub fn form_schema(portal: &Portal, s: &ResolvedService) -> Option<FormSchema> {
    let svc = &s.service;
    let form = svc.form.as_ref()?;
    let fee = match &svc.payment {
        Some(payment) => Some(payment.fee(portal.payment.as_ref()?)),
        None => None,
    };
    let schema = schema(
        portal,
        &svc.slug,
        &svc.title,
        svc.office.as_deref()?,
        svc.login,
        form,
    )?;
    Some(FormSchema { fee, ..schema })
}

/// What the functions need to book `s` in `portal` (`appointments/<portal>/<service>.json`):
/// `None` for a service without `appointment`, or whose office is missing or has no key
/// (which `check` reports).
pub fn bookable_service(
    portal: &Portal,
    s: &ResolvedService,
    horizon_weeks: u32,
) -> Option<BookableService> {
    let svc = &s.service;
    let appointment = svc.appointment?;
    let office = portal.office(svc.office.as_deref()?)?;
    Some(BookableService {
        portal: portal.slug.clone(),
        portal_name: portal.name.clone(),
        service: svc.slug.clone(),
        title: svc.title.clone(),
        office: office.id.clone(),
        office_name: office.name.clone(),
        office_address: office.address.clone(),
        public_key: office.public_key.clone()?,
        // The service's `login` is the trust level of applying online; booking a visit
        // needs none (logging in is offered, so the appointment shows in Mein
        // Postfach): those who come to the office are often the ones without an eID.
        login: lotse_model::TrustLevel::None,
        plan: AppointmentPlan {
            duration: appointment.duration,
            hours: office.appointments.clone(),
            horizon_weeks,
        },
    })
}

/// The schema of a page's form (the accessibility feedback), like a service's.
pub fn page_form_schema(portal: &Portal, page: &Page) -> Option<FormSchema> {
    let pf = page.form.as_ref()?;
    let no_login = lotse_model::TrustLevel::None;
    schema(
        portal, &page.slug, &pf.title, &pf.office, no_login, &pf.form,
    )
}

/// The form `id` of `portal`, sent to `office`, without a fee; `None` when that office
/// has no key.
fn schema(
    portal: &Portal,
    id: &str,
    title: &str,
    office: &str,
    login: lotse_model::TrustLevel,
    form: &lotse_model::Form,
) -> Option<FormSchema> {
    let office = portal.office(office)?;
    Some(FormSchema {
        portal: portal.slug.clone(),
        service: id.to_string(),
        title: title.to_string(),
        office: office.id.clone(),
        public_key: office.public_key.clone()?,
        login,
        fields: form.fields.clone(),
        fee: None,
    })
}

/// Markdown bodies rendered once each: a regional text shared by thirteen portals is
/// converted once, keyed by its allocation.
pub(crate) struct Bodies(HashMap<usize, String>);

impl Bodies {
    /// The HTML of every service body of the site, each shared body converted once.
    pub(crate) fn of_services(site: &Site) -> Bodies {
        let services = site.portals.iter().flat_map(|ps| &ps.services);
        Bodies::of(services.filter_map(|s| s.body.as_ref()))
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

    pub(crate) fn get(&self, body: &Option<Arc<str>>) -> &str {
        body.as_ref()
            .and_then(|b| self.0.get(&key_of(b)))
            .map_or("", String::as_str)
    }
}

fn key_of(body: &Arc<str>) -> usize {
    Arc::as_ptr(body) as *const u8 as usize
}

fn render_bodies<'a>(jobs: &[&Job<'a>]) -> Bodies {
    Bodies::of(jobs.iter().filter_map(|job| match job {
        Job::Service(_, s) => s.body.as_ref(),
        Job::UmbrellaPage(p) | Job::PortalPage(_, p) => Some(&p.body),
        _ => None,
    }))
}

fn plan(site: &Site) -> Vec<Job<'_>> {
    let mut jobs = vec![Job::UmbrellaHome, Job::UmbrellaSearch, Job::NotFound];
    jobs.extend(site.categories.iter().map(Job::UmbrellaCategory));
    jobs.extend(site.pages.iter().map(Job::UmbrellaPage));
    for ps in &site.portals {
        jobs.push(Job::PortalHome(ps));
        jobs.push(Job::Az(ps));
        jobs.push(Job::PortalSearch(ps));
        for category in &site.categories {
            if ps
                .services
                .iter()
                .any(|s| s.service.categories.contains(&category.id))
            {
                jobs.push(Job::PortalCategory(ps, category));
            }
        }
        jobs.extend(ps.services.iter().map(|s| Job::Service(ps, s)));
        jobs.extend(ps.pages.iter().map(|p| Job::PortalPage(ps, p)));
    }
    jobs
}

struct Renderer<'a> {
    site: &'a Site,
    theme: &'a Theme,
    bodies: &'a Bodies,
    umbrella_base: Context,
    portal_bases: HashMap<&'a str, Context>,
}

impl<'a> Renderer<'a> {
    fn new(site: &'a Site, theme: &'a Theme, bodies: &'a Bodies) -> Self {
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
            ctx.insert("nav_categories", &nav_categories(site, Some(ps)));
            ctx.insert("footer_pages", &page_links(Some(&ps.portal), &ps.pages));
            portal_bases.insert(ps.portal.slug.as_str(), ctx);
        }
        umbrella_base.insert("nav_categories", &nav_categories(site, None));
        umbrella_base.insert("footer_pages", &page_links(None, &site.pages));
        Renderer {
            site,
            theme,
            bodies,
            umbrella_base,
            portal_bases,
        }
    }

    fn canonical(&self, portal: Option<&Portal>, path: &str) -> String {
        let dir = path.strip_suffix("index.html").unwrap_or(path);
        match portal.and_then(|p| p.base_url.as_deref().map(|base| (p, base))) {
            Some((p, base)) => {
                let inner = dir.strip_prefix(&format!("{}/", p.slug)).unwrap_or(dir);
                format!("{base}/{inner}")
            }
            None => format!("{}/{dir}", self.site.region.base_url),
        }
    }

    fn render(&self, job: &Job<'_>) -> Result<String> {
        let portal = job.portal();
        let mut ctx = match portal {
            Some(ps) => self.portal_bases[ps.portal.slug.as_str()].clone(),
            None => self.umbrella_base.clone(),
        };
        ctx.insert(
            "canonical_url",
            &self.canonical(portal.map(|ps| &ps.portal), &job.path()),
        );
        let site = self.site;
        let region_crumb = Link {
            title: site.region.name.clone(),
            url: "/".into(),
        };
        let (template, heading, description): (&str, String, Option<String>) = match job {
            Job::UmbrellaHome => {
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
                ctx.insert("categories", &category_cards(site, None));
                (
                    "umbrella_home.html",
                    site.region.name.clone(),
                    site.region.description.clone(),
                )
            }
            Job::UmbrellaCategory(category) => {
                ctx.insert("category", &CategoryCtx::from(*category));
                ctx.insert("services", &regional_services(site, &category.id));
                ctx.insert("breadcrumbs", &[region_crumb]);
                (
                    "umbrella_category.html",
                    category.title.clone(),
                    category.description.clone(),
                )
            }
            Job::UmbrellaPage(page) | Job::PortalPage(_, page) => {
                if let Job::PortalPage(ps, _) = job {
                    ctx.insert("breadcrumbs", &[region_crumb, portal_crumb(&ps.portal)]);
                } else {
                    ctx.insert("breadcrumbs", &[region_crumb]);
                }
                let (form, form_office) = match &page.form {
                    Some(pf) => (
                        Some(context::form_ctx_of(&pf.portal, &page.slug, &pf.form)),
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
                        body_html: self.bodies.get(&Some(page.body.clone())),
                        form,
                        form_office,
                    },
                );
                ctx.insert("video", &videos::context(page));
                ("page.html", page.title.clone(), page.description.clone())
            }
            Job::NotFound => ("404.html", "Seite nicht gefunden".to_string(), None),
            Job::UmbrellaSearch | Job::PortalSearch(_) => {
                let ps = job.portal();
                ctx.insert("categories", &category_cards(site, ps));
                let mut crumbs = vec![region_crumb];
                if let Some(ps) = ps {
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
                ("search.html", "Suche".to_string(), None)
            }
            Job::PortalHome(ps) => {
                let summaries: Vec<ServiceSummary<'_>> = ps
                    .services
                    .iter()
                    .filter(|s| s.service.form.is_some())
                    .map(|s| ServiceSummary::new(&ps.portal, s))
                    .collect();
                ctx.insert("online_services", &summaries);
                ctx.insert("categories", &category_cards(site, Some(ps)));
                let offices: Vec<OfficeCtx<'_>> =
                    ps.portal.offices.iter().map(OfficeCtx::from).collect();
                ctx.insert("offices", &offices);
                ctx.insert("breadcrumbs", &[region_crumb]);
                (
                    "portal_home.html",
                    ps.portal.name.clone(),
                    ps.portal.description.clone(),
                )
            }
            Job::PortalCategory(ps, category) => {
                let summaries: Vec<ServiceSummary<'_>> = ps
                    .services
                    .iter()
                    .filter(|s| s.service.categories.contains(&category.id))
                    .map(|s| ServiceSummary::new(&ps.portal, s))
                    .collect();
                ctx.insert("category", &CategoryCtx::from(*category));
                ctx.insert("services", &summaries);
                ctx.insert("breadcrumbs", &[region_crumb, portal_crumb(&ps.portal)]);
                (
                    "portal_category.html",
                    category.title.clone(),
                    category.description.clone(),
                )
            }
            Job::Service(ps, s) => {
                let detail = ServiceDetail::new(site, ps, s, self.bodies.get(&s.body));
                let mut crumbs = vec![region_crumb, portal_crumb(&ps.portal)];
                crumbs.extend(detail.categories.first().map(|c| Link {
                    title: c.title.to_string(),
                    url: c.url.clone(),
                }));
                let category_titles: Vec<String> = detail
                    .categories
                    .iter()
                    .map(|c| c.title.to_string())
                    .collect();
                let canonical = self.canonical(Some(&ps.portal), &job.path());
                ctx.insert(
                    "jsonld",
                    &extras::service_jsonld(
                        &site.region,
                        &ps.portal,
                        &s.service,
                        &canonical,
                        &category_titles,
                    ),
                );
                ctx.insert("breadcrumbs", &crumbs);
                ctx.insert("service", &detail);
                (
                    "service.html",
                    s.service.title.clone(),
                    Some(s.service.summary.clone()),
                )
            }
            Job::Az(ps) => {
                ctx.insert("letters", &letters(ps));
                ctx.insert("service_count", &ps.services.len());
                ctx.insert("breadcrumbs", &[region_crumb, portal_crumb(&ps.portal)]);
                (
                    "az.html",
                    "Leistungen von A bis Z".to_string(),
                    Some(format!(
                        "Alle Leistungen der {} von A bis Z",
                        ps.portal.name
                    )),
                )
            }
        };
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

fn portal_crumb(portal: &Portal) -> Link {
    Link {
        title: portal.name.clone(),
        url: portal_url(portal),
    }
}

fn page_links(portal: Option<&Portal>, pages: &[Page]) -> Vec<Link> {
    let prefix = portal.map_or_else(|| "/".to_string(), portal_url);
    pages
        .iter()
        .map(|p| Link {
            title: p.title.clone(),
            url: format!("{prefix}{}/", p.slug),
        })
        .collect()
}

fn count_in(ps: &PortalSite, category: &str) -> usize {
    ps.services
        .iter()
        .filter(|s| s.service.categories.iter().any(|c| c == category))
        .count()
}

fn category_cards<'a>(site: &'a Site, portal: Option<&PortalSite>) -> Vec<CategoryCard<'a>> {
    site.categories
        .iter()
        .map(|c| CategoryCard {
            id: &c.id,
            title: &c.title,
            description: c.description.as_deref(),
            url: category_url(portal.map(|ps| &ps.portal), &c.id),
            service_count: match portal {
                Some(ps) => count_in(ps, &c.id),
                None => regional_services(site, &c.id).len(),
            },
        })
        .filter(|card| card.service_count > 0)
        .collect()
}

fn nav_categories<'a>(site: &'a Site, portal: Option<&PortalSite>) -> Vec<NavItem<'a>> {
    category_cards(site, portal)
        .into_iter()
        .map(|c| NavItem {
            id: c.id,
            title: c.title,
            url: c.url,
        })
        .collect()
}

/// Services of a category across all portals, each once with the portals offering it.
fn regional_services<'a>(site: &'a Site, category: &str) -> Vec<RegionalService<'a>> {
    let mut by_slug: BTreeMap<(String, &str), RegionalService<'a>> = BTreeMap::new();
    for ps in &site.portals {
        for s in ps
            .services
            .iter()
            .filter(|s| s.service.categories.iter().any(|c| c == category))
        {
            let entry = by_slug
                .entry((sort_key(&s.service.title), s.service.slug.as_str()))
                .or_insert_with(|| RegionalService {
                    slug: &s.service.slug,
                    title: &s.service.title,
                    summary: &s.service.summary,
                    provider: s.service.provider,
                    provider_label: provider_label(s.service.provider),
                    offered_in: Vec::new(),
                });
            entry.offered_in.push(OfferedIn {
                name: &ps.portal.name,
                short_name: &ps.portal.short_name,
                url: service_url(&ps.portal, &s.service.slug),
            });
        }
    }
    by_slug.into_values().collect()
}

fn letters(ps: &PortalSite) -> Vec<Letter<'_>> {
    let mut letters: Vec<Letter<'_>> = Vec::new();
    for s in &ps.services {
        let first = sort_key(&s.service.title)
            .chars()
            .next()
            .filter(char::is_ascii_alphabetic)
            .map_or_else(|| "0–9".to_string(), |c| c.to_ascii_uppercase().to_string());
        if letters.last().is_none_or(|l| l.letter != first) {
            letters.push(Letter {
                anchor: format!("buchstabe-{}", lotse_model::slugify(&first)),
                letter: first,
                services: Vec::new(),
            });
        }
        if let Some(letter) = letters.last_mut() {
            letter.services.push(ServiceSummary::new(&ps.portal, s));
        }
    }
    letters
}
