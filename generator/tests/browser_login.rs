//! The login path in Chromium (`tests/browser/login.mjs`): `lotse serve` on the example
//! region with its login going to the test OpenID provider (`tests/oidc-provider`, the
//! certified `oidc-provider` package) on loopback. BundID login at the level a service
//! needs -> apply -> "Mein Postfach" -> logout, a level that is too low, and axe-core
//! (WCAG 2.1 A/AA) on the logged-in pages. Needs Node (>= 20) and Chromium (`apt-get
//! install -y chromium`, or CHROMIUM=/path); fails with a clear message if either is
//! missing. `npm ci` runs in tests/browser and tests/oidc-provider when their
//! node_modules are missing.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::browser::{browser_tools, free_port, lotse_serve, npm_ci_unless, repo, Running};

const CLIENT_ID: &str = "lotse-emscher-lippe";
const CLIENT_SECRET: &str = "browser-login-client-secret-0123456789";
/// Two 32-byte keys, base64: current and previous.
const SESSION_SECRET: &str =
    "YnJvd3Nlci1sb2dpbi1zZXNzaW9uLWtleS0wMTIzNDU=,YnJvd3Nlci1sb2dpbi1wcmV2aW91cy1rZXktMDEyMzQ=";

/// The test OpenID provider for a site whose callback is `redirect_uri`; returns it and
/// its issuer. It logs the fixed citizen in at the level asked for.
fn start_provider(redirect_uri: &str) -> (Running, String) {
    let dir = repo().join("tests/oidc-provider");
    npm_ci_unless(&dir, "node_modules/oidc-provider/package.json");
    let mut child = Command::new("node")
        .args(["server.mjs", "0"])
        .current_dir(&dir)
        .env("CLIENT_ID", CLIENT_ID)
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .env("REDIRECT_URI", redirect_uri)
        .env_remove("FORCE_ACR")
        // A pipe on stdin: the provider leaves when this process is gone.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts the OpenID provider");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(issuer) = line.strip_prefix("listening ") {
                let _ = tx.send(issuer.trim().to_string());
                break;
            }
        }
        for _ in lines {}
    });
    let running = Running { child, data: None };
    let issuer = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the OpenID provider reports `listening <issuer>` within 60 s");
    (running, issuer)
}

#[test]
fn login_apply_and_mailbox_in_chromium() {
    let chromium = browser_tools("the browser login test");
    let browser_dir = repo().join("tests/browser");

    let started = Instant::now();
    let port = free_port();
    // The provider first: `lotse serve` reads its metadata at the first login.
    let (_provider, issuer) = start_provider(&format!("http://127.0.0.1:{port}/api/callback"));
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

    let running = Instant::now();
    let status = Command::new("node")
        .arg(browser_dir.join("login.mjs"))
        .arg(&base)
        .env("CHROMIUM", &chromium)
        .current_dir(repo())
        .status()
        .expect("node runs");
    eprintln!(
        "browser login test: {:.1} s",
        running.elapsed().as_secs_f64()
    );
    assert!(
        status.success(),
        "tests/browser/login.mjs failed against {base} with the provider at {issuer} ({status}); see its output above"
    );
}
