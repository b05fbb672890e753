//! What the browser tests and the HTTP suite share: Node and Chromium (with a clear
//! message when either is missing), `npm ci` where node_modules is missing, the test
//! OpenID provider, and servers (`lotse serve`, `wrangler dev`) on a free port that are
//! stopped when the test ends, however it ends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
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
    /// SIGTERM first, so that a wrapper script can stop what it started (wrangler and
    /// workerd), then SIGKILL if it does not go.
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

/// `lotse serve` on the example region on `port`, with a fresh data folder (which also
/// gets its log, `serve.log`), the extra
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
        .env_remove("LOTSE_OFFICE_OIDC_CLIENT_SECRET")
        .envs(env.iter().copied());
    // The server's log goes into its data folder, so that the checks of what rests
    // there (no plaintext, no token) read the log too.
    let log = std::fs::File::create(data.path().join("serve.log")).unwrap();
    command.stdout(log.try_clone().unwrap()).stderr(log);
    let mut running = Running {
        child: command.spawn().expect("lotse serve starts"),
        data: Some(data),
    };
    wait_until_answers(port, &mut running, ready, Duration::from_secs(90));
    (running, format!("http://127.0.0.1:{port}"))
}

/// Waits until every path of `ready` answers 200 on `port`; fails when the process
/// ends first or `timeout` passes.
pub fn wait_until_answers(port: u16, running: &mut Running, ready: &[&str], timeout: Duration) {
    let started = Instant::now();
    for path in ready {
        while !answers(port, path) {
            if let Ok(Some(status)) = running.child.try_wait() {
                panic!("the server on port {port} exited early: {status}");
            }
            assert!(
                started.elapsed() < timeout,
                "the server on port {port} did not answer {path} within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The test OpenID provider (`tests/oidc-provider`, the certified `oidc-provider`
/// package) for one confidential client whose callback is `redirect_uri`. It logs the
/// fixed test citizen in at the level asked for, or at `force_acr`.
pub struct Provider {
    pub issuer: String,
    _running: Running,
}

/// The caseworkers' workspace client at the test provider (`STAFF_CLIENT_ID`,
/// `STAFF_CLIENT_SECRET`, `STAFF_REDIRECT_URI`): it logs in the staff account the
/// `login_hint` names (`petra.schulte` without one; the accounts are listed in
/// tests/oidc-provider/server.mjs).
pub struct StaffClient<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
    /// `<site origin>/api/amt/callback`.
    pub redirect_uri: &'a str,
}

pub fn start_provider(
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
    force_acr: Option<&str>,
) -> Provider {
    start_provider_with_staff(client_id, client_secret, redirect_uri, force_acr, None)
}

/// [`start_provider`] with the workspace's client configured too (`None`: the
/// provider's defaults, a client whose callback is on a dead port).
pub fn start_provider_with_staff(
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
    force_acr: Option<&str>,
    staff: Option<&StaffClient>,
) -> Provider {
    // Tests start providers in parallel; `npm ci` must run once, not concurrently.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = repo().join("tests/oidc-provider");
    {
        let _installing = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
        npm_ci_unless(&dir, "node_modules/oidc-provider/package.json");
    }
    let mut command = Command::new("node");
    command
        .args(["server.mjs", "0"])
        .current_dir(&dir)
        .env("CLIENT_ID", client_id)
        .env("CLIENT_SECRET", client_secret)
        .env("REDIRECT_URI", redirect_uri)
        // A pipe on stdin: the provider leaves when this process is gone.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match force_acr {
        Some(acr) => command.env("FORCE_ACR", acr),
        None => command.env_remove("FORCE_ACR"),
    };
    match staff {
        Some(staff) => command
            .env("STAFF_CLIENT_ID", staff.client_id)
            .env("STAFF_CLIENT_SECRET", staff.client_secret)
            .env("STAFF_REDIRECT_URI", staff.redirect_uri),
        None => command
            .env_remove("STAFF_CLIENT_ID")
            .env_remove("STAFF_CLIENT_SECRET")
            .env_remove("STAFF_REDIRECT_URI"),
    };
    let mut child = command.spawn().expect("node starts the OpenID provider");
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
    Provider {
        issuer,
        _running: running,
    }
}
