//! Performance and robustness budgets of the built example region (no browser): page and
//! asset sizes, no JavaScript needed to read or apply, a strict Content-Security-Policy.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lotse::build::{self, BuildOutcome};

mod common;
#[allow(dead_code)]
mod http;

const SERVICE_PAGE_MAX: u64 = 30 * 1024;
const STYLE_MAX: u64 = 15 * 1024;
const OWN_JS_MAX: u64 = 10 * 1024;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The example region, built once for all tests here.
fn dist() -> &'static Path {
    static DIST: OnceLock<PathBuf> = OnceLock::new();
    DIST.get_or_init(|| {
        // Under cargo's temporary folder for tests, replaced on every run.
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("budgets-dist");
        let _ = fs::remove_dir_all(&out);
        match build::build(
            &repo().join("content"),
            &repo().join("themes/default"),
            &out,
            false,
        )
        .expect("the example region builds")
        {
            BuildOutcome::Built(..) => out,
            BuildOutcome::Invalid(_) => panic!("the example region has content errors"),
        }
    })
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn html_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(dist(), "html", &mut out);
    assert!(out.len() > 100, "only {} HTML files built", out.len());
    out
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[test]
fn every_service_page_is_under_30_kb() {
    let (site, _) = build::check(&repo().join("content"));
    let site = site.expect("the example region resolves");
    let mut checked = 0;
    let mut over = Vec::new();
    let mut largest = (0, PathBuf::new());
    for portal in &site.portals {
        for service in &portal.services {
            let path = dist()
                .join(&portal.portal.slug)
                .join(&service.service.slug)
                .join("index.html");
            let size = fs::metadata(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .len();
            checked += 1;
            if size > largest.0 {
                largest = (size, path.clone());
            }
            if size > SERVICE_PAGE_MAX {
                over.push(format!("{}: {}", path.display(), kib(size)));
            }
        }
    }
    assert!(checked > 50, "only {checked} service pages");
    assert!(
        over.is_empty(),
        "service pages over 30 KB:\n{}",
        over.join("\n")
    );
    eprintln!(
        "{checked} service pages, largest {} ({})",
        kib(largest.0),
        largest.1.display()
    );
}

#[test]
fn the_stylesheet_is_under_15_kb() {
    let size = fs::metadata(dist().join("assets/style.css")).unwrap().len();
    assert!(size <= STYLE_MAX, "assets/style.css is {}", kib(size));
}

#[test]
fn own_javascript_is_under_10_kb_in_total() {
    let mut scripts = Vec::new();
    files(&dist().join("assets"), "js", &mut scripts);
    let total: u64 = scripts
        .iter()
        .filter(|p| !p.to_string_lossy().contains("pagefind"))
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert!(
        total <= OWN_JS_MAX,
        "own JavaScript under dist/assets is {} in total: {scripts:?}",
        kib(total)
    );
}

/// Every attribute value of `name` in the opening tags `tag` of `html`, `None` where absent.
fn attributes<'a>(html: &'a str, tag: &str, name: &str) -> Vec<(&'a str, Option<&'a str>)> {
    let open = format!("<{tag}");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        if !after.starts_with([' ', '>', '\n', '\t']) {
            rest = after;
            continue;
        }
        let end = after.find('>').unwrap_or(after.len());
        let tag_text = &rest[at..at + open.len() + end + 1];
        let needle = format!(" {name}=\"");
        let value = tag_text.find(&needle).map(|i| {
            let v = &tag_text[i + needle.len()..];
            &v[..v.find('"').unwrap_or(v.len())]
        });
        out.push((tag_text, value));
        rest = &after[end..];
    }
    out
}

/// What in one page would need JavaScript or break the strict CSP: forms without a
/// real action, inline scripts and event handlers, `javascript:` links.
fn javascript_problems(name: &str, html: &str) -> Vec<String> {
    const HANDLERS: [&str; 10] = [
        " onclick=",
        " onsubmit=",
        " onchange=",
        " oninput=",
        " onload=",
        " onkeydown=",
        " onkeyup=",
        " onfocus=",
        " onblur=",
        " onmouseover=",
    ];
    let mut problems = Vec::new();
    let lower = html.to_ascii_lowercase();
    for (tag, action) in attributes(html, "form", "action") {
        let get = tag.contains(" method=\"get\"");
        match action {
            Some(a) if !a.is_empty() && a != "#" && !a.starts_with("javascript:") => {}
            // A search form submitting to its own page (GET) still works without JS.
            Some("") if get => {}
            _ => problems.push(format!("{name}: form without a real action: {tag}")),
        }
        if !get && !tag.contains(" method=\"post\"") {
            problems.push(format!(
                "{name}: form with neither method=get nor post: {tag}"
            ));
        }
    }
    for (tag, kind) in attributes(html, "script", "type") {
        let external = tag.contains(" src=\"");
        if !external && kind != Some("application/ld+json") {
            problems.push(format!("{name}: inline script: {tag}"));
        }
    }
    for handler in HANDLERS {
        if lower.contains(handler) {
            problems.push(format!("{name}: inline event handler{handler}"));
        }
    }
    if lower.contains("javascript:") {
        problems.push(format!("{name}: javascript: URL"));
    }
    problems
}

#[test]
fn no_page_needs_javascript_to_read_or_apply() {
    let mut problems = Vec::new();
    for path in html_files() {
        let html = fs::read_to_string(&path).unwrap();
        let name = path.strip_prefix(dist()).unwrap().display().to_string();
        problems.extend(javascript_problems(&name, &html));
    }
    problems.truncate(30);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The pages the functions answer themselves (status form, receipt, errors, Mein
/// Postfach, a form sent back with its errors), from a running `lotse serve`.
#[test]
fn no_page_of_the_functions_needs_javascript() {
    let port = common::servers::free_port();
    let (_server, base) = common::servers::lotse_serve(port, &["--no-search"], &[], &["/"]);
    let client = http::Client::new(&base);
    let same_origin = [("sec-fetch-site", "same-origin"), ("accept", "text/html")];
    let pages = [
        ("GET /api/status", client.get("/api/status", &same_origin)),
        (
            "POST /api/status (unknown)",
            client.post_form("/api/status", &[("id", "AAAA-AAAA"), ("token", "falsch")]),
        ),
        (
            "GET /api/receipt (unknown)",
            client.get("/api/receipt?id=AAAA-AAAA&token=x", &same_origin),
        ),
        (
            "GET /api/postfach",
            client.get("/api/postfach", &same_origin),
        ),
        (
            "POST /api/applications (errors)",
            client.post_form(
                "/api/applications",
                &[("portal", "bottrop"), ("service", "fundsache-melden")],
            ),
        ),
    ];
    let mut problems = Vec::new();
    for (name, answer) in &pages {
        let html_type = answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"));
        assert!(
            html_type,
            "{name}: {} {:?}",
            answer.status,
            answer.header("content-type")
        );
        problems.extend(javascript_problems(name, &answer.body));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn headers_have_a_csp_without_unsafe_inline() {
    let headers = fs::read_to_string(dist().join("_headers")).expect("dist/_headers exists");
    let csp: Vec<&str> = headers
        .lines()
        .filter(|l| {
            l.trim_start()
                .to_ascii_lowercase()
                .starts_with("content-security-policy:")
        })
        .collect();
    assert!(
        !csp.is_empty(),
        "no Content-Security-Policy in _headers:\n{headers}"
    );
    for line in csp {
        assert!(!line.contains("'unsafe-inline'"), "{line}");
        assert!(!line.contains("'unsafe-eval'"), "{line}");
        assert!(
            line.contains("script-src") || line.contains("default-src"),
            "{line}"
        );
    }
}
