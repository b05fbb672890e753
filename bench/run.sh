#!/usr/bin/env bash
# Lotse vs. Hugo: build time and peak memory on the same generated region, with and
# without a search index (Lotse's built-in Pagefind index; Hugo + Pagefind's CLI).
#
#   bench/run.sh [N...]          N = local services per portal (default: 100 1300)
#   K=5 bench/run.sh 1300        K = runs per tool and N (default 3)
#   OUT=/dev/shm/lotse-bench bench/run.sh   where the builds write (default bench/work/out;
#                                a tmpfs takes the file system out of the measurement)
#
# For each N: generates a region of 14 portals x N services (bench/gen_corpus.py,
# fixed seed) in Lotse's format and as an equivalent Hugo site, then builds each K
# times from a clean output folder under /usr/bin/time, alternating the tools.
# Reports median wall time, pages per second, peak RSS and output page count
# (index.html files) side by side. Everything goes to bench/work/ (git-ignored);
# the table also to bench/work/results.md. See docs/benchmarks.md.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$BENCH")"
WORK="$BENCH/work"
K="${K:-3}"
if [ "$#" -gt 0 ]; then SIZES=("$@"); else SIZES=(100 1300); fi

log() { printf '==> %s\n' "$*" >&2; }

# --- tools ----------------------------------------------------------------------------
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
need_pkg() { # need_pkg <command> <debian-package>
    if ! command -v "$1" >/dev/null 2>&1; then
        log "installing $2 (apt-get)"
        if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    fi
}
need_pkg hugo hugo
need_pkg /usr/bin/time time
command -v python3 >/dev/null || { echo "error: python3 is needed (apt-get install python3)" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { echo "error: python3 >= 3.10 is needed" >&2; exit 1; }
command -v cargo >/dev/null || { echo "error: cargo is needed to build lotse" >&2; exit 1; }

# Pagefind's own CLI (npm, the same Pagefind version Lotse uses as a library): what a
# Hugo site adds for search.
PAGEFIND_VERSION=1.6.0
PAGEFIND="$WORK/pagefind-cli/node_modules/.bin/pagefind"
if [ ! -x "$PAGEFIND" ] || [ "$("$PAGEFIND" --version 2>/dev/null)" != "pagefind $PAGEFIND_VERSION" ]; then
    log "installing pagefind $PAGEFIND_VERSION (npm)"
    mkdir -p "$WORK/pagefind-cli"
    npm install --silent --no-audit --no-fund --prefix "$WORK/pagefind-cli" "pagefind@$PAGEFIND_VERSION" >&2
fi

log "building lotse (release)"
(cd "$REPO" && cargo build --release -p lotse --quiet)
LOTSE="$REPO/target/release/lotse"
LOTSE_REV="$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"

# --- deleting files without disturbing the timings ------------------------------------
# On ext4 without a journal (as on these machines) the kernel skips inodes freed in the
# last 60 s when it allocates new ones, and that search shows up as seconds of system
# time in a build that writes thousands of files right after an `rm -rf`. So timed runs
# never follow a deletion: old outputs are renamed into trash/ (instant), trash is
# deleted at the end, and a run waits until the last deletion is 60 s old.
mkdir -p "$WORK"
DELETED_AT="$WORK/.deleted-at"     # when this script last deleted many files
delete_tree() {
    [ -e "$1" ] || return 0
    rm -rf "$1"
    sync
    date +%s > "$DELETED_AT"
}
settle() {
    [ -f "$DELETED_AT" ] || return 0
    local wait=$(( $(cat "$DELETED_AT") + 61 - $(date +%s) ))
    if [ "$wait" -gt 0 ]; then
        log "waiting ${wait} s for the file system to forget the last deletion"
        sleep "$wait"
    fi
}
OUT="${OUT:-$WORK/out}"
TRASH="$OUT/.trash"                # same file system as the outputs: renames are instant
CORPUS_TRASH="$WORK/.trash"
delete_tree "$TRASH"               # left over from an interrupted run
delete_tree "$CORPUS_TRASH"
mkdir -p "$TRASH" "$CORPUS_TRASH" "$OUT"

OUT_FS="$(df -PT "$OUT" | awk 'NR == 2 { print $2 }')"
RAW="$WORK/runs.tsv"               # one line per timed run
printf 'tool\tN\trun\tseconds\tmax_rss_kb\tcpu_seconds\tpages\tload1\n' > "$RAW"

# --- one timed run --------------------------------------------------------------------
# timed <tool> <N> <run> <out-dir> <command...>: moves an old <out-dir> away (untimed),
# runs the command under /usr/bin/time, counts the index.html files it wrote.
timed() {
    local tool="$1" n="$2" run="$3" out="$4"; shift 4
    if [ -e "$out" ]; then
        # A tmpfs has no such inode search, and trash kept there takes memory from the
        # runs (several GB after five rounds, and both tools got slower round by
        # round): delete at once. Elsewhere, move it aside.
        if [ "$OUT_FS" = tmpfs ]; then rm -rf "$out"; else mv "$out" "$(mktemp -d "$TRASH/XXXXXX")/"; fi
    fi
    settle
    sync
    local tfile="$WORK/time.txt" load1
    # Other processes on the machine skew wall times: record the load average.
    read -r load1 _ < /proc/loadavg
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tfile" "$@" >"$WORK/$tool.log" 2>&1; then
        echo "error: $tool failed (N=$n), see $WORK/$tool.log:" >&2
        tail -20 "$WORK/$tool.log" >&2
        exit 1
    fi
    local secs rss user sys cpu pages=0
    read -r secs rss user sys < <(tail -1 "$tfile")
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    if [ -d "$out" ]; then pages=$(find "$out" -name index.html -type f | wc -l); fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$n" "$run" "$secs" "$rss" "$cpu" "$pages" "$load1" >> "$RAW"
    log "$(printf '%-12s N=%-5s run %s: %6.2f s wall %6.2f s CPU %6d MB %6d pages (load %s)' \
        "$tool" "$n" "$run" "$secs" "$cpu" "$((rss / 1024))" "$pages" "$load1")"
}

# The corpus is generated again only when its inputs changed (no needless deletion).
stamp_of() {
    find "$BENCH/gen_corpus.py" "$BENCH/hugo" "$REPO/themes/default/static" -type f \
        | sort | xargs cat | sha256sum | cut -c1-16
    echo "N=$1"
}

for n in "${SIZES[@]}"; do
    corpus="$WORK/corpus-$n"
    if [ "$(cat "$corpus/.stamp" 2>/dev/null)" != "$(stamp_of "$n")" ]; then
        log "generating corpus N=$n"
        if [ -e "$corpus" ]; then mv "$corpus" "$(mktemp -d "$CORPUS_TRASH/XXXXXX")/"; fi
        python3 "$BENCH/gen_corpus.py" --services "$n" --out "$corpus" >&2
        stamp_of "$n" > "$corpus/.stamp"
    fi
    # Both tools read a warm corpus (it is in the page cache for every run).
    find "$corpus" -type f -exec cat {} + > /dev/null
    for run in $(seq 1 "$K"); do
        timed lotse-no-search "$n" "$run" "$OUT/lotse-$n" \
            "$LOTSE" build --no-search --content "$corpus/lotse/content" --out "$OUT/lotse-$n"
        timed lotse "$n" "$run" "$OUT/lotse-$n" \
            "$LOTSE" build --content "$corpus/lotse/content" --out "$OUT/lotse-$n"
        timed hugo "$n" "$run" "$OUT/hugo-$n" \
            hugo --source "$corpus/hugo" --destination "$OUT/hugo-$n" --quiet \
                 --cacheDir "$WORK/hugo-cache"
        # Hugo plus Pagefind's CLI over its output (service pages carry data-pagefind-body).
        timed hugo+pagefind "$n" "$run" "$OUT/hugo-$n" bash -c \
            'hugo --source "$1" --destination "$2" --quiet --cacheDir "$3" && "$4" --site "$2" --force-language de --quiet' \
            _ "$corpus/hugo" "$OUT/hugo-$n" "$WORK/hugo-cache" "$PAGEFIND"
        # Load and resolve only, no rendering: how Lotse's time splits.
        timed lotse-check "$n" "$run" "$OUT/none" \
            "$LOTSE" check --content "$corpus/lotse/content"
    done
done
delete_tree "$TRASH"
delete_tree "$CORPUS_TRASH"

{
    echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr)"
    echo "Tools: $("$LOTSE" --version) (git $LOTSE_REV when built), $(hugo version | cut -d' ' -f1-2)"
    echo "Output folder: $OUT ($(df -T "$OUT" | awk 'NR == 2 {print $2}'))"
    echo "Runs per tool and size: $K (medians; peak RSS is the largest of the runs)"
    echo "Load average (1 min) at the start of the runs: $(awk -F'\t' 'NR > 1 {print $8}' "$RAW" | sort -n | sed -n '1p;$p' | paste -sd- )"
    echo
    python3 "$BENCH/report.py" "$RAW"
} | tee "$WORK/results.md"
