//! The search index (issue 6, docs/search.md): `lotse build` of the example region
//! writes a Pagefind index, which `tests/browser/search.mjs` queries in headless
//! Chromium through the real search page and search.js: keyword synonyms, umlaut
//! spellings, portal isolation, the umbrella's portal filter, accessibility basics, and
//! the bytes one query loads. Needs Node (>= 20) and Chromium (`apt-get install -y
//! chromium`, or CHROMIUM=/path); fails with a clear message if either is missing.
//! `npm ci` runs in tests/browser when its node_modules lacks playwright-core.
//!
//! The figures for the 18,200-page corpus come from `bench/search.sh`, not from here.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

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

    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| {
            panic!("the search test needs Node.js >= 20 on PATH (Debian: apt-get install -y nodejs npm)")
        });
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "the search test needs Node.js >= 20, found {version}"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the search test needs Chromium at {chromium}: apt-get install -y chromium, or set CHROMIUM"
    );
    let dir = repo().join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci in tests/browser failed");
    }
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
