// Search test (issue 6): queries the Pagefind index of a built site in headless Chromium.
//
//   node tests/browser/search.mjs <dist>        (normally from `cargo test --test search`)
//
// Serves <dist> itself on 127.0.0.1 with the headers of <dist>/_headers for /* (so the
// real Content-Security-Policy applies), drives the system Chromium (CHROMIUM, default
// /usr/bin/chromium) with playwright-core, and prints the bytes one query loads.
// Exits 1 if a check fails, 2 if Chromium or <dist> is missing.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

import { Steps, check, launchChromium } from './harness.mjs';

const dist = resolve(process.argv[2] || 'dist');
if (!existsSync(join(dist, 'pagefind', 'pagefind.js')) || !existsSync(join(dist, 'bottrop', 'pagefind', 'pagefind.js'))) {
  console.error(`error: ${dist}/pagefind/ or ${dist}/bottrop/pagefind/ missing: build the site with \`lotse build\` first`);
  process.exit(2);
}

// Headers for every path from the `/*` block of _headers (Cloudflare Pages format).
function globalHeaders() {
  const file = join(dist, '_headers');
  if (!existsSync(file)) return {};
  const headers = {};
  let inAll = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) { inAll = line.trim() === '/*'; continue; }
    if (inAll) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
  }
  return headers;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.xml': 'application/xml', '.txt': 'text/plain',
};
const extra = globalHeaders();
const notFound = [];
const server = createServer((req, res) => {
  let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  path = normalize(path).replace(/^(\.\.[/\\])+/, '');
  let file = join(dist, path);
  if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
  if (!file.startsWith(dist) || !existsSync(file)) {
    notFound.push(path);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  const body = readFileSync(file);
  res.writeHead(200, {
    ...extra,
    'content-type': TYPES[extname(file)] || 'application/octet-stream',
    'content-length': body.length,
  });
  res.end(body);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await launchChromium();

// SEARCH_BYTES_ONLY=1 (the corpus benchmark): only measure SEARCH_PATH's bytes.
const bytesOnly = !!process.env.SEARCH_BYTES_ONLY;
const bytesPath = process.env.SEARCH_PATH || '/bottrop/suche/?q=Hundesteuer';
const steps = new Steps(bytesOnly ? /^bytes for one query$/ : null);
const step = (name, fn) => steps.step(name, fn);

// Opens a search page and waits for the announced result count; returns the result
// links and what the status (aria-live) region said.
async function search(page, path) {
  await page.goto(base + path);
  await page.waitForFunction(() => {
    const s = document.getElementById('suchseite-status');
    return s && /Treffer|nicht verfügbar/.test(s.textContent);
  }, null, { timeout: 15000 });
  const status = await page.textContent('#suchseite-status');
  const links = await page.$$eval('#suchseite-treffer a', (as) =>
    as.map((a) => ({ url: new URL(a.href).pathname + new URL(a.href).hash, text: a.textContent })));
  return { status, links };
}

const context = await browser.newContext();
const page = await context.newPage();
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

await step('"Hundesteuer" finds "Hund anmelden" (keyword)', async () => {
  const r = await search(page, '/gelsenkirchen/suche/?q=Hundesteuer');
  check(r.links.some((l) => l.url === '/gelsenkirchen/hund-anmelden/'),
    `no /gelsenkirchen/hund-anmelden/ in ${JSON.stringify(r.links)}; status: ${r.status}; console: ${consoleErrors.join(' | ')}`);
  check(/\d+ Treffer/.test(r.status), `status does not announce a count: ${r.status}`);
});

for (const q of ['Führungszeugnis', 'Fuehrungszeugnis']) {
  await step(`"${q}" finds the Führungszeugnis`, async () => {
    const r = await search(page, `/bottrop/suche/?q=${encodeURIComponent(q)}`);
    check(r.links.some((l) => l.url === '/bottrop/fuehrungszeugnis/'),
      `no /bottrop/fuehrungszeugnis/ in ${JSON.stringify(r.links)}; status: ${r.status}`);
  });
}

await step("a portal's search returns only its own pages", async () => {
  // Dachbegrünung is a local service of Gelsenkirchen only.
  const own = await search(page, '/gelsenkirchen/suche/?q=Dachbegr%C3%BCnung');
  check(own.links.some((l) => l.url.startsWith('/gelsenkirchen/zuschuss-dachbegruenung')),
    `Gelsenkirchen does not find its own service: ${JSON.stringify(own.links)}`);
  for (const q of ['Dachbegrünung', 'Hund']) {
    const r = await search(page, `/bottrop/suche/?q=${encodeURIComponent(q)}`);
    const foreign = r.links.filter((l) => !l.url.startsWith('/bottrop/'));
    check(foreign.length === 0, `Bottrop's search for ${q} returns ${JSON.stringify(foreign)}`);
  }
});

await step('umbrella: a regional service is one hit linking every city that offers it', async () => {
  const r = await search(page, '/suche/?q=Hundesteuer');
  const hund = r.links.filter((l) => /^\/[^/]+\/hund-anmelden\/$/.test(l.url));
  check(hund.length >= 5, `expected links to Hund anmelden in several cities: ${JSON.stringify(r.links)}`);
  const items = await page.$$eval('#suchseite-treffer > li', (lis) => lis.map((li) => li.querySelector('h2').textContent));
  check(items.filter((t) => t === 'Hund anmelden').length === 1, `Hund anmelden listed ${JSON.stringify(items)}`);
  check(new Set(hund.map((l) => l.url)).size === hund.length, 'a city is linked twice');
});

await step('umbrella: filter by portal', async () => {
  const all = await search(page, '/suche/?q=Hund');
  const portals = new Set(all.links.map((l) => l.url.split('/')[1]));
  check(portals.size > 1, `unfiltered umbrella search should span portals: ${[...portals]}`);
  // Choose a portal in the form, as a keyboard user would.
  await page.selectOption('#suchseite-portal', 'gelsenkirchen');
  await page.waitForFunction(() => document.querySelectorAll('#suchseite-treffer a').length > 0 &&
    [...document.querySelectorAll('#suchseite-treffer a')].every((a) => new URL(a.href).pathname.startsWith('/gelsenkirchen/')),
  null, { timeout: 15000 });
  check(new URL(page.url()).searchParams.get('portal') === 'gelsenkirchen', `URL not updated: ${page.url()}`);
  const r = await search(page, '/suche/?q=Hund&portal=gelsenkirchen');
  check(r.links.length > 0 && r.links.every((l) => l.url.startsWith('/gelsenkirchen/')),
    `filtered umbrella search: ${JSON.stringify(r.links)}`);
});

await step('accessible: labelled fields, live region, keyboard', async () => {
  await page.goto(base + '/bottrop/suche/');
  const label = await page.$eval('label[for="suchseite-q"]', (l) => l.textContent.trim());
  check(label.length > 0, 'search field has no label');
  const live = await page.$eval('#suchseite-status', (s) => s.getAttribute('aria-live'));
  check(live === 'polite', `status region aria-live=${live}`);
  await page.focus('#suchseite-q');
  await page.keyboard.type('Sperrmüll');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Treffer/.test(document.getElementById('suchseite-status').textContent),
    null, { timeout: 15000 });
  check(new URL(page.url()).searchParams.get('q') === 'Sperrmüll', `URL not updated: ${page.url()}`);
});

await step('"Weitere Treffer anzeigen" adds hits and moves focus to the first new one', async () => {
  const r = await search(page, '/bottrop/suche/?q=Antrag');
  const total = Number((r.status.match(/(\d+) Treffer/) || [])[1]);
  check(total > r.links.length && r.links.length > 0, `expected more hits than shown: ${r.status}, ${r.links.length} shown`);
  check(await page.isVisible('#suchseite-mehr'), 'no "Weitere Treffer anzeigen" button');
  await page.focus('#suchseite-mehr');
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => document.querySelectorAll('#suchseite-treffer > li').length > n, r.links.length,
    { timeout: 15000 });
  const focused = await page.evaluate(() => {
    const items = [...document.querySelectorAll('#suchseite-treffer > li')];
    return items.findIndex((li) => li.contains(document.activeElement));
  });
  check(focused === r.links.length, `focus is on hit ${focused}, expected the first new one (${r.links.length})`);
});

await step('without JavaScript the page leads to A–Z and the topics', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const p = await ctx.newPage();
  await p.goto(base + '/bottrop/suche/?q=Hund');
  check(await p.isHidden('#suchseite'), 'the JS search form is visible without JS');
  check(await p.isVisible('a[href$="/a-z/"]'), 'no link to the A–Z page');
  await ctx.close();
});

// Bytes one query loads: a fresh browser context, a portal search page opened with ?q=.
let bytes = null;
await step('bytes for one query', async () => {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  const loads = [];
  p.on('response', async (resp) => {
    const url = new URL(resp.url());
    try {
      const body = await resp.body();
      loads.push({ path: url.pathname, raw: body.length, gzip: gzipSync(body).length });
    } catch { /* redirects have no body */ }
  });
  const r = await search(p, bytesPath);
  check(r.links.length > 0, 'no results');
  await p.waitForLoadState('networkidle');
  const index = loads.filter((l) => l.path.includes('/pagefind/'));
  const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
  bytes = {
    path: bytesPath, results: r.status,
    page_raw: sum(loads, 'raw'), page_gzip: sum(loads, 'gzip'),
    search_raw: sum(index, 'raw') + sum(loads.filter((l) => l.path.startsWith('/assets/search.js')), 'raw'),
    search_gzip: sum(index, 'gzip') + sum(loads.filter((l) => l.path.startsWith('/assets/search.js')), 'gzip'),
    files: index.map((l) => `${l.path} ${l.raw}`),
  };
  await ctx.close();
  // Issue 6's budget: under 100 KB over the wire for one query (gzip, as Cloudflare
  // and most servers send text; Pagefind's index files are gzip already).
  check(bytes.search_gzip < 100 * 1024, `one query loads ${bytes.search_gzip} bytes gzip, budget 100 KB`);
});

await browser.close();
server.close();
if (bytes) {
  console.log(`bytes for ${bytes.path} (${bytes.results}): whole page incl. search ${bytes.page_raw} raw / ${bytes.page_gzip} gzip; ` +
    `search only (pagefind + search.js) ${bytes.search_raw} raw / ${bytes.search_gzip} gzip`);
  for (const f of bytes.files) console.log(`     ${f}`);
}
if (notFound.length) console.log(`not found: ${[...new Set(notFound)].join(' ')}`);
await steps.step('no errors in the browser console', async () => {
  // A failed request or a script error on the search page is a bug (CSP, a missing file).
  check(consoleErrors.length === 0, consoleErrors.join(' | '));
});
process.exitCode = steps.summary();
