//! `lotse serve` re-renders only what an edit changed; these tests edit a copy of the
//! example region and check both the selection and the pages served afterwards.

use std::fs;
use std::path::{Path, PathBuf};

use lotse::build;
use lotse::render::{changes, Theme};
use lotse::serve::rebuild;

mod common;
use common::{copy_dir, edit};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    copy_dir(&repo().join("content"), &content);
    (dir, content)
}

fn portals_offering(content: &Path, slug: &str) -> usize {
    let (site, _) = build::check(content);
    site.unwrap()
        .portals
        .iter()
        .filter(|p| p.services.iter().any(|s| s.service.slug == slug))
        .count()
}

#[test]
fn a_body_edit_selects_only_that_service_in_each_portal() {
    let (_dir, content) = example_copy();
    let before = build::check(&content).0.unwrap();
    let file = content.join("services/hund-anmelden.md");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, format!("{text}\nEin neuer Absatz.\n")).unwrap();
    let after = build::check(&content).0.unwrap();

    let selection = changes(&before, &after);
    assert!(!selection.is_everything());
    assert!(!selection.umbrella);
    assert!(selection.portal_lists.is_empty());
    // Portals with their own body for this service (overrides) are not affected.
    let overridden_body = after
        .portals
        .iter()
        .filter(|p| p.services.iter().any(|s| s.service.slug == "hund-anmelden"))
        .filter(|p| {
            !selection
                .services
                .contains(&(p.portal.slug.clone(), "hund-anmelden".into()))
        })
        .count();
    assert_eq!(
        selection.services.len() + overridden_body,
        portals_offering(&content, "hund-anmelden")
    );
    assert!(selection
        .services
        .iter()
        .all(|(_, service)| service == "hund-anmelden"));
}

#[test]
fn a_title_edit_selects_the_lists_that_show_it() {
    let (_dir, content) = example_copy();
    let before = build::check(&content).0.unwrap();
    edit(
        &content.join("services/sperrmuell-anmelden.md"),
        "title = \"",
        "title = \"Neu: ",
    );
    let after = build::check(&content).0.unwrap();

    let selection = changes(&before, &after);
    assert!(!selection.is_everything());
    assert!(selection.umbrella);
    assert!(!selection.portal_lists.is_empty());
    assert!(!selection.umbrella_categories.is_empty());
    for categories in selection.portal_lists.values() {
        assert!(!categories.is_empty());
    }
}

#[test]
fn a_region_edit_selects_everything() {
    let (_dir, content) = example_copy();
    let before = build::check(&content).0.unwrap();
    edit(&content.join("region.toml"), "name = \"", "name = \"Neues ");
    let after = build::check(&content).0.unwrap();
    assert!(changes(&before, &after).is_everything());
}

#[test]
fn rebuild_serves_the_edit_and_drops_deleted_pages() {
    let (_dir, content) = example_copy();
    let theme = Theme::load(Some(&repo().join("themes/default"))).unwrap();
    let first = rebuild(&content, &theme, None).expect("example region builds");
    let page = |generation: &lotse::serve::Generation, path: &str| {
        generation
            .files
            .get(path)
            .map(|bytes| String::from_utf8(bytes.to_vec()).unwrap())
    };
    let before = page(&first, "bottrop/hund-anmelden/index.html").unwrap();
    assert!(!before.contains("Messmarke 4711"));

    let file = content.join("services/hund-anmelden.md");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, format!("{text}\nMessmarke 4711\n")).unwrap();
    let second = rebuild(&content, &theme, Some(&first)).unwrap();
    assert!(page(&second, "bottrop/hund-anmelden/index.html")
        .unwrap()
        .contains("Messmarke 4711"));
    // Unchanged pages are carried over as they were.
    assert_eq!(
        page(&first, "bottrop/a-z/index.html"),
        page(&second, "bottrop/a-z/index.html")
    );

    let local = content.join("portals/haltern-am-see/services");
    let removed = fs::read_dir(&local)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let slug = removed.file_stem().unwrap().to_string_lossy().into_owned();
    let path = format!("haltern-am-see/{slug}/index.html");
    assert!(page(&second, &path).is_some());
    fs::remove_file(&removed).unwrap();
    let third = rebuild(&content, &theme, Some(&second)).unwrap();
    assert!(page(&third, &path).is_none(), "{path} should be gone");

    // Broken content keeps nothing new: rebuild reports and returns None.
    fs::write(content.join("services/kaputt.md"), "+++\ntitle = \n+++\n").unwrap();
    assert!(rebuild(&content, &theme, Some(&third)).is_none());
}

/// BITV 2.0 § 4: every start page links to Leichte Sprache and Gebärdensprache; the
/// pages exist (generated defaults where the content has none).
#[test]
fn every_start_page_links_easy_language_and_sign_language() {
    let out = tempfile::tempdir().unwrap();
    let dist = out.path().join("dist");
    let outcome = build::build(
        &repo().join("content"),
        &repo().join("themes/default"),
        &dist,
        false,
    )
    .unwrap();
    assert!(matches!(outcome, build::BuildOutcome::Built(..)));
    let mut homes = vec![(String::new(), dist.join("index.html"))];
    for entry in fs::read_dir(repo().join("content/portals")).unwrap() {
        let slug = entry.unwrap().file_name().to_string_lossy().into_owned();
        homes.push((format!("{slug}/"), dist.join(&slug).join("index.html")));
    }
    for (prefix, home) in homes {
        let html = fs::read_to_string(&home).unwrap();
        for page in ["leichte-sprache", "gebaerdensprache"] {
            assert!(
                html.contains(&format!("href=\"/{prefix}{page}/\"")),
                "{} links {page}",
                home.display()
            );
            assert!(
                dist.join(&prefix).join(page).join("index.html").is_file(),
                "/{prefix}{page}/ exists"
            );
        }
    }
}
