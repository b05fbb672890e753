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

step "the workspace's committed WebAssembly module is current and within its budget"
bash scripts/workspace-wasm.sh --check

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

step "SMTP server and calendar parser for the HTTP suite (aiosmtpd, icalendar from PyPI, into .tools/pydeps)"
if ! PYTHONPATH=.tools/pydeps python3 -c 'import aiosmtpd' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check --target .tools/pydeps 'aiosmtpd==1.4.6'
fi
# The appointments' calendar files are parsed by a real calendar library (tests/ics/check.py).
if ! PYTHONPATH=.tools/pydeps python3 -c 'import icalendar' 2>/dev/null; then
    python3 -m pip install --quiet --disable-pip-version-check --target .tools/pydeps 'icalendar==7.3.0'
fi

step "worker tools and build (for the workerd run of the HTTP suite)"
bash scripts/worker-tools.sh
bash scripts/worker-build.sh

step "cargo test"
# The HTTP suite must run in workerd too; without the worker it fails instead of skipping.
LOTSE_REQUIRE_WORKERD=1 cargo test --workspace --locked

step "lotse check on the example region (warnings are errors, but one kind)"
# The binary `cargo test` built for the integration tests (`cargo run` would rebuild
# with other features).
# Every warning fails the run, except that a portal has no video in Deutsche
# Gebärdensprache (BITV 2.0 § 4, docs/content-format.md): the example region is made
# up and has no real sign-language videos, so `--deny-warnings` cannot be used. Any
# other warning, and any error, still fails.
check_log=$(mktemp)
if ! target/debug/lotse check --content content 2>"$check_log"; then
    cat "$check_log" >&2
    exit 1
fi
other_warnings=$(grep ': warning: ' "$check_log" | grep -v 'has no video in Deutsche Gebärdensprache' || true)
if [ -n "$other_warnings" ]; then
    echo "$other_warnings" >&2
    echo "error: the example region has warnings" >&2
    exit 1
fi
rm -f "$check_log"
