//! The browser test: `lotse serve` on the example region, driven by Chromium through
//! playwright-core (`tests/browser/e2e.mjs`): the apply path with and without JavaScript
//! and by keyboard only, and axe-core (WCAG 2.1 A/AA) plus reflow at 320 px and 200 %
//! zoom on every page type. Needs Node (>= 20) and Chromium (`apt-get install -y
//! chromium`, or CHROMIUM=/path); fails with a clear message if either is missing.
//! `npm ci` runs in tests/browser when its node_modules is missing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Server {
    child: Child,
    _data: tempfile::TempDir,
}

impl Drop for Server {
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

fn lotse_serve() -> (Server, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .args([
            "serve",
            "--content",
            "content",
            "--port",
            &port.to_string(),
            "--data",
        ])
        .arg(data.path())
        .env("LOTSE_OFFICE_TOKEN", "browser-office-token-0123456789")
        .env("LOTSE_RATE_LIMIT", "1000")
        .env_remove("LOTSE_OIDC_CLIENT_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lotse serve starts");
    let started = Instant::now();
    // `lotse serve` builds the search index in the background after the first render;
    // the search page is among the pages checked, so wait for the index as well.
    for path in ["/", "/pagefind/pagefind-entry.json"] {
        while !answers(port, path) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("lotse serve exited early: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "lotse serve did not answer {path} within 90 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let server = Server { child, _data: data };
    (server, format!("http://127.0.0.1:{port}"))
}

fn node_version() -> Option<String> {
    let out = Command::new("node").arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn apply_path_and_accessibility_in_chromium() {
    let dir = repo().join("tests/browser");
    let Some(version) = node_version() else {
        panic!(
            "the browser test needs Node.js >= 20 on PATH (Debian: apt-get install -y nodejs npm)"
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
        "the browser test needs Node.js >= 20, found {version}"
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the browser test needs Chromium at {chromium}: apt-get install -y chromium, or set CHROMIUM"
    );
    if !dir.join("node_modules/playwright-core").exists()
        || !dir.join("node_modules/axe-core").exists()
    {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci in tests/browser failed");
    }

    let (_server, base) = lotse_serve();
    let mut command = Command::new("node");
    command
        .arg(dir.join("e2e.mjs"))
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
