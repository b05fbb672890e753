//! Builds the fixture region (tests/fixture, like Zola's test_site) and checks the real
//! output: the paths of SPEC section 3, page metadata, forms, inheritance, sanitizing,
//! form schemas, and that a failed build leaves an earlier output untouched.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use lotse::build::{self, BuildOutcome};
use lotse_model::payment::Cents;
use lotse_model::validate::{FieldErrors, Submitted};
use lotse_model::{slugify, FieldType, Form, FormField, FormSchema, TrustLevel};

const REGION_URL: &str = "https://www.serviceportal-testregion.example";
const BEISPIELHAUSEN_URL: &str = "https://service.beispielhausen.example";

/// The fixture, built once per test process into a fresh folder below Cargo's
/// temporary folder for integration tests. Statics are never dropped, so the folder
/// outlives the process; leftovers of earlier runs are removed here (a folder younger
/// than ten minutes may belong to a run in progress and is kept).
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        for entry in fs::read_dir(&base).into_iter().flatten().flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 600);
            if stale && entry.file_name().to_string_lossy().starts_with("lotse-fixture-") {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("lotse-fixture-")
            .tempdir_in(&base)
            .unwrap()
            .keep();
        let out = dir.join("dist");
        match build::build(&fixture_dir(), &theme_dir(), &out, false)
            .expect("the fixture builds without I/O or theme errors")
        {
            BuildOutcome::Built(report, diagnostics) => {
                assert!(report.pages > 0);
                // The one expected warning: the file name with umlauts is not its slug.
                let warnings = warning_lines(&diagnostics);
                assert_eq!(warnings.len(), 1, "{warnings:#?}");
                assert!(warnings[0].contains(
                    "warning: the name `Führerschein-Straße` is published as `fuehrerschein-strasse`"
                ));
            }
            BuildOutcome::Invalid(diagnostics) => {
                panic!("the fixture has errors:\n{}", lines(&diagnostics).join("\n"))
            }
        }
        out
    })
}

fn read(rel: &str) -> String {
    let path = dist().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn exists(rel: &str) -> bool {
    dist().join(rel).exists()
}

/// The redirect pages of the fixture's aliases: written, but not pages of the site (no
/// own canonical address, not in the sitemap); tested on their own.
const ALIAS_PAGES: [&str; 4] = [
    "beispielhausen/meldebestaetigung/index.html",
    "kreis-muster/meldebestaetigung/index.html",
    "musterstadt/meldebestaetigung/index.html",
    "musterstadt/sperrmuell/index.html",
];

/// All HTML pages of the build, relative to dist/ (without the alias pages and the
/// caseworkers' workspace below amt/, which is no page of the site: tests/workspace_output.rs).
fn html_files() -> Vec<String> {
    snapshot(dist())
        .into_keys()
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .filter(|p| p.ends_with(".html") && !ALIAS_PAGES.contains(&p.as_str()))
        .filter(|p| !p.starts_with("amt/"))
        .collect()
}

/// The absolute URL a page at `rel` (e.g. `musterstadt/a-z/index.html`) is published at.
fn expected_url(rel: &str) -> String {
    let dir = rel.strip_suffix("index.html").unwrap_or(rel);
    match dir.strip_prefix("beispielhausen/") {
        Some(inner) => format!("{BEISPIELHAUSEN_URL}/{inner}"),
        None if dir == "beispielhausen/" => format!("{BEISPIELHAUSEN_URL}/"),
        None => format!("{REGION_URL}/{dir}"),
    }
}

// ---------------------------------------------------------------------------
// Paths (SPEC section 3)

#[test]
fn every_path_of_the_output_layout_exists() {
    let required = [
        "index.html",
        "404.html",
        "sitemap.xml",
        "robots.txt",
        // umbrella topic pages: every category, also one only the district offers
        "themen/familie-kind/index.html",
        "themen/ausweise-dokumente/index.html",
        "themen/mobilitaet/index.html",
        "themen/umwelt-tiere/index.html",
        // umbrella free pages
        "impressum/index.html",
        "barrierefreiheit/index.html",
        // portal homes and A-Z
        "musterstadt/index.html",
        "beispielhausen/index.html",
        "kreis-muster/index.html",
        "musterstadt/a-z/index.html",
        "beispielhausen/a-z/index.html",
        "kreis-muster/a-z/index.html",
        // portal topic pages
        "musterstadt/themen/umwelt-tiere/index.html",
        "musterstadt/themen/ausweise-dokumente/index.html",
        "musterstadt/themen/familie-kind/index.html",
        "kreis-muster/themen/mobilitaet/index.html",
        // service pages
        "musterstadt/hund-anmelden/index.html",
        "beispielhausen/hund-anmelden/index.html",
        "musterstadt/meldebescheinigung/index.html",
        "beispielhausen/meldebescheinigung/index.html",
        "kreis-muster/meldebescheinigung/index.html",
        "musterstadt/sperrmuell-anmelden/index.html",
        "kreis-muster/fuehrerschein-strasse/index.html",
        "musterstadt/elterngeld/index.html",
        "kreis-muster/fuehrungszeugnis/index.html",
        // portal free pages
        "musterstadt/impressum/index.html",
        "musterstadt/datenschutz/index.html",
        "kreis-muster/impressum/index.html",
        // form schemas
        "forms/musterstadt/hund-anmelden.json",
        "forms/beispielhausen/hund-anmelden.json",
        "forms/musterstadt/sperrmuell-anmelden.json",
        // styles
        "theme.css",
        "musterstadt/theme.css",
    ];
    let missing: Vec<&str> = required.iter().copied().filter(|p| !exists(p)).collect();
    assert!(missing.is_empty(), "missing output files: {missing:#?}");
}

#[test]
fn nothing_is_published_where_it_does_not_belong() {
    let absent = [
        // the override keeps the regional slug, whatever its file is called
        "beispielhausen/meldebescheinigung-vor-ort",
        // a local service exists only in its portal
        "beispielhausen/sperrmuell-anmelden",
        "kreis-muster/sperrmuell-anmelden",
        // a service offered by a subset of portals
        "kreis-muster/hund-anmelden",
        "musterstadt/fuehrerschein-strasse",
        "beispielhausen/fuehrerschein-strasse",
        // a portal topic page only where the portal has services in it
        "musterstadt/themen/mobilitaet",
        "kreis-muster/themen/umwelt-tiere",
        // the file name is not the slug
        "kreis-muster/Führerschein-Straße",
        // no schema for services without a form or for land/bund services
        "forms/musterstadt/meldebescheinigung.json",
        "forms/musterstadt/elterngeld.json",
    ];
    let present: Vec<&str> = absent.iter().copied().filter(|p| exists(p)).collect();
    assert!(present.is_empty(), "unexpected output: {present:#?}");
    // kreis-muster has no service with a form: its only schema is the feedback form,
    // next to the list of its offices.
    let mut kreis_forms: Vec<String> = fs::read_dir(dist().join("forms/kreis-muster"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kreis_forms.sort();
    assert_eq!(kreis_forms, ["_offices.json", "barrierefreiheit.json"]);
    // pages are folders with index.html: no stray HTML files besides 404.html
    for file in html_files() {
        assert!(
            file == "404.html" || file.ends_with("/index.html") || file == "index.html",
            "{file}"
        );
    }
}

#[test]
fn slugs_spell_out_umlauts_and_sharp_s() {
    assert_eq!(slugify("Führerschein-Straße"), "fuehrerschein-strasse");
    assert_eq!(slugify("Ärger über Öl"), "aerger-ueber-oel");
    assert_eq!(
        slugify("Sperrmüll (Abholung) & Co."),
        "sperrmuell-abholung-co"
    );
    assert!(exists("kreis-muster/fuehrerschein-strasse/index.html"));
    let page = read("kreis-muster/fuehrerschein-strasse/index.html");
    assert!(page.contains("<h1>Führerschein für den Straßenverkehr</h1>"));
    // links to it use the slug
    let az = unescape(&read("kreis-muster/a-z/index.html"));
    assert!(az.contains(r#"href="/kreis-muster/fuehrerschein-strasse/""#));
}

// ---------------------------------------------------------------------------
// Metadata of every page

#[test]
fn every_page_is_german_with_an_absolute_canonical_link() {
    let files = html_files();
    assert!(files.len() >= 39, "{files:?}");
    for file in files {
        let html = read(&file);
        assert!(html.starts_with("<!DOCTYPE html>"), "{file}");
        let tags = tags(&html);
        let root = tags.iter().find(|t| t.name == "html").unwrap();
        assert_eq!(root.get("lang"), Some("de"), "{file}");
        let canonical: Vec<&Tag> = tags
            .iter()
            .filter(|t| t.name == "link" && t.get("rel") == Some("canonical"))
            .collect();
        assert_eq!(canonical.len(), 1, "{file}");
        let href = canonical[0].get("href").unwrap();
        assert!(href.starts_with("https://"), "{file}: {href}");
        if file != "404.html" {
            assert_eq!(href, expected_url(&file), "{file}");
        }
        assert_eq!(
            tags.iter().filter(|t| t.name == "h1").count(),
            1,
            "{file}: one h1"
        );
        assert!(tags.iter().any(|t| t.name == "title"), "{file}");
    }
}

#[test]
fn sitemap_lists_the_absolute_url_of_every_page() {
    let xml = read("sitemap.xml");
    assert!(xml.starts_with("<?xml"));
    let listed: BTreeSet<String> = xml
        .split("<loc>")
        .skip(1)
        .map(|rest| rest.split("</loc>").next().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = html_files()
        .iter()
        .filter(|f| *f != "404.html")
        .map(|f| expected_url(f))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(
        xml.matches("<loc>").count(),
        expected.len(),
        "no duplicates"
    );
    assert!(listed.iter().all(|u| u.starts_with("https://")));
    assert!(listed.contains(&format!("{REGION_URL}/")));
    assert!(listed.contains(&format!("{REGION_URL}/musterstadt/hund-anmelden/")));
    assert!(listed.contains(&format!("{BEISPIELHAUSEN_URL}/hund-anmelden/")));
}

#[test]
fn robots_txt_points_at_the_sitemap() {
    let robots = read("robots.txt");
    assert!(robots.contains("User-agent: *"));
    assert!(robots.contains("Disallow: /api/"));
    assert!(robots.contains(&format!("Sitemap: {REGION_URL}/sitemap.xml")));
}

#[test]
fn not_found_page_is_german_and_links_home() {
    let html = read("404.html");
    assert!(html.contains(r#"<html lang="de">"#));
    assert!(html.contains("Seite nicht gefunden"));
    let tags = tags(main_part(&html));
    assert!(tags.iter().any(|t| t.get("href") == Some("/")));
}

#[test]
fn service_pages_carry_government_service_json_ld() {
    let services = [
        "musterstadt/elterngeld/index.html",
        "musterstadt/fuehrungszeugnis/index.html",
        "musterstadt/hund-anmelden/index.html",
        "musterstadt/meldebescheinigung/index.html",
        "musterstadt/sperrmuell-anmelden/index.html",
        "beispielhausen/elterngeld/index.html",
        "beispielhausen/fuehrungszeugnis/index.html",
        "beispielhausen/hund-anmelden/index.html",
        "beispielhausen/meldebescheinigung/index.html",
        "kreis-muster/elterngeld/index.html",
        "kreis-muster/fuehrerschein-strasse/index.html",
        "kreis-muster/fuehrungszeugnis/index.html",
        "kreis-muster/meldebescheinigung/index.html",
    ];
    // JSON-LD only on service pages
    for file in html_files() {
        if !services.contains(&file.as_str()) {
            assert!(!read(&file).contains("application/ld+json"), "{file}");
        }
    }
    for file in services {
        let html = read(file);
        let scripts: Vec<Tag> = tags(&html)
            .into_iter()
            .filter(|t| t.name == "script")
            .collect();
        assert_eq!(scripts.len(), 1, "{file}");
        assert_eq!(scripts[0].get("type"), Some("application/ld+json"));
        let json: serde_json::Value = serde_json::from_str(inner(&html, &scripts[0]))
            .unwrap_or_else(|e| panic!("{file}: JSON-LD does not parse: {e}"));
        assert_eq!(json["@context"], "https://schema.org", "{file}");
        assert_eq!(json["@type"], "GovernmentService", "{file}");
        assert_eq!(json["url"], expected_url(file).as_str(), "{file}");
        let h1 = tags(&html).into_iter().find(|t| t.name == "h1").unwrap();
        assert_eq!(json["name"], unescape(inner(&html, &h1)).as_str(), "{file}");
    }
    let json: serde_json::Value = {
        let html = read("musterstadt/hund-anmelden/index.html");
        let script = tags(&html)
            .into_iter()
            .find(|t| t.name == "script")
            .unwrap();
        serde_json::from_str(inner(&html, &script)).unwrap()
    };
    assert_eq!(json["identifier"]["value"], "99102013000000");
    assert_eq!(json["provider"]["name"], "Stadt Musterstadt");
    let bund: serde_json::Value = {
        let html = read("musterstadt/fuehrungszeugnis/index.html");
        let script = tags(&html)
            .into_iter()
            .find(|t| t.name == "script")
            .unwrap();
        serde_json::from_str(inner(&html, &script)).unwrap()
    };
    assert_eq!(bund["provider"]["name"], "Bundesrepublik Deutschland");
    assert_eq!(
        bund["availableChannel"]["serviceUrl"],
        "https://www.fuehrungszeugnis.bund.de/"
    );
}

// ---------------------------------------------------------------------------
// Umbrella and portal pages

#[test]
fn umbrella_home_lists_all_portals_cities_first_and_all_categories() {
    let html = read("index.html");
    let links: Vec<String> = tags(main_part(&html))
        .into_iter()
        .filter_map(|t| t.get("href").map(str::to_string))
        .collect();
    let pos = |href: &str| {
        links
            .iter()
            .position(|l| l == href)
            .unwrap_or_else(|| panic!("no link to {href} in {links:?}"))
    };
    let (a, b, k) = (
        pos("/beispielhausen/"),
        pos("/musterstadt/"),
        pos("/kreis-muster/"),
    );
    assert!(a < b && b < k, "cities alphabetically, then the district");
    for category in [
        "familie-kind",
        "ausweise-dokumente",
        "mobilitaet",
        "umwelt-tiere",
    ] {
        pos(&format!("/themen/{category}/"));
    }
    for name in ["Musterstadt", "Beispielhausen", "Kreis Muster"] {
        assert!(main_part(&html).contains(name), "{name}");
    }
    // footer: the umbrella's free pages
    assert!(unescape(&html).contains(r#"href="/impressum/""#));
    assert!(unescape(&html).contains(r#"href="/barrierefreiheit/""#));
}

#[test]
fn umbrella_topic_page_lists_each_service_once_with_every_portal() {
    let html = unescape(&read("themen/umwelt-tiere/index.html"));
    let main = main_part(&html);
    // one entry for the service, linking every portal that offers it, each once
    assert_eq!(
        main.matches(r#"href="/musterstadt/hund-anmelden/""#)
            .count(),
        1
    );
    assert_eq!(
        main.matches(r#"href="/beispielhausen/hund-anmelden/""#)
            .count(),
        1
    );
    let headings = tags(main)
        .into_iter()
        .filter(|t| t.name.starts_with('h') && inner(main, t) == "Hund anmelden")
        .count();
    assert_eq!(headings, 1);
    assert!(!main.contains("/kreis-muster/hund-anmelden/"));
    // the local service appears only with its own portal
    assert!(main.contains(r#"href="/musterstadt/sperrmuell-anmelden/""#));
    assert!(!main.contains("/beispielhausen/sperrmuell-anmelden/"));

    let docs = unescape(&read("themen/ausweise-dokumente/index.html"));
    for portal in ["musterstadt", "beispielhausen", "kreis-muster"] {
        assert!(
            docs.contains(&format!(r#"href="/{portal}/meldebescheinigung/""#)),
            "`portals = [\"*\"]` reaches {portal}"
        );
    }
    assert!(docs.contains("Angebot des Bundes"));
}

#[test]
fn portal_home_shows_topics_online_services_and_offices() {
    let html = unescape(&read("musterstadt/index.html"));
    let main = main_part(&html);
    assert!(main.contains("<h1>Stadt Musterstadt</h1>"));
    assert!(main.contains(r#"href="/musterstadt/themen/umwelt-tiere/""#));
    assert!(!main.contains("/themen/mobilitaet/"));
    // online services: those with a form
    assert!(main.contains(r#"href="/musterstadt/hund-anmelden/""#));
    assert!(main.contains(r#"href="/musterstadt/sperrmuell-anmelden/""#));
    assert!(main.contains("Bürgerbüro Musterstadt"));
    assert!(main.contains(r#"href="/musterstadt/a-z/""#));
    // footer: the portal's own free pages
    assert!(html.contains(r#"href="/musterstadt/impressum/""#));
    assert!(html.contains(r#"href="/musterstadt/datenschutz/""#));
}

#[test]
fn a_to_z_lists_the_portals_services_alphabetically() {
    let html = unescape(&read("musterstadt/a-z/index.html"));
    let main = main_part(&html);
    let order = [
        "/musterstadt/elterngeld/",
        "/musterstadt/fuehrungszeugnis/",
        "/musterstadt/hund-anmelden/",
        "/musterstadt/meldebescheinigung/",
        "/musterstadt/sperrmuell-anmelden/",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|href| {
            main.find(&format!(r#"href="{href}""#))
                .unwrap_or_else(|| panic!("{href} missing"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // "Führungszeugnis" is filed under F (ü sorts as u)
    for letter in ["E", "F", "H", "M", "S"] {
        assert!(main.contains(&format!(">{letter}</h2>")), "letter {letter}");
    }
    assert!(main.contains("5 Leistungen"));

    let other = unescape(&read("beispielhausen/a-z/index.html"));
    assert!(
        !other.contains("Sperrmüll"),
        "a local service stays in its portal"
    );
    assert!(!other.contains("Führerschein für den Straßenverkehr"));
    let district = unescape(&read("kreis-muster/a-z/index.html"));
    assert!(!district.contains("Hund anmelden"));
    assert!(district.contains("Führerschein für den Straßenverkehr"));
}

#[test]
fn portal_topic_page_lists_only_that_portals_services() {
    let html = unescape(&read("beispielhausen/themen/umwelt-tiere/index.html"));
    let main = main_part(&html);
    assert!(main.contains(r#"href="/beispielhausen/hund-anmelden/""#));
    assert!(!main.contains("sperrmuell"));
    assert!(!main.contains("/musterstadt/"));
}

#[test]
fn free_pages_render_for_portals_and_the_umbrella() {
    let umbrella = read("impressum/index.html");
    assert!(umbrella.contains("<h1>Impressum</h1>"));
    assert!(umbrella.contains("Verantwortlich für das Serviceportal Testregion"));
    let portal = read("musterstadt/impressum/index.html");
    assert!(portal.contains("Vertreten durch die Bürgermeisterin"));
    let district = read("kreis-muster/impressum/index.html");
    assert!(district.contains("45657 Kreisstadt"));
    let privacy = read("musterstadt/datenschutz/index.html");
    assert!(privacy.contains("<h1>Datenschutzerklärung</h1>"));
    assert!(privacy.contains("Einwilligung widerrufen"));
}

// ---------------------------------------------------------------------------
// Service pages: inheritance, providers, forms

#[test]
fn override_changes_fees_and_body_only_in_its_portal() {
    let local = main_part(&read("musterstadt/hund-anmelden/index.html")).to_string();
    assert!(local.contains("Musterstädter Sonderregel"));
    assert!(local.contains("Musterstadt erhebt 96 Euro Hundesteuer im Jahr."));
    assert!(local.contains("Für jeden weiteren Hund 120 Euro."));
    assert!(!local.contains("Regionaler Hinweistext"));
    assert!(!local.contains("Mustersatzung"));
    // keys the override does not set are inherited
    assert!(local.contains("Nachweis der Haftpflichtversicherung"));
    assert!(local.contains("Steueramt Musterstadt"));
    assert!(local.contains("<form"));

    let regional = main_part(&read("beispielhausen/hund-anmelden/index.html")).to_string();
    assert!(regional.contains("Regionaler Hinweistext zur Hundesteuer"));
    assert!(regional.contains("gebührenfrei; Hundesteuer nach der regionalen Mustersatzung"));
    assert!(!regional.contains("Musterstädter"));
    assert!(!regional.contains("96 Euro"));
    assert!(regional.contains("Kämmerei Beispielhausen"));
}

#[test]
fn override_of_the_office_only_keeps_regional_text() {
    let local = main_part(&read("beispielhausen/meldebescheinigung/index.html")).to_string();
    assert!(local.contains("Rathaus-Service Beispielhausen"));
    assert!(!local.contains("Bürgeramt Beispielhausen"));
    assert!(local.contains("Regionaler Text zur Meldebescheinigung"));
    assert!(local.contains("<h1>Meldebescheinigung beantragen</h1>"));
    assert!(local.contains("10 Euro"));

    let elsewhere = main_part(&read("musterstadt/meldebescheinigung/index.html")).to_string();
    assert!(elsewhere.contains("Bürgerbüro Musterstadt"));
    assert!(!elsewhere.contains("Rathaus-Service"));
    let district = main_part(&read("kreis-muster/meldebescheinigung/index.html")).to_string();
    assert!(district.contains("Bürgerservice des Kreises Muster"));
}

#[test]
fn land_and_bund_services_are_marked_and_link_their_url() {
    for portal in ["musterstadt", "beispielhausen", "kreis-muster"] {
        let land = unescape(&read(&format!("{portal}/elterngeld/index.html")));
        let main = main_part(&land);
        assert!(main.contains("Angebot des Landes NRW"), "{portal}");
        assert!(main.contains(r#"href="https://www.elterngeld-digital.de/""#));
        assert!(!main.contains("<form"), "land services have no form");

        let bund = unescape(&read(&format!("{portal}/fuehrungszeugnis/index.html")));
        let main = main_part(&bund);
        assert!(main.contains("Angebot des Bundes"), "{portal}");
        assert!(main.contains(r#"href="https://www.fuehrungszeugnis.bund.de/""#));
    }
    // lists mark them too
    let az = read("musterstadt/a-z/index.html");
    assert!(az.contains("Angebot des Landes NRW"));
    assert!(az.contains("Angebot des Bundes"));
    // municipal services carry no such mark
    let own = main_part(&read("musterstadt/meldebescheinigung/index.html")).to_string();
    assert!(!own.contains("Angebot des"));
}

/// The `[[form.fields]]` of the regional dog service, read straight from the fixture.
fn fixture_form() -> Form {
    #[derive(serde::Deserialize)]
    struct FrontMatter {
        form: Form,
    }
    let text = fs::read_to_string(fixture_dir().join("services/hund-anmelden.md")).unwrap();
    let front = text.split("+++").nth(1).unwrap();
    toml::from_str::<FrontMatter>(front).unwrap().form
}

#[test]
fn form_has_action_method_hidden_inputs_and_a_label_for_every_field() {
    let html = read("musterstadt/hund-anmelden/index.html");
    let tags = tags(&html);
    let forms: Vec<&Tag> = tags
        .iter()
        .filter(|t| t.name == "form" && t.get("role") != Some("search"))
        .collect();
    assert_eq!(forms.len(), 1);
    let form = forms[0];
    assert_eq!(form.get("action"), Some("/api/applications"));
    assert_eq!(form.get("method"), Some("post"));
    let form_start = form.at;
    let form_end = form_start + html[form_start..].find("</form>").unwrap();
    let inside: Vec<&Tag> = tags
        .iter()
        .filter(|t| t.at > form_start && t.at < form_end)
        .collect();
    let hidden = |name: &str| {
        inside
            .iter()
            .find(|t| t.get("type") == Some("hidden") && t.get("name") == Some(name))
            .and_then(|t| t.get("value"))
            .map(str::to_string)
    };
    assert_eq!(hidden("portal").as_deref(), Some("musterstadt"));
    assert_eq!(hidden("service").as_deref(), Some("hund-anmelden"));

    let label_for: BTreeSet<&str> = inside
        .iter()
        .filter(|t| t.name == "label")
        .filter_map(|t| t.get("for"))
        .collect();
    let control = |id: &str| -> &Tag {
        inside
            .iter()
            .copied()
            .find(|t| {
                matches!(t.name.as_str(), "input" | "select" | "textarea")
                    && t.get("id") == Some(id)
            })
            .unwrap_or_else(|| panic!("no control with id {id}"))
    };

    let fields = fixture_form().fields;
    assert_eq!(fields.len(), 11);
    let kinds: BTreeSet<&str> = fields.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(
        kinds.len(),
        FieldType::ALL.len(),
        "the fixture uses every field type"
    );

    for field in &fields {
        if field.kind == FieldType::Radio {
            // a group: legend plus one labelled radio per option
            assert!(html[form_start..form_end].contains("<legend"));
            for (i, option) in field.options.iter().enumerate() {
                let id = format!("feld-{}-{}", field.id, i + 1);
                assert!(label_for.contains(id.as_str()), "{id}");
                let input = control(&id);
                assert_eq!(input.get("type"), Some("radio"));
                assert_eq!(input.get("name"), Some(field.id.as_str()));
                assert_eq!(input.get("value"), Some(option.as_str()));
                assert_eq!(input.has("required"), field.required, "{id}");
            }
            continue;
        }
        let id = format!("feld-{}", field.id);
        assert!(label_for.contains(id.as_str()), "no <label for=\"{id}\">");
        let input = control(&id);
        assert_eq!(input.get("name"), Some(field.id.as_str()), "{id}");
        assert_eq!(input.has("required"), field.required, "{id} required");
        let (tag, input_type, autocomplete) = match field.kind {
            FieldType::Text => ("input", Some("text"), Some("name")),
            FieldType::Textarea => ("textarea", None, None),
            FieldType::Email => ("input", Some("email"), Some("email")),
            FieldType::Tel => ("input", Some("tel"), Some("tel")),
            FieldType::Date => ("input", Some("date"), None),
            FieldType::Number => ("input", Some("number"), None),
            FieldType::Select => ("select", None, None),
            FieldType::Checkbox => ("input", Some("checkbox"), None),
            FieldType::Postcode => ("input", Some("text"), Some("postal-code")),
            FieldType::Iban => ("input", Some("text"), Some("off")),
            FieldType::Radio => unreachable!(),
        };
        assert_eq!(input.name, tag, "{id}");
        assert_eq!(input.get("type"), input_type, "{id} type");
        assert_eq!(input.get("autocomplete"), autocomplete, "{id} autocomplete");
        if field.help.is_some() {
            assert_eq!(
                input.get("aria-describedby"),
                Some(format!("hilfe-{}", field.id).as_str()),
                "{id}"
            );
        }
    }
    let number = control("feld-anzahl_hunde");
    assert_eq!(number.get("min"), Some("1"));
    assert_eq!(number.get("max"), Some("5"));
    assert_eq!(control("feld-halter_name").get("maxlength"), Some("120"));
    assert_eq!(control("feld-anmerkungen").get("maxlength"), Some("1000"));
    assert_eq!(control("feld-plz").get("inputmode"), Some("numeric"));
    let options: Vec<&str> = inside
        .iter()
        .filter(|t| t.name == "option")
        .filter_map(|t| t.get("value"))
        .collect();
    assert_eq!(options, ["", "Mischling", "Labrador", "Dackel"]);
    assert!(inside
        .iter()
        .any(|t| t.name == "button" && t.get("type") == Some("submit")));
}

/// The field blocks of the first form on a page, one string per field: from the first
/// line opening a `feld` to the first line after the fields (submit button or the note on
/// encryption), split where a line opens the next field.
fn field_blocks(html: &str) -> Vec<String> {
    let opens = |line: &str| {
        line.starts_with("<div class=\"feld") || line.starts_with("<fieldset class=\"feld")
    };
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in html.lines().skip_while(|l| !opens(l)) {
        if line.starts_with("<button") || line.starts_with("<p class=\"antrag__schutz") {
            break;
        }
        if opens(line) {
            blocks.push(Vec::new());
        }
        blocks.last_mut().unwrap().push(line);
    }
    blocks.into_iter().map(|b| b.join("\n")).collect()
}

/// What the form with errors shows for each field, shown in the theme's form as well:
/// a typed value or choice per field, and a message at each.
fn typed_and_errors(schema: &FormSchema) -> (Submitted, FieldErrors) {
    let mut typed = Submitted::new();
    let mut errors = FieldErrors::new();
    for field in &schema.fields {
        let value = match field.kind {
            FieldType::Select | FieldType::Radio => field.options.last().unwrap().clone(),
            FieldType::Checkbox => "ja".to_string(),
            _ => format!("Eingabe <{}> & \"mehr\"", field.id),
        };
        typed.insert(field.id.clone(), value);
        errors.insert(field.id.clone(), format!("Fehler bei {}", field.label));
    }
    (typed, errors)
}

/// The block of `field` in the form with errors with the error and the typed value taken
/// out again: must give the theme's block.
fn without_error_and_value(block: &str, field: &FormField, typed: &str) -> String {
    let escaped = lotse_model::markup::escape(typed);
    let (typed_part, plain) = match field.kind {
        FieldType::Radio => (
            format!("value=\"{escaped}\" checked"),
            format!("value=\"{escaped}\""),
        ),
        FieldType::Select => (
            format!("value=\"{escaped}\" selected"),
            format!("value=\"{escaped}\""),
        ),
        FieldType::Checkbox => ("value=\"ja\" checked".into(), "value=\"ja\"".into()),
        FieldType::Textarea => (format!(">{escaped}</textarea>"), "></textarea>".into()),
        _ => (format!(" value=\"{escaped}\""), String::new()),
    };
    block
        .lines()
        .filter(|l| !l.starts_with("<p class=\"feld__fehler\""))
        .map(|line| {
            line.replace(" feld--fehler", "")
                .replace(" aria-invalid=\"true\"", "")
                .replace(&format!(" aria-describedby=\"fehler-{}\"", field.id), "")
                .replace(&format!(" fehler-{}\"", field.id), "\"")
                .replace(&typed_part, &plain)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_theme_and_the_form_with_errors_render_every_field_alike() {
    for (page, schema) in [
        (
            "musterstadt/hund-anmelden/index.html",
            "forms/musterstadt/hund-anmelden.json",
        ),
        (
            "musterstadt/barrierefreiheit/index.html",
            "forms/musterstadt/barrierefreiheit.json",
        ),
    ] {
        let schema: FormSchema = serde_json::from_str(&read(schema)).unwrap();
        let theme = field_blocks(&read(page));
        // Every field of the schema, then the optional address for notifications.
        assert_eq!(theme.len(), schema.fields.len() + 1, "{page}: {theme:#?}");
        assert!(theme[schema.fields.len()].contains("name=\"notify_email\""));

        // Nothing typed, no errors: the very same markup.
        let fresh = lotse_functions::form_with_errors(
            "Testregion",
            &schema,
            &Submitted::new(),
            &FieldErrors::new(),
        );
        assert_eq!(field_blocks(&fresh), theme, "{page}");

        // Typed and wrong: the same markup plus value and message.
        let (typed, errors) = typed_and_errors(&schema);
        let answered = field_blocks(&lotse_functions::form_with_errors(
            "Testregion",
            &schema,
            &typed,
            &errors,
        ));
        assert_eq!(answered.len(), theme.len());
        for ((field, block), theme_block) in schema.fields.iter().zip(&answered).zip(&theme) {
            let message = lotse_model::markup::escape(&errors[&field.id]);
            assert!(
                block.contains(&format!("id=\"fehler-{}\"", field.id)),
                "{block}"
            );
            assert!(block.contains(&message), "{block}");
            assert!(block.contains("aria-invalid=\"true\""), "{block}");
            assert_eq!(
                &without_error_and_value(block, field, &typed[&field.id]),
                theme_block,
                "{page}: {}",
                field.id
            );
        }
    }
    let kinds: BTreeSet<&str> = fixture_form()
        .fields
        .iter()
        .map(|f| f.kind.as_str())
        .collect();
    assert_eq!(
        kinds.len(),
        FieldType::ALL.len(),
        "every field type is compared"
    );
}

#[test]
fn service_with_a_login_level_links_to_the_login() {
    let html = read("musterstadt/hund-anmelden/index.html");
    let login: Vec<String> = tags(&html)
        .into_iter()
        .filter_map(|t| t.get("href").map(str::to_string))
        .filter(|h| h.starts_with("/api/login?"))
        .collect();
    assert_eq!(
        login,
        ["/api/login?portal=musterstadt&return=%2Fmusterstadt%2Fhund-anmelden%2F%23antrag&level=low"]
    );
    assert!(html.contains("BundID"));
    // no login needed: no login link
    let local = read("musterstadt/sperrmuell-anmelden/index.html");
    assert!(!unescape(&local).contains("/api/login"));
}

#[test]
fn form_schemas_deserialize_and_match_the_front_matter() {
    let expected = fixture_form();
    for (portal, key) in [
        (
            "musterstadt",
            "llK5B72zSvXlFdy1uAi57ginimeaWHrFDCV7huyeM6k=",
        ),
        (
            "beispielhausen",
            "DCXW2sbDbDfgmV2eVfQ6GcsCNpZpUtdeuKfNjlaoE2M=",
        ),
    ] {
        let json = read(&format!("forms/{portal}/hund-anmelden.json"));
        let schema: FormSchema = serde_json::from_str(&json).unwrap();
        assert_eq!(schema.portal, portal);
        assert_eq!(schema.service, "hund-anmelden");
        assert_eq!(schema.title, "Hund anmelden");
        assert_eq!(schema.office, "steueramt");
        assert_eq!(schema.public_key, key, "encrypted to this portal's office");
        assert_eq!(schema.login, TrustLevel::Low);
        assert_eq!(schema.fields, expected.fields);
    }
    let local: FormSchema =
        serde_json::from_str(&read("forms/musterstadt/sperrmuell-anmelden.json")).unwrap();
    assert_eq!(local.office, "ordnungsamt");
    assert_eq!(local.login, TrustLevel::None);
    let ids: Vec<&str> = local.fields.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["strasse", "wunschtermin"]);
    assert!(local.fields[0].required && !local.fields[1].required);

    let all: Vec<PathBuf> = snapshot(&dist().join("forms")).into_keys().collect();
    let schemas = all.iter().filter(|p| !p.ends_with("_offices.json")).count();
    assert_eq!(schemas, 6, "three services, three feedback forms: {all:?}");

    // Each portal's office list: what the office inbox answers 404 for when missing.
    let offices: lotse_functions::OfficeList =
        serde_json::from_str(&read("forms/musterstadt/_offices.json")).unwrap();
    assert_eq!(offices.portal, "musterstadt");
    assert!(
        offices.offices.iter().any(|o| o == "steueramt"),
        "{:?}",
        offices.offices
    );
}

/// The text of the submit button of the application form on a page.
fn submit_button(html: &str) -> String {
    let start = html
        .find("<button class=\"knopf knopf--senden\" type=\"submit\">")
        .expect("a submit button");
    let text = &html[start..];
    let text = &text[text.find('>').unwrap() + 1..text.find("</button>").unwrap()];
    text.to_string()
}

#[test]
fn a_paid_service_carries_its_fee_in_the_schema_and_on_the_page() {
    // Musterstadt's override adds a fee to the regional dog service; the provider is
    // region.toml's, as Musterstadt sets none.
    let json = read("forms/musterstadt/hund-anmelden.json");
    let raw: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        raw["fee"],
        serde_json::json!({
            "amount": 1300,
            "purpose": "Hundemarke Musterstadt",
            "provider": {
                "base_url": "https://pay.testregion.example/api/v1",
                "originator_id": "testregion",
                "endpoint_id": "gebuehren",
                "token_url": "https://pay.testregion.example/oauth/token",
                "client_id": "lotse-testregion"
            }
        }),
        "the amount in cents, the provider without the final /"
    );
    let schema: FormSchema = serde_json::from_str(&json).unwrap();
    let fee = schema.fee.expect("a fee");
    assert_eq!(fee.amount, Cents(1300));
    assert_eq!(fee.provider.originator_id, "testregion");

    let page = unescape(main_part(&read("musterstadt/hund-anmelden/index.html")));
    let costs = &page[page.find("id=\"s-kosten\"").expect("Kosten")..];
    let costs = &costs[..costs.find("</section>").unwrap()];
    assert!(
        costs.contains("Gebühr für den Online-Antrag: <strong>13,00 €</strong>"),
        "{costs}"
    );
    assert!(costs.contains("Musterstadt erhebt 96 Euro Hundesteuer im Jahr."));
    let form_section = &page[page.find("id=\"antrag\"").unwrap()..];
    let note = form_section.find("Gebühr: <strong>13,00 €</strong>. Sie bezahlen sie am Ende online bei der Stadtkasse; erst dann geht Ihr Antrag an die Behörde.");
    let form = form_section.find("<form").unwrap();
    assert!(
        note.is_some_and(|at| at < form),
        "the note comes before the form"
    );
    assert_eq!(submit_button(form_section), "Weiter zur Bezahlung");
    assert!(!page.contains("Antrag absenden"));
}

#[test]
fn an_unpaid_service_has_no_fee() {
    // the same regional service in Beispielhausen, and Musterstadt's local service
    for (portal, service) in [
        ("beispielhausen", "hund-anmelden"),
        ("musterstadt", "sperrmuell-anmelden"),
    ] {
        let json = read(&format!("forms/{portal}/{service}.json"));
        assert!(!json.contains("\"fee\""), "{portal}/{service}: {json}");
        let schema: FormSchema = serde_json::from_str(&json).unwrap();
        assert_eq!(schema.fee, None);
        let page = unescape(main_part(&read(&format!("{portal}/{service}/index.html"))));
        assert_eq!(
            submit_button(&page),
            "Antrag absenden",
            "{portal}/{service}"
        );
        assert!(!page.contains("Weiter zur Bezahlung"));
        assert!(!page.contains("Gebühr:"));
        assert!(!page.contains("Online-Antrag: <strong>"));
        assert!(!page.contains('€'), "{portal}/{service}");
    }
    // the accessibility feedback form is never paid
    let feedback = read("forms/musterstadt/barrierefreiheit.json");
    assert!(!feedback.contains("\"fee\""));
}

#[test]
fn every_portal_statement_carries_the_feedback_form() {
    for portal in ["musterstadt", "beispielhausen", "kreis-muster"] {
        let schema: FormSchema =
            serde_json::from_str(&read(&format!("forms/{portal}/barrierefreiheit.json"))).unwrap();
        assert_eq!(schema.service, "barrierefreiheit");
        assert_eq!(schema.title, "Rückmeldung zur Barrierefreiheit");
        assert_eq!(schema.login, TrustLevel::None);
        assert!(schema
            .fields
            .iter()
            .any(|f| f.id == "beschreibung" && f.required));
        let html = read(&format!("{portal}/barrierefreiheit/index.html"));
        assert!(
            html.contains("<form class=\"formular\" method=\"post\" action=\"/api/applications\"")
        );
        assert!(html.contains(&format!(
            "<input type=\"hidden\" name=\"portal\" value=\"{portal}\">"
        )));
        assert!(
            html.contains("<input type=\"hidden\" name=\"service\" value=\"barrierefreiheit\">")
        );
        assert!(html.contains("Rückmeldung absenden"));
    }
    // The umbrella's statement sends to the portal region.toml names (feedback_portal).
    let html = read("barrierefreiheit/index.html");
    assert!(html.contains("<input type=\"hidden\" name=\"portal\" value=\"kreis-muster\">"));
    assert!(html.contains("<input type=\"hidden\" name=\"service\" value=\"barrierefreiheit\">"));
}

// ---------------------------------------------------------------------------
// Sanitizing

#[test]
fn no_script_from_content_and_no_javascript_urls_or_event_handlers_anywhere() {
    for file in html_files() {
        let html = read(&file);
        for tag in tags(&html) {
            if tag.name == "script" {
                // Either JSON-LD, or one of the theme's own scripts (search.js, prefill.js).
                match tag.get("src") {
                    Some(src) => assert!(src.starts_with("/assets/"), "{file}: {src}"),
                    None => assert_eq!(tag.get("type"), Some("application/ld+json"), "{file}"),
                }
            }
            for (name, value) in &tag.attrs {
                assert!(!name.starts_with("on"), "{file}: <{} {name}>", tag.name);
                assert!(
                    !value.trim().to_ascii_lowercase().starts_with("javascript:"),
                    "{file}: {name}={value}"
                );
            }
            assert!(!["iframe", "object", "embed"].contains(&tag.name.as_str()));
        }
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("javascript:"), "{file}");
        assert!(!lower.contains("onerror"), "{file}");
        assert!(!lower.contains("onclick"), "{file}");
        assert!(!lower.contains("onmouseover"), "{file}");
        assert!(!lower.contains("alert("), "{file}");
        assert!(!lower.contains("tracker.example"), "{file}");
    }
    // the harmless parts of the same bodies survive
    let body = unescape(&read("musterstadt/meldebescheinigung/index.html"));
    assert!(body.contains("Klicken Sie"));
    assert!(body.contains(r#"href="https://www.serviceportal-testregion.example/hilfe/""#));
    assert!(body.contains("sicherer Link"));
    assert!(body.contains("Gefährlicher Link"));
}

// ---------------------------------------------------------------------------
// Atomic output

fn snapshot_with_dirs(root: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

fn build_ok(content: &Path, theme: &Path, out: &Path) {
    match build::build(content, theme, out, false).unwrap() {
        BuildOutcome::Built(..) => {}
        BuildOutcome::Invalid(d) => panic!("{}", lines(&d).join("\n")),
    }
}

#[test]
fn failing_build_leaves_the_earlier_output_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    let out = tmp.path().join("dist");
    copy_dir(&fixture_dir(), &content);
    build_ok(&content, &theme_dir(), &out);
    let before = snapshot(&out);
    let tree_before = snapshot_with_dirs(tmp.path());
    assert!(before.len() > 40);

    // break one service file: the build must stop before writing anything
    write(
        &content,
        "services/meldebescheinigung.md",
        "+++\ntitle = \"Meldebescheinigung\"\nsummary = \n+++\n",
    );
    match build::build(&content, &theme_dir(), &out, false).unwrap() {
        BuildOutcome::Invalid(diags) => assert!(!error_lines(&diags).is_empty()),
        BuildOutcome::Built(..) => panic!("a broken region must not build"),
    }
    assert_eq!(snapshot(&out), before, "dist/ changed byte for byte");
    assert_eq!(
        snapshot_with_dirs(tmp.path()),
        tree_before,
        "no staging folder or other leftovers next to dist/"
    );
}

#[test]
fn build_failing_while_rendering_leaves_the_earlier_output_and_no_staging_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let theme = tmp.path().join("theme");
    let out = tmp.path().join("dist");
    copy_dir(&theme_dir(), &theme);
    build_ok(&fixture_dir(), &theme, &out);
    let before = snapshot(&out);
    let tree_before = snapshot_with_dirs(tmp.path());

    // a template error only shows when the first service page renders, after the
    // staging folder was created
    let service = theme.join("templates/service.html");
    let text = fs::read_to_string(&service).unwrap();
    fs::write(
        &service,
        text.replace(
            "{% block content %}",
            "{% block content %}{{ gibt_es_nicht.feld }}",
        ),
    )
    .unwrap();
    let error = match build::build(&fixture_dir(), &theme, &out, false) {
        Err(e) => format!("{e:#}"),
        Ok(_) => panic!("a broken template must fail the build"),
    };
    assert!(error.contains("service.html"), "{error}");
    assert_eq!(snapshot(&out), before);
    assert_eq!(snapshot_with_dirs(tmp.path()), tree_before);
}

#[test]
fn successful_rebuild_replaces_the_output_and_removes_stale_files() {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    let out = tmp.path().join("dist");
    copy_dir(&fixture_dir(), &content);
    build_ok(&content, &theme_dir(), &out);
    assert!(out
        .join("musterstadt/sperrmuell-anmelden/index.html")
        .exists());
    fs::remove_file(content.join("portals/musterstadt/services/sperrmuell-anmelden.md")).unwrap();
    build_ok(&content, &theme_dir(), &out);
    assert!(!out.join("musterstadt/sperrmuell-anmelden").exists());
    assert!(!out
        .join("forms/musterstadt/sperrmuell-anmelden.json")
        .exists());
    let names: BTreeSet<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["content", "dist"].map(String::from).into(),
        "no staging or old folders left"
    );
}

fn search_stats(content: &Path, out: &Path) -> lotse::search::IndexStats {
    match build::build(content, &theme_dir(), out, false).unwrap() {
        BuildOutcome::Built(report, _) => report.search,
        BuildOutcome::Invalid(d) => panic!("{}", lines(&d).join("\n")),
    }
}

#[cfg(unix)]
fn inode(path: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).unwrap())
}

#[cfg(not(unix))]
fn inode(_: &std::path::Path) -> u64 {
    0
}

#[test]
fn unchanged_search_indexes_are_reused_and_equal_a_fresh_build() {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    let out = tmp.path().join("dist");
    copy_dir(&fixture_dir(), &content);
    let first = search_stats(&content, &out);
    assert_eq!(first.reused, 0, "nothing to reuse in a new output folder");
    let entry = out.join("pagefind/pagefind-entry.json");
    let inode_before = inode(&entry);
    let again = search_stats(&content, &out);
    assert_eq!(again.reused, again.indexes, "nothing changed: {again:?}");
    // A reused index is the previous build's files, linked rather than copied.
    assert_eq!(inode(&entry), inode_before, "the reused file is linked");

    // A body edit in one portal: that portal's index is built anew, the umbrella's
    // catalogue (titles, summaries, keywords) and the other portals' are kept.
    let service = content.join("portals/musterstadt/services/sperrmuell-anmelden.md");
    let mut text = fs::read_to_string(&service).unwrap();
    text.push_str("\nAuch Elektrogeräte nehmen wir mit.\n");
    fs::write(&service, text).unwrap();
    let edited = search_stats(&content, &out);
    assert_eq!(edited.reused, edited.indexes - 1, "{edited:?}");

    let fresh = tmp.path().join("fresh");
    search_stats(&content, &fresh);
    assert_eq!(
        snapshot(&out),
        snapshot(&fresh),
        "reusing indexes must give the same files as building them"
    );
    let stamp = fs::read_to_string(out.join("musterstadt/pagefind").join(lotse::search::STAMP));
    assert_eq!(
        stamp.unwrap().len(),
        64,
        "a SHA-256 stamp in every index folder"
    );
}

#[test]
fn builds_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("again");
    build_ok(&fixture_dir(), &theme_dir(), &out);
    assert_eq!(snapshot(&out), snapshot(dist()));
}

// ---------------------------------------------------------------------------
// Aliases, videos, and the addresses the check stage knows

#[test]
fn aliases_write_redirect_pages_and_cloudflare_redirects() {
    // regional `aliases = ["meldebestaetigung"]`: one per portal offering the service
    for (portal, canonical) in [
        (
            "musterstadt",
            format!("{REGION_URL}/musterstadt/meldebescheinigung/"),
        ),
        (
            "beispielhausen",
            format!("{BEISPIELHAUSEN_URL}/meldebescheinigung/"),
        ),
    ] {
        let html = read(&format!("{portal}/meldebestaetigung/index.html"));
        let target = format!("/{portal}/meldebescheinigung/");
        let all = tags(&html);
        let meta = |name: &str, attr: &str| {
            all.iter()
                .find(|t| t.name == "meta" && t.get(attr) == Some(name))
                .and_then(|t| t.get("content"))
                .map(str::to_string)
        };
        assert_eq!(
            meta("refresh", "http-equiv"),
            Some(format!("0; url={target}"))
        );
        assert_eq!(meta("robots", "name").as_deref(), Some("noindex"));
        let link = all
            .iter()
            .find(|t| t.name == "link" && t.get("rel") == Some("canonical"))
            .expect("a canonical link");
        assert_eq!(link.get("href"), Some(canonical.as_str()));
        assert!(html.contains("<html lang=\"de\">"));
        assert!(
            html.contains(&format!(
                "Diese Seite ist umgezogen: <a href=\"{target}\">Meldebescheinigung beantragen</a>"
            )),
            "{html}"
        );
    }
    // a local service's absolute alias
    assert!(
        read("musterstadt/sperrmuell/index.html").contains("url=/musterstadt/sperrmuell-anmelden/")
    );
    for page in ALIAS_PAGES {
        assert!(exists(page), "{page}");
    }
    let redirects = read("_redirects");
    let lines: Vec<&str> = redirects.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        [
            "/beispielhausen/meldebestaetigung/ /beispielhausen/meldebescheinigung/ 301",
            "/kreis-muster/meldebestaetigung/ /kreis-muster/meldebescheinigung/ 301",
            "/musterstadt/meldebestaetigung/ /musterstadt/meldebescheinigung/ 301",
            "/musterstadt/sperrmuell/ /musterstadt/sperrmuell-anmelden/ 301",
        ]
    );
}

#[test]
fn aliases_are_not_in_the_sitemap() {
    let mut sitemaps = String::new();
    for (path, bytes) in snapshot(dist()) {
        let name = path.to_string_lossy().to_string();
        if name.ends_with(".xml") && name.contains("sitemap") {
            sitemaps.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    assert!(
        sitemaps.contains("/musterstadt/meldebescheinigung/"),
        "{sitemaps}"
    );
    assert!(!sitemaps.contains("meldebestaetigung"), "{sitemaps}");
    assert!(
        !sitemaps.contains("/musterstadt/sperrmuell/<"),
        "{sitemaps}"
    );
}

#[test]
fn sign_language_page_shows_its_video() {
    // a file next to the page: copied, and played in the page
    let html = read("musterstadt/gebaerdensprache/index.html");
    let video = tags(&html)
        .into_iter()
        .find(|t| t.name == "video")
        .expect("a video element");
    assert!(video.has("controls"));
    assert_eq!(video.get("src"), Some("gebaerdensprache.webm"));
    assert_eq!(
        fs::read(dist().join("musterstadt/gebaerdensprache/gebaerdensprache.webm")).unwrap(),
        [0x1a, 0x45, 0xdf, 0xa3]
    );
    // an address: linked
    let html = read("kreis-muster/gebaerdensprache/index.html");
    assert!(!html.contains("<video"));
    assert!(tags(&html).iter().any(|t| t.name == "a"
        && t.get("href")
            == Some("https://video.serviceportal-testregion.example/dgs-kreis-muster.mp4")));
    let headers = read("_headers");
    assert!(headers.contains("media-src 'self'"), "{headers}");
}

/// The addresses links are checked against are the pages the build writes, and every
/// file they name is written.
#[test]
fn checked_addresses_match_the_output() {
    let (site, _) = build::check(&fixture_dir());
    let addresses = lotse::check::addresses::Addresses::of(&site.unwrap());
    let written: BTreeSet<String> = snapshot(dist())
        .into_keys()
        .map(|p| format!("/{}", p.to_string_lossy().replace('\\', "/")))
        .collect();
    // The caseworkers' workspace (/amt/) is no page content may link to.
    let pages_written: BTreeSet<String> = written
        .iter()
        .filter(|p| !p.starts_with("/amt/"))
        .filter_map(|p| p.strip_suffix("index.html").map(str::to_string))
        .collect();
    let mut known: BTreeSet<String> = addresses.pages.iter().cloned().collect();
    known.extend(addresses.aliases.iter().cloned());
    assert_eq!(known, pages_written);
    for file in &addresses.files {
        assert!(written.contains(file), "{file} is not written");
    }
}
