//! The browser test: `lotse serve` on the example region, driven by Chromium through
//! playwright-core (`tests/browser/e2e.mjs`): the apply path with and without JavaScript
//! and by keyboard only, and axe-core (WCAG 2.1 A/AA) plus reflow at 320 px and 200 %
//! zoom on every page type. Needs Node (>= 20) and Chromium (`apt-get install -y
//! chromium`, or CHROMIUM=/path); fails with a clear message if either is missing.
//! `npm ci` runs in tests/browser when its node_modules is missing. `lotse serve` builds
//! its search index in the background; the test waits for it (the search page is checked).
//!
//! The conversation on an application (`tests/browser/conversation.mjs`) runs on its own
//! `lotse serve`: JavaScript off, by keyboard, the office's side through the built `lotse
//! inbox reply` / `pull`, files both ways byte for byte, and axe-core and reflow on the
//! thread page in each state.
//!
//! Paying a fee (`tests/browser/payment.mjs`) runs on its own `lotse serve` whose payment
//! provider is the test provider (`tests/payment-provider`, through
//! `LOTSE_PAYMENT_BASE_URL`): with JavaScript on and off, by keyboard, the paid form to
//! the provider's page, cancelled, paid again from the receipt, and axe-core and reflow
//! on the service page and the receipt in each state.
//!
//! The tests take turns: two Chromiums and two servers at once are too much for a 2-core
//! machine.

mod common;

use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use common::payment::start_payment_provider;
use common::servers::{browser_tools, free_port, lotse_serve, repo};

/// The bearer token of every office on the conversation test's server.
const OFFICE_TOKEN: &str = "browser-conversation-office-token-0123456789";

/// One browser test at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn apply_path_and_accessibility_in_chromium() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
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

#[test]
fn conversation_without_javascript_in_chromium() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let chromium = browser_tools("the conversation browser test");
    let (_server, base) = lotse_serve(
        free_port(),
        &["--no-search"],
        &[("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)],
        &["/"],
    );
    let mut command = Command::new("node");
    command
        .arg(repo().join("tests/browser/conversation.mjs"))
        .arg(&base)
        .env("CHROMIUM", &chromium)
        .env("LOTSE_BIN", env!("CARGO_BIN_EXE_lotse"))
        .env("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)
        .current_dir(repo());
    if let Ok(shots) = std::env::var("LOTSE_SCREENSHOTS") {
        command.args(["--screenshots", &shots]);
    }
    let started = Instant::now();
    let status = command.status().expect("node runs");
    eprintln!(
        "conversation browser test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "tests/browser/conversation.mjs failed against {base} (exit {status}); see its output above"
    );
}

#[test]
fn payment_with_and_without_javascript_in_chromium() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let chromium = browser_tools("the payment browser test");
    let provider = start_payment_provider(&[]);
    let (_server, base) = lotse_serve(
        free_port(),
        &["--no-search"],
        &[
            ("LOTSE_PAYMENT_BASE_URL", provider.base.as_str()),
            // The schedule asks the provider while the citizen is on its page, too.
            ("LOTSE_PAYMENT_INTERVAL_MS", "200"),
            ("LOTSE_PAYMENT_RECHECK_MS", "200"),
        ],
        &["/"],
    );
    let mut command = Command::new("node");
    command
        .arg(repo().join("tests/browser/payment.mjs"))
        .arg(&base)
        .env("CHROMIUM", &chromium)
        .env("LOTSE_PAYMENT_BASE_URL", &provider.base)
        .current_dir(repo());
    if let Ok(shots) = std::env::var("LOTSE_SCREENSHOTS") {
        command.args(["--screenshots", &shots]);
    }
    let started = Instant::now();
    let status = command.status().expect("node runs");
    eprintln!(
        "payment browser test: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "tests/browser/payment.mjs failed against {base} with the provider at {} (exit {status}); see its output above",
        provider.base
    );
}
