//! The search index (issue 6, docs/search.md): `lotse build` of the example region
//! writes a Pagefind index, which `tests/browser/search.mjs` queries in headless
//! Chromium through the real search page and search.js: keyword synonyms, umlaut
//! spellings, portal isolation, the umbrella's portal filter, accessibility basics, and
//! the bytes one query loads. Needs Node (>= 20) and Chromium (`apt-get install -y
//! chromium`, or CHROMIUM=/path); fails with a clear message if either is missing.
//! `npm ci` runs in tests/browser when its node_modules lacks playwright-core.
//!
//! The figures for the 18,200-page corpus come from `bench/search.sh`, not from here.

mod common;

use std::process::Command;

use common::servers::{browser_tools, repo};

#[test]
fn example_region_index_is_written_and_searchable_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    // The binary, as an operator runs it (main() also tunes Pagefind's chunk size).
    let build = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .args(["build", "--content", "content", "--out"])
        .arg(&out)
        .output()
        .expect("lotse runs");
    let summary = String::from_utf8_lossy(&build.stderr);
    assert!(build.status.success(), "lotse build failed:\n{summary}");
    eprintln!("{summary}");
    assert!(summary.contains("search index: "), "{summary}");
    assert!(out.join("pagefind/pagefind.js").exists());
    for portal in ["bottrop", "gelsenkirchen", "kreis-recklinghausen"] {
        assert!(
            out.join(portal)
                .join("pagefind/pagefind-entry.json")
                .exists(),
            "no index for {portal}"
        );
    }
    let indexes = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("pagefind/pagefind-entry.json").exists())
        .count();
    assert_eq!(indexes, 13, "one index per portal");
    assert!(out.join("pagefind/pagefind-entry.json").exists());
    assert!(out.join("assets/search.js").exists());
    assert!(
        !out.join("pagefind/pagefind-ui.js").exists(),
        "the ready-made UI is not shipped"
    );

    let chromium = browser_tools("the search test");
    let dir = repo().join("tests/browser");
    let status = Command::new("node")
        .arg("search.mjs")
        .arg(&out)
        .current_dir(&dir)
        .env("CHROMIUM", &chromium)
        .status()
        .expect("node runs");
    assert!(
        status.success(),
        "tests/browser/search.mjs failed (its output is above)"
    );
}
