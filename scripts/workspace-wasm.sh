#!/usr/bin/env bash
# Builds the WebAssembly module of the caseworkers' workspace (envelope/web,
# lotse-envelope-web) into themes/default/static/amt/wasm/:
#   lotse_envelope_web.js        the ES module glue (wasm-bindgen --target web)
#   lotse_envelope_web_bg.wasm   the Rust code
#   SOURCES.sha256               the hash of what the module is built from
# and prints the size of the wasm, raw and gzip -9. docs/workspace.md describes it.
#
# The built files are committed: the default theme is embedded into the `lotse` binary
# (generator/build.rs), so a city that installs lotse without a wasm toolchain still
# gets a working workspace. After a change to the envelope crates, run this script and
# commit the folder.
#
#   scripts/workspace-wasm.sh           build
#   scripts/workspace-wasm.sh --check   build nothing; fail when the committed module is
#                                       missing, stale (built from other sources) or over
#                                       the size budget (200 KiB gzip -9)
#
# Uses the tools scripts/worker-tools.sh installs (never downloads anything but the
# rustup target), and its own cargo profile `workspace-wasm`, defined through cargo's
# CARGO_PROFILE_* variables as in scripts/worker-build.sh: the workspace's `release`
# profile also builds the native `lotse` binary, which should stay fast.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=${LOTSE_TOOLS:-$ROOT/.tools}
OUT=themes/default/static/amt/wasm
NAME=lotse_envelope_web
BUDGET=$((200 * 1024))
TARGET=wasm32-unknown-unknown

mode=build
case "${1:-}" in
    "") ;;
    --check) mode=check ;;
    *)
        echo "usage: scripts/workspace-wasm.sh [--check]" >&2
        exit 2
        ;;
esac

# The module's size settings; part of the hash, since they change the output.
# `strip = true` would remove the externref table wasm-bindgen needs ("externref table
# required for catch wrappers"), so only debug info goes. wasm32-unknown-unknown aborts
# on panic by default.
PROFILE=workspace-wasm
export CARGO_PROFILE_WORKSPACE_WASM_INHERITS=release
export CARGO_PROFILE_WORKSPACE_WASM_OPT_LEVEL=z
export CARGO_PROFILE_WORKSPACE_WASM_LTO=true
export CARGO_PROFILE_WORKSPACE_WASM_CODEGEN_UNITS=1
export CARGO_PROFILE_WORKSPACE_WASM_DEBUG=false
export CARGO_PROFILE_WORKSPACE_WASM_STRIP=debuginfo
WASM_OPT_FLAGS=(-Oz --strip-debug --strip-producers
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
    --enable-bulk-memory --enable-multivalue --enable-reference-types)

# The hash of exactly what the module is built from: the two crates' sources and
# manifests, the dependencies as resolved for the wasm target (name, version, features;
# not all of Cargo.lock, so that a change elsewhere in the workspace does not make the
# module stale), and the build settings above. Not the Rust toolchain: the output of
# another rustc differs in bytes, not in what the module does.
sources_hash() {
    local deps
    # Paths of the workspace's own crates are dropped: they differ between checkouts.
    deps=$(cargo tree --locked -p lotse-envelope-web --target "$TARGET" -e normal \
        --prefix none --no-dedupe --format '{p} {f}' | sed -e 's/ (\/[^)]*)//' | sort -u) || {
        echo "error: cargo tree -p lotse-envelope-web failed (see above)" >&2
        return 1
    }
    {
        find envelope/src envelope/web/src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        sha256sum envelope/Cargo.toml envelope/web/Cargo.toml
        printf '%s\n' "$deps"
        env | grep '^CARGO_PROFILE_WORKSPACE_WASM_' | LC_ALL=C sort
        printf 'wasm-opt %s\n' "${WASM_OPT_FLAGS[*]}"
    } | sha256sum | cut -d' ' -f1
}

report_size() {
    local wasm=$1 raw gz
    raw=$(stat -c %s "$wasm")
    gz=$(gzip -9 -c "$wasm" | wc -c)
    printf '  wasm %d bytes (%d KiB) raw, %d bytes (%d KiB) gzip -9 (budget %d KiB)\n' \
        "$raw" $((raw / 1024)) "$gz" $((gz / 1024)) $((BUDGET / 1024))
    if [ "$gz" -gt "$BUDGET" ]; then
        echo "error: $wasm is $gz bytes gzip -9, over the budget of $BUDGET bytes" >&2
        return 1
    fi
}

if [ "$mode" = check ]; then
    stale() {
        echo "error: the workspace's WebAssembly module ($OUT) is $1;" \
            "run scripts/workspace-wasm.sh and commit" >&2
        exit 1
    }
    for file in "$NAME.js" "${NAME}_bg.wasm" SOURCES.sha256; do
        [ -f "$OUT/$file" ] || stale "missing ($file)"
    done
    want=$(sources_hash)
    have=$(awk 'NF && $1 !~ /^#/ { print $1; exit }' "$OUT/SOURCES.sha256")
    [ "$want" = "$have" ] || stale "stale (built from other sources than envelope/ has now)"
    echo "workspace wasm: up to date ($OUT)"
    report_size "$OUT/${NAME}_bg.wasm"
    exit 0
fi

WASM_BINDGEN=$TOOLS/bin/wasm-bindgen
WASM_OPT=$ROOT/functions/worker/node_modules/.bin/wasm-opt
for tool in "$WASM_BINDGEN" "$WASM_OPT"; do
    if [ ! -x "$tool" ]; then
        echo "error: $tool is missing; run scripts/worker-tools.sh first" >&2
        exit 1
    fi
done
want=$(awk '$1 == "name" && $3 == "\"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$("$WASM_BINDGEN" --version | awk '{print $NF}')
if [ "$want" != "$have" ]; then
    echo "error: Cargo.lock has wasm-bindgen $want but .tools has the CLI $have; run scripts/worker-tools.sh" >&2
    exit 1
fi
if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi

start=$(date +%s)
hash=$(sources_hash)
cargo build --locked -p lotse-envelope-web --lib --target "$TARGET" --profile "$PROFILE"

# wasm-bindgen writes into a scratch folder; only the glue and the module are kept
# (no .d.ts, no package.json), and the committed folder is replaced as a whole.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$WASM_BINDGEN" --target web --no-typescript --out-name "$NAME" --out-dir "$scratch" \
    "target/$TARGET/$PROFILE/lotse_envelope_web.wasm"
"$WASM_OPT" "$scratch/${NAME}_bg.wasm" -o "$scratch/${NAME}_bg.opt.wasm" "${WASM_OPT_FLAGS[@]}"
mkdir -p "$OUT"
rm -f "$OUT"/*
cp "$scratch/$NAME.js" "$OUT/$NAME.js"
cp "$scratch/${NAME}_bg.opt.wasm" "$OUT/${NAME}_bg.wasm"
{
    echo "# The hash of what lotse_envelope_web_bg.wasm is built from (scripts/workspace-wasm.sh)."
    echo "$hash"
} >"$OUT/SOURCES.sha256"

printf 'workspace wasm built in %ss: %s\n' "$(($(date +%s) - start))" "$OUT"
report_size "$OUT/${NAME}_bg.wasm"
