#!/usr/bin/env bash
# Installs what building and running the Cloudflare Worker needs, into .tools/ and
# functions/worker/node_modules/ (both git-ignored). Idempotent: a second run only checks.
#
#   rustup target wasm32-unknown-unknown
#   .tools/bin/wasm-bindgen    wasm-bindgen-cli, the version of wasm-bindgen in Cargo.lock
#   .tools/bin/worker-build    worker-build, pinned below
#   functions/worker/node_modules/.bin/{wrangler,wasm-opt,esbuild}
#                              from functions/worker/package-lock.json (`npm ci`)
#
# worker-build would download wasm-bindgen, wasm-opt and esbuild itself; on machines
# without general internet access that fails, so scripts/worker-build.sh points it at
# these instead (WASM_BINDGEN_BIN, WASM_OPT_BIN, ESBUILD_BIN).
#
# Both cargo installs build in debug mode (`--debug`): the tools are as fast as needed and
# build in about a quarter of the time. Override the cache with LOTSE_TOOLS=/some/dir.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=${LOTSE_TOOLS:-$ROOT/.tools}

# worker-build 0.8.7 expects binaryen 132 and esbuild 0.28.2 (see package.json).
WORKER_BUILD_VERSION=0.8.7

step() { printf '==> %s\n' "$*"; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

lock_version() {
    # The version of a package in Cargo.lock.
    awk -v name="$1" '$1 == "name" && $3 == "\"" name "\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

# Installs a cargo tool into $TOOLS unless that exact version is already there. Tries
# --locked first (the versions the tool was released with); when the registry mirror
# lacks one of those, resolves afresh within the tool's own version requirements.
cargo_tool() {
    local crate=$1 version=$2 binary=$3 have
    have=$("$TOOLS/bin/$binary" --version 2>/dev/null | awk '{print $NF}' || true)
    if [ "$have" = "$version" ]; then
        step "$crate $version: already in $TOOLS/bin"
        return
    fi
    local start
    start=$(date +%s)
    step "cargo install $crate $version (debug build, into $TOOLS)"
    if ! cargo install "$crate" --version "=$version" --locked --debug --root "$TOOLS"; then
        step "$crate: --locked failed (registry lacks a locked version?); resolving without it"
        cargo install "$crate" --version "=$version" --debug --root "$TOOLS"
    fi
    step "$crate $version installed in $(elapsed "$start")"
}

start_all=$(date +%s)

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "rustup target wasm32-unknown-unknown: installed"
else
    step "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

WASM_BINDGEN_VERSION=$(lock_version wasm-bindgen)
if [ -z "$WASM_BINDGEN_VERSION" ]; then
    echo "error: no wasm-bindgen in Cargo.lock; run 'cargo generate-lockfile' first" >&2
    exit 1
fi
cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
cargo_tool worker-build "$WORKER_BUILD_VERSION" worker-build

# npm ci wipes node_modules; skip it while the lock file is unchanged.
cd functions/worker
stamp=node_modules/.lotse-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x node_modules/.bin/wrangler ]; then
    step "npm packages: up to date with package-lock.json"
else
    start=$(date +%s)
    step "npm ci (wrangler, binaryen, esbuild)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$want" >"$stamp"
    step "npm ci done in $(elapsed "$start")"
fi
for tool in wrangler wasm-opt esbuild; do
    [ -x "node_modules/.bin/$tool" ] || { echo "error: node_modules/.bin/$tool missing after npm ci" >&2; exit 1; }
done

step "worker tools ready in $(elapsed "$start_all"):"
echo "    wasm-bindgen $("$TOOLS/bin/wasm-bindgen" --version | awk '{print $NF}')"
echo "    worker-build $("$TOOLS/bin/worker-build" --version)"
echo "    wasm-opt     $(node_modules/.bin/wasm-opt --version)"
echo "    esbuild      $(node_modules/.bin/esbuild --version)"
echo "    wrangler     $(node_modules/.bin/wrangler --version 2>/dev/null | tail -n1)"
