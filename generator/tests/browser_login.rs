//! The login path in Chromium (`tests/browser/login.mjs`): `lotse serve` on the example
//! region with its login going to the test OpenID provider (`tests/oidc-provider`, the
//! certified `oidc-provider` package) on loopback. BundID login at the level a service
//! needs -> apply -> "Mein Postfach" -> logout, a level that is too low, and axe-core
//! (WCAG 2.1 A/AA) on the logged-in pages. Needs Node (>= 20) and Chromium (`apt-get
//! install -y chromium`, or CHROMIUM=/path); fails with a clear message if either is
//! missing. `npm ci` runs in tests/browser and tests/oidc-provider when their
//! node_modules are missing.

mod common;

use std::time::Instant;

use common::browser::run_browser_script;
use common::servers::{browser_tools, free_port, lotse_serve, start_provider};

const CLIENT_ID: &str = "lotse-emscher-lippe";
const CLIENT_SECRET: &str = "browser-login-client-secret-0123456789";
/// Two 32-byte keys, base64: current and previous.
const SESSION_SECRET: &str =
    "YnJvd3Nlci1sb2dpbi1zZXNzaW9uLWtleS0wMTIzNDU=,YnJvd3Nlci1sb2dpbi1wcmV2aW91cy1rZXktMDEyMzQ=";

#[test]
fn login_apply_and_mailbox_in_chromium() {
    let chromium = browser_tools("the browser login test");

    let started = Instant::now();
    let port = free_port();
    // The provider first: `lotse serve` reads its metadata at the first login.
    let provider = start_provider(
        CLIENT_ID,
        CLIENT_SECRET,
        &format!("http://127.0.0.1:{port}/api/callback"),
        None,
    );
    let issuer = provider.issuer.clone();
    let (_server, base) = lotse_serve(
        port,
        &["--no-search"],
        &[
            ("LOTSE_OIDC_ISSUER", issuer.as_str()),
            ("LOTSE_OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("LOTSE_SESSION_SECRET", SESSION_SECRET),
        ],
        &["/"],
    );
    eprintln!(
        "provider {issuer}, lotse serve {base}: up in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    run_browser_script(
        "browser login test",
        "login.mjs",
        &base,
        &chromium,
        &[],
        &format!("{base} with the provider at {issuer}"),
    );
}
