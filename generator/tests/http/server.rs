//! Starting and stopping the servers the suite runs against.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub const OFFICE_TOKEN: &str = "suite-office-token-0123456789";
/// The token of an office of another city (Gelsenkirchen's Bürgerbüro).
pub const OTHER_OFFICE_TOKEN: &str = "suite-other-office-token-987654";

/// One token per office, as on Cloudflare (`OFFICE_TOKENS`; `LOTSE_OFFICE_TOKENS` under
/// `lotse serve`): the Bürgerbüro (applications) and the Inklusionsbeauftragte
/// (accessibility feedback) of Bottrop share one, Gelsenkirchen's Bürgerbüro has its own.
pub fn office_tokens() -> String {
    format!(
        r#"{{"bottrop/buergerbuero": "{OFFICE_TOKEN}", "bottrop/inklusion": "{OFFICE_TOKEN}", "gelsenkirchen/buergerbuero": "{OTHER_OFFICE_TOKEN}"}}"#
    )
}

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
    let (rate_limit, tokens) = (rate_limit.to_string(), office_tokens());
    let mut all = vec![
        ("LOTSE_OFFICE_TOKENS", tokens.as_str()),
        ("LOTSE_RATE_LIMIT", rate_limit.as_str()),
    ];
    all.extend_from_slice(env);
    let (running, base) = crate::common::servers::lotse_serve(port, &["--no-search"], &all, &["/"]);
    Server { base, running }
}

/// Whether the Workers toolchain and an up-to-date worker are present. A build older
/// than its sources is never tested: scripts/worker-build.sh rebuilds it (and does
/// nothing when the build is newer than every source), or the check fails.
pub fn worker_ready() -> Result<(), String> {
    let root = repo();
    let wrangler = "functions/worker/node_modules/.bin/wrangler";
    if !root.join(wrangler).exists() {
        return Err(format!(
            "{wrangler} is missing: run scripts/worker-tools.sh"
        ));
    }
    let build = Command::new(root.join("scripts/worker-build.sh"))
        .current_dir(&root)
        .env_remove("LOTSE_WORKER_PREBUILT")
        .env_remove("LOTSE_WORKER_FORCE")
        .output()
        .map_err(|e| format!("scripts/worker-build.sh did not run: {e}"))?;
    if !build.status.success() {
        return Err(format!(
            "the worker is missing or older than its sources, and scripts/worker-build.sh failed: {}",
            String::from_utf8_lossy(&build.stderr).trim()
        ));
    }
    for required in [
        "functions/worker/build/index.js",
        "functions/worker/build/index_bg.wasm",
    ] {
        if !root.join(required).exists() {
            return Err(format!(
                "{required} is missing after scripts/worker-build.sh"
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
    let tokens = office_tokens();
    // wrangler's and the worker's log go into the state folder, so that the checks of
    // what rests there (no plaintext, no token) read the log too.
    let log = std::fs::File::create(data.path().join("wrangler.log")).unwrap();
    let child = Command::new(repo().join("scripts/worker-dev.sh"))
        .current_dir(repo())
        .args(["--no-build", "--port", &port.to_string(), "--state"])
        .arg(data.path())
        .env("OFFICE_TOKENS", tokens)
        .env("RATE_LIMIT_PER_MINUTE", rate_limit.to_string())
        .envs(env.iter().copied())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
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
