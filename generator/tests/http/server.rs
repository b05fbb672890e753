//! Starting and stopping the servers the suite runs against.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

pub const OFFICE_TOKEN: &str = "suite-office-token-0123456789";

pub use crate::common::servers::{free_port, repo};
use crate::common::servers::{wait_until_answers, Running};

pub struct Server {
    pub base: String,
    running: Running,
}

impl Server {
    /// The folder where the server keeps its state (to check it for plaintext).
    pub fn state(&self) -> &Path {
        self.running.data.as_ref().expect("a data folder").path()
    }
}

/// `lotse serve` on the example region with a fresh data folder.
pub fn lotse_serve(rate_limit: u32) -> Server {
    lotse_serve_on(free_port(), rate_limit, &[])
}

/// `lotse serve` on a given port with extra environment (login settings).
pub fn lotse_serve_on(port: u16, rate_limit: u32, env: &[(&str, &str)]) -> Server {
    let rate_limit = rate_limit.to_string();
    let mut all = vec![
        ("LOTSE_OFFICE_TOKEN", OFFICE_TOKEN),
        ("LOTSE_RATE_LIMIT", rate_limit.as_str()),
    ];
    all.extend_from_slice(env);
    let (running, base) = crate::common::servers::lotse_serve(port, &["--no-search"], &all, &["/"]);
    Server { base, running }
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
    let child = Command::new(repo().join("scripts/worker-dev.sh"))
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
    let mut running = Running {
        child,
        data: Some(data),
    };
    wait_until_answers(port, &mut running, &["/"], Duration::from_secs(120));
    Server {
        base: format!("http://127.0.0.1:{port}"),
        running,
    }
}
