#!/usr/bin/env bash
# Builds the Cloudflare Worker (functions/worker) into functions/worker/build/:
#   index.js        the module worker wrangler.toml's `main` points at
#   index_bg.wasm   the Rust code
# and prints the size of the wasm, raw and gzipped.
#
# Uses the tools scripts/worker-tools.sh installs (never downloads anything), and the
# cargo profile `wasm-release` defined here: the workspace's `release` profile also
# builds the native `lotse` binary, which should stay fast and keep line tables, so the
# size settings live in their own profile (set through cargo's CARGO_PROFILE_* variables,
# which can define a whole custom profile).
#
# wrangler runs this as its [build] command (at start and again when its watcher is
# ready). It does nothing when the build is newer than every source; with
# LOTSE_WORKER_PREBUILT=1 it does nothing whenever a build exists (tests, so that an
# edit elsewhere never triggers a rebuild mid-run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=${LOTSE_TOOLS:-$ROOT/.tools}
BUILD=$ROOT/functions/worker/build

if [ "${LOTSE_WORKER_PREBUILT:-}" = 1 ] && [ -f "$BUILD/index.js" ] && [ -f "$BUILD/index_bg.wasm" ]; then
    echo "worker-build: skipped (LOTSE_WORKER_PREBUILT=1, $BUILD exists)"
    exit 0
fi

# Up to date: nothing the wasm is built from changed since the last build
# (LOTSE_WORKER_FORCE=1 builds anyway).
STAMP=$BUILD/.lotse-built
SOURCES=(functions/worker/src functions/worker/Cargo.toml functions/core/src functions/core/Cargo.toml
    model/src model/Cargo.toml envelope/src envelope/Cargo.toml Cargo.toml Cargo.lock scripts/worker-build.sh)
if [ "${LOTSE_WORKER_FORCE:-}" != 1 ] && [ -f "$STAMP" ] && [ -f "$BUILD/index.js" ] && [ -f "$BUILD/index_bg.wasm" ] \
    && [ -z "$(find "${SOURCES[@]}" -newer "$STAMP" -print -quit 2>/dev/null)" ]; then
    echo "worker-build: up to date ($BUILD)"
    exit 0
fi

NODE_BIN=$ROOT/functions/worker/node_modules/.bin
for tool in "$TOOLS/bin/worker-build" "$TOOLS/bin/wasm-bindgen" "$NODE_BIN/wasm-opt" "$NODE_BIN/esbuild"; do
    if [ ! -x "$tool" ]; then
        echo "error: $tool is missing; run scripts/worker-tools.sh first" >&2
        exit 1
    fi
done
want=$(awk '$1 == "name" && $3 == "\"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$("$TOOLS/bin/wasm-bindgen" --version | awk '{print $NF}')
if [ "$want" != "$have" ]; then
    echo "error: Cargo.lock has wasm-bindgen $want but .tools has the CLI $have; run scripts/worker-tools.sh" >&2
    exit 1
fi

# Local tools instead of downloads.
export WASM_BINDGEN_BIN=$TOOLS/bin/wasm-bindgen
export WASM_OPT_BIN=$NODE_BIN/wasm-opt
export ESBUILD_BIN=$NODE_BIN/esbuild

# The wasm profile: smallest code. `strip = true` would remove the externref table
# wasm-bindgen needs ("externref table required for catch wrappers"), so only debug info
# goes. wasm32-unknown-unknown aborts on panic by default.
export CARGO_PROFILE_WASM_RELEASE_INHERITS=release
export CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=z
export CARGO_PROFILE_WASM_RELEASE_LTO=true
export CARGO_PROFILE_WASM_RELEASE_CODEGEN_UNITS=1
export CARGO_PROFILE_WASM_RELEASE_DEBUG=false
export CARGO_PROFILE_WASM_RELEASE_STRIP=debuginfo

start=$(date +%s)
# The stamp's time is the build's start: a source saved while cargo runs is newer than
# it, so the next run builds again instead of taking the build for current.
# (Kept in $TOOLS: worker-build may clear the build folder.)
mkdir -p "$TOOLS"
touch "$TOOLS/worker-build-started"
(cd functions/worker && "$TOOLS/bin/worker-build" --profile wasm-release "$@")

# worker-build runs wasm-opt with --debuginfo, which keeps the function names section
# (about 110 KiB raw, 30 KiB gzip here). Names only make panics in `wrangler tail` easier
# to read; drop them unless LOTSE_WASM_NAMES=1.
wasm=$BUILD/index_bg.wasm
if [ "${LOTSE_WASM_NAMES:-}" != 1 ]; then
    "$WASM_OPT_BIN" "$wasm" -o "$wasm.stripped" --strip-debug \
        --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
        --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling
    mv "$wasm.stripped" "$wasm"
fi
mv "$TOOLS/worker-build-started" "$STAMP"
seconds=$(( $(date +%s) - start ))

raw=$(stat -c %s "$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
printf 'worker built in %ss: %s\n' "$seconds" "${wasm#"$ROOT"/}"
printf '  wasm %d bytes (%d KiB) raw, %d bytes (%d KiB) gzip -9\n' "$raw" $((raw / 1024)) "$gz" $((gz / 1024))
