//! The caseworkers' workspace in Chromium (`tests/browser/workspace.mjs`, docs/workspace.md):
//! `lotse serve` on the example region with the staff login going to the test OpenID
//! provider (tests/oidc-provider, its workspace client and staff accounts) on loopback.
//! Two caseworkers log in by `login_hint`, import their office's key file, open,
//! decrypt and answer applications, export and print them, read the audit log and log
//! out; every request of the browser is recorded and must not carry the key; axe-core
//! (WCAG 2.1 A/AA) and reflow at 320 px on every workspace page. Needs Node (>= 20) and
//! Chromium (`apt-get install -y chromium`, or CHROMIUM=/path); fails with a clear message
//! if either is missing. `npm ci` runs in tests/browser and tests/oidc-provider when
//! their node_modules are missing.

mod common;

use std::time::Instant;

use common::browser::run_browser_script;
use common::servers::{
    browser_tools, free_port, lotse_serve, start_provider_with_staff, StaffClient,
};

const CLIENT_ID: &str = "lotse-emscher-lippe";
const CLIENT_SECRET: &str = "browser-workspace-citizen-secret-0123456789";
/// The workspace's client; `[office_login] client_id` in content/region.toml.
const STAFF_CLIENT_ID: &str = "lotse-arbeitsplatz";
const STAFF_CLIENT_SECRET: &str = "browser-workspace-staff-secret-0123456789";
/// Two 32-byte keys, base64: current and previous.
const STAFF_SESSION_SECRET: &str =
    "YnJvd3Nlci13b3Jrc3BhY2Utc3RhZmYta2V5LTAxMjM=,YnJvd3Nlci13b3Jrc3BhY2UtcHJldmlvdXMta2V5LTA=";
/// The bearer token of every office on this server (the test checks the API with it).
const OFFICE_TOKEN: &str = "browser-workspace-office-token-0123456789";

#[test]
fn workspace_in_chromium() {
    let chromium = browser_tools("the workspace browser test");
    let started = Instant::now();
    let port = free_port();
    let staff_callback = format!("http://127.0.0.1:{port}/api/amt/callback");
    let provider = start_provider_with_staff(
        CLIENT_ID,
        CLIENT_SECRET,
        &format!("http://127.0.0.1:{port}/api/callback"),
        None,
        Some(&StaffClient {
            client_id: STAFF_CLIENT_ID,
            client_secret: STAFF_CLIENT_SECRET,
            redirect_uri: &staff_callback,
        }),
    );
    let issuer = provider.issuer.clone();
    let (_server, base) = lotse_serve(
        port,
        &["--no-search"],
        &[
            ("LOTSE_OFFICE_OIDC_ISSUER", issuer.as_str()),
            ("LOTSE_OFFICE_OIDC_CLIENT_SECRET", STAFF_CLIENT_SECRET),
            ("LOTSE_STAFF_SESSION_SECRET", STAFF_SESSION_SECRET),
            ("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN),
        ],
        &["/amt/"],
    );
    eprintln!(
        "provider {issuer}, lotse serve {base}: up in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    run_browser_script(
        "workspace browser test",
        "workspace.mjs",
        &base,
        &chromium,
        &[("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)],
        &format!("{base} with the provider at {issuer}"),
    );
}
