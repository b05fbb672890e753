//! The login path in Chromium (`tests/browser/login.mjs`): `lotse serve` on the example
//! region with its login going to the test OpenID provider (`tests/oidc-provider`, the
//! certified `oidc-provider` package) on loopback. BundID login at the level a service
//! needs -> apply -> "Mein Postfach" -> logout, a level that is too low, and axe-core
//! (WCAG 2.1 A/AA) on the logged-in pages. Needs Node (>= 20) and Chromium (`apt-get
//! install -y chromium`, or CHROMIUM=/path); fails with a clear message if either is
//! missing. `npm ci` runs in tests/browser and tests/oidc-provider when their
//! node_modules are missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "lotse-emscher-lippe";
const CLIENT_SECRET: &str = "browser-login-client-secret-0123456789";
/// Two 32-byte keys, base64: current and previous.
const SESSION_SECRET: &str =
    "YnJvd3Nlci1sb2dpbi1zZXNzaW9uLWtleS0wMTIzNDU=,YnJvd3Nlci1sb2dpbi1wcmV2aW91cy1rZXktMDEyMzQ=";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `npm ci` in `dir` unless `probe` (a path below it) exists.
fn npm_ci_unless(dir: &Path, probe: &str) {
    if dir.join(probe).exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir)
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci in {} failed", dir.display());
}

/// A child process that is ended when the test ends, however it ends.
struct Running {
    child: Child,
    _data: Option<tempfile::TempDir>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    let running = Running { child, _data: None };
    let issuer = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the OpenID provider reports `listening <issuer>` within 60 s");
    (running, issuer)
}

/// Whether `lotse serve` answers `path` with 200.
fn answers(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}

/// `lotse serve` on `port` with login through `issuer`, a fresh data folder and no
/// search index.
fn lotse_serve(port: u16, issuer: &str) -> (Running, String) {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .args([
            "serve",
            "--no-search",
            "--content",
            "content",
            "--port",
            &port.to_string(),
            "--data",
        ])
        .arg(data.path())
        .env("LOTSE_OFFICE_TOKEN", "browser-office-token-0123456789")
        .env("LOTSE_RATE_LIMIT", "1000")
        .env("LOTSE_OIDC_ISSUER", issuer)
        .env("LOTSE_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .env("LOTSE_SESSION_SECRET", SESSION_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lotse serve starts");
    let started = Instant::now();
    while !answers(port, "/") {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("lotse serve exited early: {status}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "lotse serve did not answer / within 90 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let running = Running {
        child,
        _data: Some(data),
    };
    (running, format!("http://127.0.0.1:{port}"))
}

fn node_version() -> Option<String> {
    let out = Command::new("node").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn login_apply_and_mailbox_in_chromium() {
    let Some(version) = node_version() else {
        panic!(
            "the browser login test needs Node.js >= 20 on PATH (Debian: apt-get install -y nodejs npm)"
        );
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "the browser login test needs Node.js >= 20, found {version}"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the browser login test needs Chromium at {chromium}: apt-get install -y chromium, or set CHROMIUM"
    );
    let browser_dir = repo().join("tests/browser");
    npm_ci_unless(&browser_dir, "node_modules/playwright-core/package.json");
    npm_ci_unless(&browser_dir, "node_modules/axe-core/axe.min.js");

    let started = Instant::now();
    let port = free_port();
    // The provider first: `lotse serve` reads its metadata at the first login.
    let (_provider, issuer) = start_provider(&format!("http://127.0.0.1:{port}/api/callback"));
    let (_server, base) = lotse_serve(port, &issuer);
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
