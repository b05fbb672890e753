#!/usr/bin/env python3
"""Summarise bench/work/runs.tsv (written by bench/run.sh) as Markdown tables: per N,
Lotse and Hugo side by side, then the Hugo/Lotse ratios."""

import csv
import statistics
import sys
from collections import defaultdict


def main(path: str) -> None:
    runs = defaultdict(list)  # (tool, N) -> list of rows
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            runs[(row["tool"], int(row["N"]))].append(row)

    def stats(tool: str, n: int) -> dict:
        rows = runs[(tool, n)]
        return {
            "wall": statistics.median(float(r["seconds"]) for r in rows),
            "wall_min": min(float(r["seconds"]) for r in rows),
            "cpu": statistics.median(float(r["cpu_seconds"]) for r in rows),
            "rss_mb": max(int(r["max_rss_kb"]) for r in rows) / 1024,
            "pages": max(int(r["pages"]) for r in rows),
        }

    sizes = sorted({n for _, n in runs})
    print("| N per portal | service pages | tool | pages written | median wall time (min) | pages/s | CPU time (user+sys) | peak RSS |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for n in sizes:
        for tool in ("lotse", "lotse-no-search", "hugo+pagefind", "hugo"):
            if (tool, n) not in runs:
                continue
            s = stats(tool, n)
            print(f"| {n} | {14 * n:,} | {tool} | {s['pages']:,} | {s['wall']:.2f} s ({s['wall_min']:.2f} s) "
                  f"| {s['pages'] / max(s['wall'], 1e-9):,.0f} | {s['cpu']:.2f} s | {s['rss_mb']:,.0f} MB |")
    print()
    print("| N per portal | speed: Hugo wall / Lotse wall | Hugo CPU / Lotse CPU | memory: Hugo RSS / Lotse RSS | `lotse check` (load + resolve), median wall |")
    print("|---:|---:|---:|---:|---:|")
    for n in sizes:
        if ("lotse", n) not in runs or ("hugo", n) not in runs:
            continue
        # Like for like: rendering only (the index is compared in the next table).
        lo = stats("lotse-no-search" if ("lotse-no-search", n) in runs else "lotse", n)
        hu = stats("hugo", n)
        check = ""
        if ("lotse-check", n) in runs:
            c = stats("lotse-check", n)["wall"]
            check = f"{c:.2f} s ({100 * c / max(lo['wall'], 1e-9):.0f} % of the build)"
        print(f"| {n} | {hu['wall'] / max(lo['wall'], 1e-9):.1f}× | {hu['cpu'] / max(lo['cpu'], 1e-9):.1f}× "
              f"| {hu['rss_mb'] / max(lo['rss_mb'], 1e-9):.1f}× | {check} |")
    pairs = [("lotse-no-search", "hugo", "without search"), ("lotse", "hugo+pagefind", "with search index")]
    if any((a, n) in runs and (b, n) in runs for a, b, _ in pairs for n in sizes):
        print()
        print("| N per portal | compared | speed: Hugo wall / Lotse wall | memory: Hugo RSS / Lotse RSS | search index adds to Lotse |")
        print("|---:|---|---:|---:|---:|")
        for n in sizes:
            for a, b, label in pairs:
                if (a, n) not in runs or (b, n) not in runs:
                    continue
                lo, hu = stats(a, n), stats(b, n)
                adds = ""
                if a == "lotse" and ("lotse-no-search", n) in runs:
                    adds = f"{lo['wall'] - stats('lotse-no-search', n)['wall']:.2f} s"
                print(f"| {n} | {label} | {hu['wall'] / max(lo['wall'], 1e-9):.1f}× "
                      f"| {hu['rss_mb'] / max(lo['rss_mb'], 1e-9):.1f}× | {adds} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/work/runs.tsv")
