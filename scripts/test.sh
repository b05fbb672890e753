#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit and integration tests, and the
# HTTP suite against both runtimes (lotse serve and workerd under wrangler dev).
# This is the test command README.md gives and .ci/run calls. The first run on a fresh
# machine installs the worker tools (scripts/worker-tools.sh, ~6 min); later runs reuse them.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "browser for the end-to-end tests (Debian's chromium)"
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
    else
        echo "error: chromium is missing; install it (sudo apt-get install chromium)" >&2
        exit 1
    fi
fi
chromium --version

step "worker tools and build (for the workerd run of the HTTP suite)"
bash scripts/worker-tools.sh
bash scripts/worker-build.sh

step "cargo test"
# The HTTP suite must run in workerd too; without the worker it fails instead of skipping.
LOTSE_REQUIRE_WORKERD=1 cargo test --workspace --locked

step "lotse check on the example region (warnings are errors)"
# The binary `cargo test` built for the integration tests (`cargo run` would rebuild
# with other features).
target/debug/lotse check --content content --deny-warnings
