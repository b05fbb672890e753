//! What the browser tests share: Node and Chromium (with a clear message when either is
//! missing), `npm ci` where node_modules is missing, and `lotse serve` on a free port
//! that is stopped when the test ends, however it ends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Checks for Node >= 20 and Chromium (`CHROMIUM`, default /usr/bin/chromium), installs
/// `tests/browser`'s packages when missing, and returns Chromium's path. `test` names
/// the test in the messages.
pub fn browser_tools(test: &str) -> String {
    let version = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| {
            panic!("{test} needs Node.js >= 20 on PATH (Debian: apt-get install -y nodejs npm)")
        });
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(major >= 20, "{test} needs Node.js >= 20, found {version}");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{test} needs Chromium at {chromium}: apt-get install -y chromium, or set CHROMIUM"
    );
    let dir = repo().join("tests/browser");
    npm_ci_unless(&dir, "node_modules/playwright-core/package.json");
    npm_ci_unless(&dir, "node_modules/axe-core/axe.min.js");
    chromium
}

/// Runs `npm ci` in `dir` unless `probe` (a path below it) exists.
pub fn npm_ci_unless(dir: &Path, probe: &str) {
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

/// A child process that is ended when the test ends, with the folder it keeps data in.
pub struct Running {
    pub child: Child,
    pub data: Option<tempfile::TempDir>,
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

/// Whether the server on `port` answers `path` with 200.
pub fn answers(port: u16, path: &str) -> bool {
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

/// `lotse serve` on the example region on `port`, with a fresh data folder, the extra
/// command-line `args` and environment `env`; returns once every path of `ready`
/// answers 200 (within 90 s). The base URL comes with it.
pub fn lotse_serve(
    port: u16,
    args: &[&str],
    env: &[(&str, &str)],
    ready: &[&str],
) -> (Running, String) {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lotse"));
    command
        .current_dir(repo())
        .args(["serve", "--content", "content", "--port", &port.to_string()])
        .args(args)
        .arg("--data")
        .arg(data.path())
        .env("LOTSE_OFFICE_TOKEN", "browser-office-token-0123456789")
        .env("LOTSE_RATE_LIMIT", "1000")
        .env_remove("LOTSE_OIDC_CLIENT_SECRET")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut running = Running {
        child: command.spawn().expect("lotse serve starts"),
        data: Some(data),
    };
    let started = Instant::now();
    for path in ready {
        while !answers(port, path) {
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!("lotse serve exited early: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "lotse serve did not answer {path} within 90 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    (running, format!("http://127.0.0.1:{port}"))
}
