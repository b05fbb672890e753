//! A generated region past the sitemaps.org limit of 50,000 URLs per file: one portal
//! alone has more pages than that. `sitemap.xml` must then be an index of per-portal
//! sitemaps, the big portal's split into numbered parts, every child under both limits
//! and every page listed exactly once. (Below the limits the single file is checked by
//! `build_output.rs`; the splitting rules by the unit tests of `render/sitemap.rs`.)

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::*;

const BASE: &str = "https://www.pruefregion.example";
/// sitemaps.org: at most 50,000 URLs and 50 MiB uncompressed per file.
const MAX_URLS: usize = 50_000;
const MAX_BYTES: usize = 52_428_800;
/// Local services of `stadt-a`: with its home, lists and topic pages it crosses the
/// URL limit alone.
const SERVICES: usize = 50_001;

const INDEX_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
const INDEX_TAIL: &str = "</sitemapindex>\n";
const URLSET_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
const URLSET_TAIL: &str = "</urlset>\n";

#[test]
fn a_region_past_50000_urls_gets_a_sitemap_index_of_portal_sitemaps() {
    let tmp = tempfile::Builder::new()
        .prefix("lotse-sitemap-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let content = tmp.path().join("content");
    minimal_region(&content);
    for i in 0..SERVICES {
        write(
            &content,
            &format!("portals/stadt-a/services/leistung-{i:05}.md"),
            format!(
                "+++\ntitle = \"Leistung {i:05}\"\nsummary = \"Eine von vielen.\"\ncategories = [\"umwelt\"]\n+++\n\nText {i}.\n"
            ),
        );
    }
    let out = tmp.path().join("dist");
    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .arg("build")
        .arg("--content")
        .arg(&content)
        .arg("--out")
        .arg(&out)
        .arg("--theme")
        .arg(theme_dir())
        .arg("--no-search")
        .output()
        .unwrap();
    eprintln!("built {SERVICES} services in {:?}", started.elapsed());
    assert!(
        run.status.success(),
        "lotse build failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );

    // The index: well-formed, and nothing but <sitemap> entries below the site root.
    let index = fs::read_to_string(out.join("sitemap.xml")).unwrap();
    let entries = index
        .strip_prefix(INDEX_HEAD)
        .and_then(|rest| rest.strip_suffix(INDEX_TAIL))
        .expect("sitemap.xml is a <sitemapindex>");
    let children: Vec<&str> = entries
        .lines()
        .map(|line| {
            line.strip_prefix("  <sitemap><loc>")
                .and_then(|l| l.strip_suffix("</loc></sitemap>"))
                .unwrap_or_else(|| panic!("not a sitemap entry: {line}"))
        })
        .collect();
    let child_paths: Vec<&str> = children
        .iter()
        .map(|loc| {
            loc.strip_prefix(BASE)
                .and_then(|p| p.strip_prefix('/'))
                .unwrap_or_else(|| panic!("{loc}: not below {BASE}/"))
        })
        .collect();
    assert!(
        child_paths.contains(&"sitemap-umbrella.xml"),
        "{child_paths:?}"
    );
    assert!(
        child_paths.contains(&"stadt-a/sitemap-1.xml"),
        "{child_paths:?}"
    );
    assert!(
        child_paths.contains(&"stadt-a/sitemap-2.xml"),
        "{child_paths:?}"
    );
    assert!(
        child_paths.contains(&"stadt-b/sitemap.xml"),
        "{child_paths:?}"
    );
    assert_eq!(
        child_paths.iter().collect::<BTreeSet<_>>().len(),
        child_paths.len(),
        "no child twice"
    );

    // Every child: a <urlset> under both limits; together they list every page once.
    let mut listed = Vec::new();
    for path in &child_paths {
        let xml = fs::read_to_string(out.join(path)).unwrap();
        assert!(xml.len() <= MAX_BYTES, "{path}: {} bytes", xml.len());
        let body = xml
            .strip_prefix(URLSET_HEAD)
            .and_then(|rest| rest.strip_suffix(URLSET_TAIL))
            .unwrap_or_else(|| panic!("{path} is not a <urlset>"));
        let before = listed.len();
        for line in body.lines() {
            let loc = line
                .strip_prefix("  <url><loc>")
                .and_then(|l| l.strip_suffix("</loc></url>"))
                .unwrap_or_else(|| panic!("{path}: not a url entry: {line}"));
            assert!(!loc.contains(['<', '>', '"']), "{path}: {loc}");
            listed.push(loc.to_string());
        }
        let count = listed.len() - before;
        assert!((1..=MAX_URLS).contains(&count), "{path}: {count} URLs");
        // A portal's sitemap lists only that portal's pages (sitemaps.org: a sitemap
        // covers its own folder and below).
        if let Some((portal, _)) = path.split_once('/') {
            let prefix = format!("{BASE}/{portal}/");
            assert!(
                listed[before..].iter().all(|u| u.starts_with(&prefix)),
                "{path}"
            );
        }
    }
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "no page listed twice");
    let mut pages = Vec::new();
    html_pages(&out, "", &mut pages);
    let expected: BTreeSet<String> = pages
        .iter()
        // The caseworkers' workspace is no page of the site (tests/workspace_output.rs).
        .filter(|p| *p != "404.html" && !p.starts_with("amt/"))
        .map(|p| format!("{BASE}/{}", p.strip_suffix("index.html").unwrap()))
        .collect();
    assert!(expected.len() > MAX_URLS, "{} pages", expected.len());
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every page exactly once"
    );

    // No stray sitemap file that the index does not name.
    let mut files = Vec::new();
    sitemap_files(&out, "", &mut files);
    let named: BTreeSet<&str> = child_paths.iter().copied().chain(["sitemap.xml"]).collect();
    assert_eq!(
        files.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        named
    );

    let robots = fs::read_to_string(out.join("robots.txt")).unwrap();
    assert!(robots.contains(&format!("Sitemap: {BASE}/sitemap.xml\n")));
}

/// Paths of the `.html` files below `dir`, relative to the output root.
fn html_pages(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            html_pages(&entry.path(), &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".html") {
            out.push(format!("{prefix}{name}"));
        }
    }
}

/// Paths of the files named `sitemap*.xml` in the output root and the portal folders.
fn sitemap_files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            if prefix.is_empty() {
                sitemap_files(&entry.path(), &format!("{name}/"), out);
            }
        } else if name.starts_with("sitemap") && name.ends_with(".xml") {
            out.push(format!("{prefix}{name}"));
        }
    }
}
