//! The browser test: `lotse serve` on the example region, driven by Chromium through
//! playwright-core (`tests/browser/e2e.mjs`): the apply path with and without JavaScript
//! and by keyboard only, and axe-core (WCAG 2.1 A/AA) plus reflow at 320 px and 200 %
//! zoom on every page type. Needs Node (>= 20) and Chromium (`apt-get install -y
//! chromium`, or CHROMIUM=/path); fails with a clear message if either is missing.
//! `npm ci` runs in tests/browser when its node_modules is missing. `lotse serve` builds
//! its search index in the background; the test waits for it (the search page is checked).

mod common;

use std::process::Command;
use std::time::Instant;

use common::servers::{browser_tools, free_port, lotse_serve, repo};

#[test]
fn apply_path_and_accessibility_in_chromium() {
    let chromium = browser_tools("the browser test");
    let (_server, base) = lotse_serve(
        free_port(),
        &[],
        &[],
        &["/", "/pagefind/pagefind-entry.json"],
    );
    let mut command = Command::new("node");
    command
        .arg(repo().join("tests/browser/e2e.mjs"))
        .arg(&base)
        .env("CHROMIUM", &chromium)
        .current_dir(repo());
    if let Ok(shots) = std::env::var("LOTSE_SCREENSHOTS") {
        command.args(["--screenshots", &shots]);
    }
    let started = Instant::now();
    let status = command.status().expect("node runs");
    eprintln!("browser test: {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        status.success(),
        "tests/browser/e2e.mjs failed against {base} (exit {status}); see its output above"
    );
}
