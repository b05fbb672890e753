#!/usr/bin/env bash
# Runs the site and the worker locally under `wrangler dev` (workerd, local D1, no
# Cloudflare account), on 127.0.0.1 only:
#
#   1. builds dist/ (`lotse build`) and the worker (scripts/worker-build.sh),
#   2. applies functions/migrations to the local D1 database in the state folder,
#   3. starts `wrangler dev` and prints `ready: http://127.0.0.1:<port>/` once it answers,
#   4. stops wrangler and workerd on Ctrl-C or SIGTERM (kill this script's PID).
#
# Usage: scripts/worker-dev.sh [--port N] [--state DIR] [--no-build]
#   --port N      port (default 8787, or LOTSE_DEV_PORT)
#   --state DIR   local D1 and cache state (default .wrangler/state, or LOTSE_DEV_STATE);
#                 a fresh folder gives an empty database
#   --no-build    use the existing dist/ and functions/worker/build/ as they are
#
# Environment:
#   OFFICE_TOKENS          JSON {"<portal>/<office>": "<token of 16+ characters>"}, passed
#                          to the worker as a variable (on Cloudflare it is a secret)
#   RATE_LIMIT_PER_MINUTE  overrides the value in wrangler.toml
#   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, SESSION_SECRET, ACCOUNT_SECRET
#                          citizen login (docs/login.md); secrets on Cloudflare
#   OFFICE_OIDC_ISSUER, OFFICE_OIDC_CLIENT_SECRET, STAFF_SESSION_SECRET
#                          staff login of the caseworkers' workspace (docs/workspace.md):
#                          another issuer than region.toml's [office_login] (a local test
#                          provider), the client secret, the staff session key; secrets
#                          on Cloudflare
#   HASH_SECRET            key of the hashed client addresses and Idempotency-Keys
#                          (base64 of 32 bytes; docs/envelope.md); a secret on Cloudflare
#   PAYMENT_BASE_URL, PAYMENT_CLIENT_SECRET
#                          another address for every payment provider (a local test
#                          provider) and the providers' OAuth2 secret (docs/deploy.md)
#   MAIL_API_URL, MAIL_API_TOKEN, MAIL_FROM
#                          the HTTP mail API of the notifications (docs/deploy.md); the
#                          Cron Trigger runs on `curl http://127.0.0.1:<port>/__scheduled`
#                          (wrangler's --test-scheduled, always on here)
#
# Run scripts/worker-tools.sh once before.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PORT=${LOTSE_DEV_PORT:-8787}
STATE=${LOTSE_DEV_STATE:-$ROOT/.wrangler/state}
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
        --port) PORT=$2; shift 2 ;;
        --state) STATE=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)

WRANGLER=$ROOT/functions/worker/node_modules/.bin/wrangler
if [ ! -x "$WRANGLER" ]; then
    echo "error: $WRANGLER missing; run scripts/worker-tools.sh first" >&2
    exit 1
fi

# Quiet and offline: no metrics, no update checks, no request.cf lookups, no prompts.
export CI=true WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_LOG_PATH=$STATE/logs
# The build ran (or was refused) above; wrangler's own [build] command only checks.
export LOTSE_WORKER_PREBUILT=1

if [ "$BUILD" = 1 ]; then
    echo "==> lotse build (dist/)"
    cargo run --quiet -p lotse -- build
    echo "==> worker build"
    LOTSE_WORKER_PREBUILT= scripts/worker-build.sh
fi
for required in dist/index.html functions/worker/build/index.js functions/worker/build/index_bg.wasm; do
    if [ ! -f "$required" ]; then
        echo "error: $required missing; run without --no-build" >&2
        exit 1
    fi
done

echo "==> D1 migrations (local, $STATE)"
"$WRANGLER" d1 migrations apply DB --local --persist-to "$STATE" >"$STATE/migrations.log" 2>&1 || {
    cat "$STATE/migrations.log" >&2
    exit 1
}

vars=()
if [ -n "${OFFICE_TOKENS:-}" ]; then
    vars+=(--var "OFFICE_TOKENS:$OFFICE_TOKENS")
fi
# Rate limit and logins: on Cloudflare these are [vars] and secrets; locally, whatever of
# them is set in the environment is passed as a variable.
for name in RATE_LIMIT_PER_MINUTE OIDC_ISSUER OIDC_CLIENT_ID OIDC_CLIENT_SECRET SESSION_SECRET ACCOUNT_SECRET OFFICE_OIDC_ISSUER OFFICE_OIDC_CLIENT_SECRET STAFF_SESSION_SECRET HASH_SECRET MAIL_API_URL MAIL_API_TOKEN MAIL_FROM PAYMENT_BASE_URL PAYMENT_CLIENT_SECRET PAYMENT_RECHECK_MS; do
    if [ -n "${!name:-}" ]; then
        vars+=(--var "$name:${!name}")
    fi
done

echo "==> wrangler dev on 127.0.0.1:$PORT"
"$WRANGLER" dev --local --ip 127.0.0.1 --port "$PORT" --inspector-port 0 \
    --persist-to "$STATE" --show-interactive-dev-session=false --test-scheduled "${vars[@]}" &
wrangler_pid=$!

stop() {
    trap - INT TERM EXIT
    if kill -0 "$wrangler_pid" 2>/dev/null; then
        kill -TERM "$wrangler_pid" 2>/dev/null || true
        wait "$wrangler_pid" 2>/dev/null || true
    fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

URL=http://127.0.0.1:$PORT/
for _ in $(seq 1 120); do
    if ! kill -0 "$wrangler_pid" 2>/dev/null; then
        echo "error: wrangler dev exited" >&2
        exit 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${URL}robots.txt" || true)
    if [ "$code" = 200 ]; then
        echo "ready: $URL"
        break
    fi
    sleep 0.5
done
if [ "${code:-}" != 200 ]; then
    echo "error: wrangler dev did not answer on $URL within 60 s" >&2
    exit 1
fi

wait "$wrangler_pid"
