//! Running one of the browser scripts (`tests/browser/*.mjs`) against a running server:
//! what every browser launcher does once its servers are up.

use std::process::Command;
use std::time::Instant;

use super::servers::repo;

/// Runs `node tests/browser/<script> <base>` in the repository with Chromium at
/// `chromium` and the extra environment `env` (plus `--screenshots $LOTSE_SCREENSHOTS`
/// when that is set), prints how long it ran as `<what>: N s`, and fails unless it exits
/// 0; `against` says in that failure what it ran against (the base URL, the providers).
pub fn run_browser_script(
    what: &str,
    script: &str,
    base: &str,
    chromium: &str,
    env: &[(&str, &str)],
    against: &str,
) {
    let mut command = Command::new("node");
    command
        .arg(repo().join("tests/browser").join(script))
        .arg(base)
        .env("CHROMIUM", chromium)
        .envs(env.iter().copied())
        .current_dir(repo());
    if let Ok(shots) = std::env::var("LOTSE_SCREENSHOTS") {
        command.args(["--screenshots", &shots]);
    }
    let started = Instant::now();
    let status = command.status().expect("node runs");
    eprintln!("{what}: {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        status.success(),
        "tests/browser/{script} failed against {against} (exit {status}); see its output above"
    );
}
