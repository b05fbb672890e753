#!/usr/bin/env bash
# Runs every test of the project: formatting, lints, unit and integration tests.
# This is the test command README.md gives and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked

step "lotse check on the example region (warnings are errors)"
cargo run --quiet --locked -p lotse -- check --content content --deny-warnings
