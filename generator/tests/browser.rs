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

use std::sync::Mutex;

use common::browser::run_browser_script;
use common::payment::start_payment_provider;
use common::servers::{browser_tools, free_port, lotse_serve};

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
    run_browser_script("browser test", "e2e.mjs", &base, &chromium, &[], &base);
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
    run_browser_script(
        "conversation browser test",
        "conversation.mjs",
        &base,
        &chromium,
        &[
            ("LOTSE_BIN", env!("CARGO_BIN_EXE_lotse")),
            ("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN),
        ],
        &base,
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
    run_browser_script(
        "payment browser test",
        "payment.mjs",
        &base,
        &chromium,
        &[("LOTSE_PAYMENT_BASE_URL", provider.base.as_str())],
        &format!("{base} with the provider at {}", provider.base),
    );
}
