#!/usr/bin/env bash
# Load benchmark of the functions on both runtimes, in one run: 1,000 applications at
# concurrency 32 to `lotse serve` and to `wrangler dev` (workerd, local D1), each then
# checked for loss (bench/load.py), plus the size of the worker's wasm.
#
# Usage: bench/load.sh [COUNT] [CONCURRENCY]
# Needs scripts/worker-tools.sh and scripts/worker-build.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${1:-1000}
CONCURRENCY=${2:-32}
TOKEN=load-benchmark-office-token
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() {
    for _ in $(seq 1 600); do
        curl -fs -o /dev/null "$1/robots.txt" && return 0
        sleep 0.2
    done
    echo "error: $1 did not come up" >&2
    exit 1
}

cargo build --quiet --release -p lotse
LOTSE=target/release/lotse
$LOTSE build --content content --out dist >/dev/null 2>&1

PORT=$(free_port)
LOTSE_RATE_LIMIT=1000000 LOTSE_OFFICE_TOKEN=$TOKEN $LOTSE serve --port "$PORT" --data "$WORK/serve" >/dev/null 2>&1 &
wait_up "http://127.0.0.1:$PORT"
python3 bench/load.py --url "http://127.0.0.1:$PORT" --name "lotse serve" --count "$COUNT" \
    --concurrency "$CONCURRENCY" --lotse "$LOTSE" --office-token "$TOKEN"
kill %1; wait %1 2>/dev/null || true

PORT=$(free_port)
OFFICE_TOKENS="{\"bottrop/buergerbuero\": \"$TOKEN\"}" RATE_LIMIT_PER_MINUTE=1000000 \
    scripts/worker-dev.sh --no-build --port "$PORT" --state "$WORK/wrangler" >/dev/null 2>&1 &
wait_up "http://127.0.0.1:$PORT"
python3 bench/load.py --url "http://127.0.0.1:$PORT" --name "wrangler dev" --count "$COUNT" \
    --concurrency "$CONCURRENCY" --lotse "$LOTSE" --office-token "$TOKEN"

WASM=functions/worker/build/index_bg.wasm
echo "worker wasm: $(stat -c %s "$WASM" | numfmt --to=iec-i --suffix=B) raw, $(gzip -9c "$WASM" | wc -c | numfmt --to=iec-i --suffix=B) gzip -9"
