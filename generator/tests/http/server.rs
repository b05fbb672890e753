//! Starting and stopping the servers the suite runs against.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const OFFICE_TOKEN: &str = "suite-office-token-0123456789";

pub struct Server {
    pub base: String,
    child: Child,
    _data: tempfile::TempDir,
}

impl Server {
    /// The folder where the server keeps its state (to check it for plaintext).
    pub fn state(&self) -> &Path {
        self._data.path()
    }
}

impl Drop for Server {
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

fn wait_until_up(base: &str, child: &mut Child, timeout: Duration) {
    let started = Instant::now();
    let client = super::Client::new(base);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server at {base} exited early: {status}");
        }
        let up = client.try_status("/") == Some(200);
        if up {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "the server at {base} did not answer within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `lotse serve` on the example region with a fresh data folder.
pub fn lotse_serve(rate_limit: u32) -> Server {
    lotse_serve_on(free_port(), rate_limit, &[])
}

/// `lotse serve` on a given port with extra environment (login settings).
pub fn lotse_serve_on(port: u16, rate_limit: u32, env: &[(&str, &str)]) -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lotse"));
    command
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
        .env("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN)
        .env("LOTSE_RATE_LIMIT", rate_limit.to_string())
        .env_remove("LOTSE_OIDC_CLIENT_SECRET")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("lotse serve starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base, &mut child, Duration::from_secs(60));
    Server {
        base,
        child,
        _data: data,
    }
}

/// Whether the Workers toolchain and a built worker are present.
pub fn worker_ready() -> Result<(), String> {
    let root = repo();
    for required in [
        "functions/worker/node_modules/.bin/wrangler",
        "functions/worker/build/index.js",
        "functions/worker/build/index_bg.wasm",
    ] {
        if !root.join(required).exists() {
            return Err(format!(
                "{required} is missing: run scripts/worker-tools.sh and scripts/worker-build.sh"
            ));
        }
    }
    Ok(())
}

/// The example region built into dist/, for `wrangler dev` to serve as assets.
pub fn build_dist() {
    let status = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .current_dir(repo())
        .args(["build", "--content", "content", "--out", "dist"])
        .status()
        .unwrap();
    assert!(status.success(), "lotse build failed");
}

/// `wrangler dev` (workerd, local D1) with the prebuilt worker and a fresh state folder.
pub fn wrangler_dev(rate_limit: u32) -> Server {
    wrangler_dev_on(free_port(), rate_limit, &[])
}

/// `wrangler dev` on a given port with extra variables (login settings).
pub fn wrangler_dev_on(port: u16, rate_limit: u32, env: &[(&str, &str)]) -> Server {
    let data = tempfile::tempdir().unwrap();
    // The offices the suite reads the inbox of: the Bürgerbüro (applications) and the
    // Inklusionsbeauftragte (accessibility feedback).
    let tokens = format!(
        r#"{{"bottrop/buergerbuero": "{OFFICE_TOKEN}", "bottrop/inklusion": "{OFFICE_TOKEN}"}}"#
    );
    let mut child = Command::new(repo().join("scripts/worker-dev.sh"))
        .current_dir(repo())
        .args(["--no-build", "--port", &port.to_string(), "--state"])
        .arg(data.path())
        .env("OFFICE_TOKENS", tokens)
        .env("RATE_LIMIT_PER_MINUTE", rate_limit.to_string())
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("scripts/worker-dev.sh starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&base, &mut child, Duration::from_secs(120));
    Server {
        base,
        child,
        _data: data,
    }
}
