//! The caseworkers' workspace in the build output (docs/workspace.md): its five pages
//! from the theme, `amt/dienststellen.json` with every office and its public key, the
//! scripts and styles next to the pages, `forms/_office_login.json` exactly when
//! region.toml has `[office_login]`, and nothing of it in the citizen-facing files
//! (sitemap, robots.txt, indexable pages).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use lotse::build::{self, BuildOutcome};
use serde_json::{json, Value};

const PAGES: [&str; 5] = [
    "amt/index.html",
    "amt/vorgang/index.html",
    "amt/druck/index.html",
    "amt/protokoll/index.html",
    "amt/schluessel/index.html",
];

fn build_into(content: &Path, out: &Path) {
    let options = build::BuildOptions {
        progress: false,
        search: false,
    };
    match build::build_with(content, &theme_dir(), out, options).expect("the region builds") {
        BuildOutcome::Built(..) => {}
        BuildOutcome::Invalid(d) => panic!("{}", lines(&d).join("\n")),
    }
}

/// The fixture as it is (no `[office_login]`), built once.
fn fixture_dist() -> &'static Path {
    static DIST: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, out) = DIST.get_or_init(|| {
        let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let out = tmp.path().join("dist");
        build_into(&fixture_dir(), &out);
        (tmp, out)
    });
    out
}

/// The fixture with `[office_login]` (and no claim name: the default) in region.toml.
fn with_login_dist() -> &'static Path {
    static DIST: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, out) = DIST.get_or_init(|| {
        let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let content = tmp.path().join("content");
        copy_dir(&fixture_dir(), &content);
        let region = content.join("region.toml");
        let mut text = fs::read_to_string(&region).unwrap();
        text.push_str(
            "\n[office_login]\nissuer = \"https://login.testregion.example/realms/rathaus\"\nclient_id = \"lotse-arbeitsplatz\"\n",
        );
        fs::write(&region, text).unwrap();
        let out = tmp.path().join("dist");
        build_into(&content, &out);
        (tmp, out)
    });
    out
}

fn read(dist: &Path, rel: &str) -> String {
    fs::read_to_string(dist.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json_of(dist: &Path, rel: &str) -> Value {
    serde_json::from_str(&read(dist, rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn the_workspace_pages_scripts_and_styles_are_written() {
    let dist = fixture_dist();
    for page in PAGES {
        let html = read(dist, page);
        assert!(html.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(html.contains("<html lang=\"de\">"), "{page}");
        assert!(
            html.contains("<meta name=\"robots\" content=\"noindex, nofollow\">"),
            "{page}"
        );
        assert!(
            html.contains("<noscript>") && html.contains("Der Arbeitsplatz braucht JavaScript."),
            "{page}"
        );
        assert!(html.contains("href=\"#inhalt\""), "{page}: skip link");
        assert!(html.contains("<main id=\"inhalt\""), "{page}");
        assert_eq!(html.matches("<h1").count(), 1, "{page}: one h1");
        assert!(html.contains("role=\"status\""), "{page}: a live region");
        // Only the workspace's own module; no inline script or style.
        let scripts: Vec<&str> = html.split("<script").skip(1).collect();
        assert_eq!(scripts.len(), 1, "{page}");
        assert!(
            scripts[0].starts_with(" type=\"module\" src=\"/amt/"),
            "{page}: {}",
            &scripts[0][..60.min(scripts[0].len())]
        );
        assert!(!html.contains("<style"), "{page}");
        assert!(!html.contains(" style="), "{page}");
        assert!(!html.contains(" onclick="), "{page}");
    }
    let module = |page: &str| {
        let html = read(dist, page);
        let at = html.find("<script type=\"module\" src=\"").unwrap() + 27;
        let src = &html[at..];
        src[..src.find('"').unwrap()]
            .split('?')
            .next()
            .unwrap()
            .to_string()
    };
    for (page, script) in [
        ("amt/index.html", "/amt/posteingang.js"),
        ("amt/vorgang/index.html", "/amt/vorgang.js"),
        ("amt/druck/index.html", "/amt/druck.js"),
        ("amt/protokoll/index.html", "/amt/protokoll.js"),
        ("amt/schluessel/index.html", "/amt/schluessel.js"),
    ] {
        assert_eq!(module(page), script);
    }
    // Every module and the styles the pages load exist, next to the pages, and every
    // relative import of a module names a file that exists.
    let theme = theme_dir().join("static/amt");
    for entry in fs::read_dir(&theme).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".js") || name.ends_with(".css") {
            assert_eq!(
                fs::read(dist.join("amt").join(&name)).unwrap(),
                fs::read(theme.join(&name)).unwrap(),
                "amt/{name}"
            );
        }
        if name.ends_with(".js") {
            let text = fs::read_to_string(theme.join(&name)).unwrap();
            for import in text
                .split("from './")
                .skip(1)
                .chain(text.split("import('./").skip(1))
            {
                let target = &import[..import.find('\'').unwrap()];
                assert!(
                    dist.join("amt").join(target).is_file(),
                    "{name} imports ./{target}"
                );
            }
        }
    }
    assert!(dist.join("amt/amt.css").is_file());
    // The workspace's files are not among the citizen-facing assets.
    assert!(!dist.join("assets/amt").exists());
    assert!(dist.join("assets/style.css").is_file());
}

#[test]
fn the_workspace_is_in_no_citizen_facing_file() {
    let dist = fixture_dist();
    let sitemap = read(dist, "sitemap.xml");
    assert!(!sitemap.contains("/amt/"), "{sitemap}");
    let robots = read(dist, "robots.txt");
    assert!(
        robots.contains("Disallow: /api/\nDisallow: /amt/\n"),
        "{robots}"
    );
    for page in ["index.html", "musterstadt/index.html", "404.html"] {
        assert!(
            !read(dist, page).contains("/amt/"),
            "{page} links the workspace"
        );
    }
}

#[test]
fn dienststellen_json_lists_every_office_with_its_public_key() {
    let dist = fixture_dist();
    let listed = json_of(dist, "amt/dienststellen.json");
    let offices = listed["offices"].as_array().expect("offices");
    let (site, _) = build::check(&fixture_dir());
    let site = site.expect("the fixture resolves");
    let expected: Vec<(String, Option<String>)> = site
        .portals
        .iter()
        .flat_map(|ps| {
            ps.portal
                .offices
                .iter()
                .map(|o| (format!("{}/{}", ps.portal.slug, o.id), o.public_key.clone()))
        })
        .collect();
    assert!(expected.len() >= 3, "{expected:?}");
    let got: Vec<(String, Option<String>)> = offices
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_string(),
                o["public_key"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(got, expected);
    for o in offices {
        let id = o["id"].as_str().unwrap();
        assert_eq!(
            id,
            format!(
                "{}/{}",
                o["portal"].as_str().unwrap(),
                o["office"].as_str().unwrap()
            )
        );
        let ps = site
            .portals
            .iter()
            .find(|ps| ps.portal.slug == o["portal"])
            .unwrap();
        assert_eq!(o["portal_name"], ps.portal.name.as_str(), "{id}");
        let office = ps.portal.office(o["office"].as_str().unwrap()).unwrap();
        assert_eq!(o["name"], office.name.as_str(), "{id}");
        // Each service it lists has its form schema with this office.
        for s in o["services"].as_array().unwrap() {
            let schema = json_of(
                dist,
                &format!(
                    "forms/{}/{}.json",
                    o["portal"].as_str().unwrap(),
                    s["slug"].as_str().unwrap()
                ),
            );
            assert_eq!(schema["office"], o["office"], "{id}: {s}");
            assert_eq!(schema["title"], s["title"], "{id}: {s}");
            assert_eq!(schema["public_key"], o["public_key"], "{id}: {s}");
        }
    }
    // Every form schema's office lists that service.
    let mut schemas = 0;
    for ps in &site.portals {
        let dir = dist.join("forms").join(&ps.portal.slug);
        for entry in fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with('_') {
                continue;
            }
            let schema = json_of(dist, &format!("forms/{}/{name}", ps.portal.slug));
            let id = format!("{}/{}", ps.portal.slug, schema["office"].as_str().unwrap());
            let office = offices.iter().find(|o| o["id"] == id.as_str()).unwrap();
            assert!(
                office["services"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["slug"] == schema["service"]),
                "{id} does not list {name}"
            );
            schemas += 1;
        }
    }
    assert!(schemas > 3);
}

#[test]
fn office_login_json_is_written_only_with_office_login() {
    assert!(!fixture_dist().join("forms/_office_login.json").exists());
    let config = json_of(with_login_dist(), "forms/_office_login.json");
    assert_eq!(
        config,
        json!({
            "issuer": "https://login.testregion.example/realms/rathaus",
            "client_id": "lotse-arbeitsplatz",
            "offices_claim": "lotse_offices",
        })
    );
    // The rest of the output does not change with it.
    for rel in [
        "index.html",
        "amt/index.html",
        "amt/dienststellen.json",
        "robots.txt",
    ] {
        assert_eq!(
            read(fixture_dist(), rel),
            read(with_login_dist(), rel),
            "{rel}"
        );
    }
}

#[test]
fn the_example_region_has_the_workspace_with_its_staff_login() {
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out = tmp.path().join("dist");
    build_into(&fixture_dir().join("../../../content"), &out);
    let config = json_of(&out, "forms/_office_login.json");
    assert_eq!(config["client_id"], "lotse-arbeitsplatz");
    assert_eq!(config["offices_claim"], "lotse_offices");
    let offices = json_of(&out, "amt/dienststellen.json");
    let bottrop = offices["offices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "bottrop/buergerbuero")
        .expect("Bottrop's Bürgerbüro");
    assert_eq!(bottrop["name"], "Bürgerbüro im Rathaus");
    assert_eq!(bottrop["portal_name"], "Stadt Bottrop");
    assert_eq!(
        bottrop["public_key"],
        "8R/uBR3oSQSr48CV6+rrDJTXLDydHBm+YbWpL5YOWjc="
    );
    // The example's demo key files match the published public keys
    // (examples/office-keys/<portal>/<office>.key), which the browser test imports.
    let keys = fixture_dir().join("../../../examples/office-keys");
    for o in offices["offices"].as_array().unwrap() {
        let file = keys
            .join(o["portal"].as_str().unwrap())
            .join(format!("{}.key", o["office"].as_str().unwrap()));
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let private = lotse_envelope::PrivateKey::from_key_file(&text).unwrap();
        assert_eq!(
            private.public_key().to_base64(),
            o["public_key"].as_str().unwrap(),
            "{}",
            file.display()
        );
    }
}
