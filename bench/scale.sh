#!/usr/bin/env bash
# Scale: `lotse build`'s wall time, CPU time per page and peak memory against the size
# of the region (issue 17), with and without the search index.
#
#   bench/scale.sh 14x1300 42x1300          P portals x N services per portal
#   bench/scale.sh 396x2500                 ~1,000,000 service pages (~30 GB of disk)
#   K=3 bench/scale.sh 14x1300              K = runs per size and mode (default 1)
#   MODES="check" bench/scale.sh 396x2500   which runs, of: no-search search check
#                                           (default: all three; check = `lotse check`)
#   OUT=/dev/shm/scale bench/scale.sh ...   where the builds write (default
#                                           bench/work/scale-out)
#   bench/scale.sh --table [TSV]            the table of every run in TSV (default
#                                           bench/work/scale-runs.tsv), by binary
#   LOTSE=/path/to/lotse LOTSE_REV=abc1234 bench/scale.sh ...
#                                           measure that binary, built from LOTSE_REV
#                                           (default: build target/release/lotse with
#                                           cargo first and take `git describe`)
#
# For each size: generates the region (bench/gen_corpus.py --portals P --services N
# --lotse-only, fixed seed; the first 14 portals are bench/run.sh's, so 14x1300 is its
# N = 1300 corpus) into bench/work/region-PxN unless it is there already, reads it once
# into the page cache, then times each mode K times under /usr/bin/time from a missing
# output folder. The binary is copied before the first run, so a rebuild of
# target/release/lotse during the series changes nothing; `git describe` of the tree it
# was built from goes with every figure. Every run is appended to
# bench/work/scale-runs.tsv; the table of this invocation goes to bench/work/scale.md.
# Runs wait while bench/run.sh or CI (.ci/run) is running. See docs/benchmarks.md,
# "Scale: memory and time per page against region size".
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$BENCH")"
WORK="$BENCH/work"
K="${K:-1}"
MODES="${MODES:-no-search search check}"
OUT="${OUT:-$WORK/scale-out}"

# Disk needed, in KB per service page, measured on 14x1300 at commit 5c8bb06 (ext4,
# 4 KiB blocks) plus about 10 %: the corpus 6.5 KB (4.2 KB of Markdown in a file, the
# rest is block rounding); the site 17.3 KB without and 22.9 KB with the search index.
# RESERVE_MB stays free on top (the rest of the machine uses the disk too).
CORPUS_KB=7
SITE_KB_NO_SEARCH=19
SITE_KB_SEARCH=25
RESERVE_MB="${RESERVE_MB:-3072}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}
# table <tsv>: the Markdown table of the runs in a file in scale-runs.tsv's format, one
# line per binary, output file system, size and mode: median wall and CPU time, the
# largest peak RSS, and both against the smallest size of the same binary, file system
# and mode.
table() {
    python3 - "$1" <<'EOF'
import csv, statistics, sys
groups = {}
for r in csv.DictReader(open(sys.argv[1]), delimiter="\t"):
    groups.setdefault((r["rev"], r["sha"], r["out_fs"], r["size"], r["mode"]), []).append(r)
order = {"no-search": 0, "search": 1, "check": 2}
label = {"no-search": "`build --no-search`", "search": "`build`", "check": "`check`"}
print("| region (portals × services) | service pages | run | pages written | runs | wall s | µs/page (wall) | CPU s (sys) | µs/page (CPU) | peak RSS MB | against the smallest: µs/page (wall), RSS | search index s | load (1 min) | output | git |")
print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|")
def key(k):
    p, n = map(int, k[3].split("x"))
    return (k[0], k[1], k[2], p * n, p, order[k[4]])
first = {}  # (binary, fs, mode) -> (µs/page wall, RSS) of the smallest size
for k in sorted(groups, key=key):
    g = groups[k]
    p, n = k[3].split("x")
    services = int(g[0]["services"])
    f = lambda c: [float(r[c]) for r in g if r[c]]
    wall = statistics.median(f("seconds"))
    cpu = statistics.median(float(r["user"]) + float(r["sys"]) for r in g)
    sys_s = statistics.median(f("sys"))
    rss = max(f("max_rss_kb")) / 1024
    written = int(max(f("pages")))
    per = written or services  # check writes nothing: per service page of the corpus
    search = f("search_s")
    loads = sorted(f("load1"))
    load = f"{loads[0]:.1f}" if loads[0] == loads[-1] else f"{loads[0]:.1f}–{loads[-1]:.1f}"
    base = first.setdefault(k[:3] + (k[4],), (wall / per, rss))
    cells = [f"{p} × {n}", f"{services:,}", label[k[4]], f"{written:,}" if written else "", str(len(g)),
             f"{wall:.2f}", f"{wall / per * 1e6:.0f}", f"{cpu:.2f} ({sys_s:.2f})", f"{cpu / per * 1e6:.0f}",
             f"{rss:,.0f}", f"{wall / per / base[0]:.2f}×, {rss / base[1]:.2f}×",
             f"{statistics.median(search):.2f}" if search else "", load, k[2], k[0]]
    print("| " + " | ".join(cells) + " |")
print()
print("Medians of the runs; peak RSS is the largest. µs/page: per page written (`index.html` "
      "files), for `check` per service page of the corpus.")
EOF
}
if [ "${1:-}" = --table ]; then
    table "${2:-$BENCH/work/scale-runs.tsv}"
    exit 0
fi
[ "$#" -gt 0 ] || usage
SIZES=()
for size in "$@"; do
    [[ "$size" =~ ^([1-9][0-9]*)x([1-9][0-9]*)$ ]] || die "size \`$size\`: expected PxN, e.g. 42x1300"
    SIZES+=("$size")
done
for mode in $MODES; do
    case "$mode" in no-search | search | check) ;; *) die "MODES: unknown mode \`$mode\`" ;; esac
done
[[ "$K" =~ ^[1-9][0-9]*$ ]] || die "K must be a positive number"

command -v python3 >/dev/null || die "python3 is needed"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "python3 >= 3.10 is needed"
[ -x /usr/bin/time ] || die "/usr/bin/time is needed (apt-get install time)"

# --- the binary -----------------------------------------------------------------------
mkdir -p "$WORK" "$OUT"
if [ -z "${LOTSE:-}" ]; then
    command -v cargo >/dev/null || die "cargo is needed to build lotse (or set LOTSE=)"
    log "building lotse (release)"
    (cd "$REPO" && cargo build --release -p lotse --quiet)
    LOTSE="$REPO/target/release/lotse"
    LOTSE_REV="$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)"
else
    [ -x "$LOTSE" ] || die "LOTSE=$LOTSE is not an executable"
    LOTSE_REV="${LOTSE_REV:-given}"   # the caller knows what it was built from
fi
BIN="$WORK/scale-lotse"
cp "$LOTSE" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
BIN_SHA="$(sha256sum "$BIN" | cut -c1-12)"
log "measuring $LOTSE ($LOTSE_REV, sha256 $BIN_SHA, built $(date -r "$LOTSE" '+%F %T'))"

# --- deleting files without disturbing the timings (as bench/run.sh) ------------------
# On ext4 without a journal (as on these machines) the kernel skips inodes freed in the
# last 60 s when it allocates new ones, and that search shows up as seconds of system
# time in a build that writes many files right after an `rm -rf`. So old outputs are
# renamed into trash/ (instant) and deleted only when the disk needs the room or at the
# end, and a run waits until the last deletion is 60 s old. The stamp is bench/run.sh's.
DELETED_AT="$WORK/.deleted-at"
TRASH="$OUT/.trash"                # same file system as the outputs: renames are instant
CORPUS_TRASH="$WORK/.trash"
delete_tree() {
    [ -e "$1" ] || return 0
    log "deleting $1"
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
empty_trash() {
    delete_tree "$TRASH"
    delete_tree "$CORPUS_TRASH"
    mkdir -p "$TRASH" "$CORPUS_TRASH"
}
empty_trash                        # left over from an interrupted run

# --- disk space -----------------------------------------------------------------------
avail_mb() { df -Pk "$1" | awk 'NR == 2 { print int($4 / 1024) }'; }
trash_mb() { du -sk "$TRASH" "$CORPUS_TRASH" 2>/dev/null | awk '{ s += $1 } END { print int(s / 1024) }'; }
pages_of() { echo $(( ${1%x*} * ${1#*x} )); }
corpus_mb() { echo $(( $(pages_of "$1") * CORPUS_KB / 1024 + 1 )); }
site_mb() { # site_mb <size> <mode>
    case "$2" in
        search) echo $(( $(pages_of "$1") * SITE_KB_SEARCH / 1024 + 1 )) ;;
        no-search) echo $(( $(pages_of "$1") * SITE_KB_NO_SEARCH / 1024 + 1 )) ;;
        *) echo 0 ;;
    esac
}
# need_space <dir> <MB> <what>: empties the trash if that makes the room; refuses else.
need_space() {
    local dir="$1" mb="$2" what="$3" avail
    avail=$(avail_mb "$dir")
    if [ "$avail" -lt $(( mb + RESERVE_MB )) ] && [ "$(trash_mb)" -gt 0 ]; then
        empty_trash
        avail=$(avail_mb "$dir")
    fi
    if [ "$avail" -lt $(( mb + RESERVE_MB )) ]; then
        die "$what needs about $(( mb / 1024 + 1 )) GB in $(df -P "$dir" | awk 'NR == 2 { print $6 }') (plus ${RESERVE_MB} MB kept free), but only $(( avail / 1024 )) GB are free; free some space, set OUT= to another file system, or measure a smaller size"
    fi
}

stamp_of() { sha256sum "$BENCH/gen_corpus.py" | cut -c1-16; echo "size=$1 lotse-only"; }
corpus_ok() { [ "$(cat "$WORK/region-$1/.stamp" 2>/dev/null)" = "$(stamp_of "$1")" ]; }

# Before anything runs: the corpora still to make and the largest site must fit.
plan_mb=0 largest_mb=0
for size in "${SIZES[@]}"; do
    corpus_ok "$size" || plan_mb=$(( plan_mb + $(corpus_mb "$size") ))
    for mode in $MODES; do
        mb=$(site_mb "$size" "$mode")
        [ "$mb" -le "$largest_mb" ] || largest_mb=$mb
    done
done
if [ "$(df -P "$OUT" | awk 'NR == 2 { print $1 }')" = "$(df -P "$WORK" | awk 'NR == 2 { print $1 }')" ]; then
    need_space "$WORK" $(( plan_mb + largest_mb )) "this series (corpora ${plan_mb} MB, largest site ${largest_mb} MB)"
else
    need_space "$WORK" "$plan_mb" "the corpora of this series"
    need_space "$OUT" "$largest_mb" "the largest site of this series"
fi

# --- others' benchmarks and CI --------------------------------------------------------
wait_quiet() {
    local said=0
    while pgrep -f -- 'bench/run\.sh|\.ci/run' >/dev/null; do
        [ "$said" -eq 1 ] || log "bench/run.sh or .ci/run is running: waiting until it ends"
        said=1
        sleep 15
    done
}

# --- one timed run --------------------------------------------------------------------
RAW="$WORK/scale-runs.tsv"         # every run ever, appended
HEADER='time\tsize\tservices\tmode\trun\tseconds\tmax_rss_kb\tuser\tsys\tpages\tsite_kb\tsearch_s\tload1\trev\tsha\tout_fs\n'
# shellcheck disable=SC2059
[ -s "$RAW" ] || printf "$HEADER" > "$RAW"
SERIES="$(mktemp "$WORK/.scale-series.XXXXXX")"   # this invocation's runs
trap 'rm -f "$SERIES"' EXIT
# shellcheck disable=SC2059
printf "$HEADER" > "$SERIES"
OUT_FS="$(df -PT "$OUT" | awk 'NR == 2 { print $2 }')"
LOGS="$WORK/scale-logs"
mkdir -p "$LOGS"

timed() { # timed <size> <mode> <run>
    local size="$1" mode="$2" run="$3" corpus="$WORK/region-$1/lotse/content" site="$OUT/$1"
    local cmd=("$BIN" build --content "$corpus" --out "$site")
    case "$mode" in
        no-search) cmd+=(--no-search) ;;
        check) cmd=("$BIN" check --content "$corpus") ;;
    esac
    if [ -e "$site" ]; then
        # tmpfs has no such inode search, and its trash would take memory: delete at once.
        if [ "$OUT_FS" = tmpfs ]; then rm -rf "$site"; else mv "$site" "$(mktemp -d "$TRASH/XXXXXX")/"; fi
    fi
    need_space "$OUT" "$(site_mb "$size" "$mode")" "building $size ($mode)"
    wait_quiet
    settle
    sync
    local tfile="$WORK/.scale-time" logf="$LOGS/$size-$mode-$run.log" load1
    read -r load1 _ < /proc/loadavg
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tfile" "${cmd[@]}" >"$logf" 2>&1; then
        tail -20 "$logf" >&2
        die "lotse $mode failed on $size, see $logf"
    fi
    local secs rss user sys pages=0 site_kb=0 search_s=""
    read -r secs rss user sys < <(tail -1 "$tfile")
    if [ "$mode" != check ]; then
        pages=$(find "$site" -name index.html -type f | wc -l)
        site_kb=$(du -sk "$site" | cut -f1)
        # "… (… pages/s; search index: … MB in 16.21 s, …)"
        search_s=$(sed -n 's/.*search index: .* in \([0-9.]*\) s.*/\1/p' "$logf" | tail -1)
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$(date -u +%FT%TZ)" "$size" "$(pages_of "$size")" "$mode" "$run" "$secs" "$rss" "$user" "$sys" \
        "$pages" "$site_kb" "$search_s" "$load1" "$LOTSE_REV" "$BIN_SHA" "$OUT_FS" | tee -a "$RAW" >> "$SERIES"
    log "$(printf '%-9s %-9s run %s: %7.2f s wall %7.2f s CPU %6d MB peak RSS %7d pages (load %s)' \
        "$size" "$mode" "$run" "$secs" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" \
        "$((rss / 1024))" "$pages" "$load1")"
}

for size in "${SIZES[@]}"; do
    corpus="$WORK/region-$size"
    if ! corpus_ok "$size"; then
        if [ -e "$corpus" ]; then mv "$corpus" "$(mktemp -d "$CORPUS_TRASH/XXXXXX")/"; fi
        need_space "$WORK" "$(corpus_mb "$size")" "the corpus $size"
        log "generating $size ($(pages_of "$size") service pages) into $corpus"
        start=$(date +%s)
        python3 "$BENCH/gen_corpus.py" --portals "${size%x*}" --services "${size#*x}" --lotse-only \
            --out "$corpus" >&2
        stamp_of "$size" > "$corpus/.stamp"
        log "generated in $(( $(date +%s) - start )) s, $(du -sh "$corpus" | cut -f1) on disk"
    fi
    # Every run reads a warm corpus (it is in the page cache).
    find "$corpus" -type f -exec cat {} + > /dev/null
    for run in $(seq 1 "$K"); do
        for mode in $MODES; do
            timed "$size" "$mode" "$run"
        done
    done
done
empty_trash

# --- the table ------------------------------------------------------------------------
{
    echo "Machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr)"
    echo "Binary: $("$BIN" --version), git $LOTSE_REV, sha256 $BIN_SHA"
    echo "Output folder: $OUT ($OUT_FS); runs per size and mode: $K"
    echo
    table "$SERIES"
} | tee "$WORK/scale.md"
