#!/usr/bin/env bash
# The search index on the benchmark corpus: build time, index size, bytes per query.
#
#   bench/search.sh [N]      N = services per portal (default 1300: 18,200 pages);
#                            the corpus must exist (bench/run.sh N generates it)
#   OUT=/dev/shm/x bench/search.sh
#
# Builds the corpus with and without the index (release lotse, timed by /usr/bin/time),
# reports the index's size, then loads one portal search and one umbrella search in
# headless Chromium (tests/browser/search.mjs in bytes-only mode) and reports the bytes
# each query loads. See docs/search.md.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$BENCH")"
N="${1:-1300}"
CORPUS="$BENCH/work/corpus-$N/lotse/content"
OUT="${OUT:-$BENCH/work/out}/search-$N"
[ -d "$CORPUS" ] || { echo "error: $CORPUS missing: run bench/run.sh $N first" >&2; exit 2; }

(cd "$REPO" && cargo build --release -p lotse --quiet)
LOTSE="$REPO/target/release/lotse"
for variant in --no-search ""; do
    # shellcheck disable=SC2086
    /usr/bin/time -f '    %e s wall, %M KB peak RSS' \
        "$LOTSE" build $variant --content "$CORPUS" --out "$OUT" 2>&1 | grep -E '^(built|    )'
done
echo "indexes on disk: $(find "$OUT" -path "*/pagefind/*" -type f -print0 | du -ch --files0-from=- | tail -1 | cut -f1), $(find "$OUT" -path "*/pagefind/*" -type f | wc -l) files"

(cd "$REPO/tests/browser" && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; })
query() {
    echo "== $1"
    # Exit status 1 = over the 100 KB budget; the numbers are printed either way.
    (cd "$REPO/tests/browser" && SEARCH_BYTES_ONLY=1 SEARCH_PATH="$1" node search.mjs "$OUT") \
        | grep -E '^(ok|FAIL|bytes|     )' || true
}
query "/bottrop/suche/?q=Abrissgenehmigung"
query "/suche/?q=Abrissgenehmigung"
