// The caseworkers' workspace (/amt/, docs/workspace.md) in Chromium, against a running
// `lotse serve` whose staff login goes to the test OpenID provider
// (tests/oidc-provider/server.mjs, its workspace client and staff accounts):
//
//   LOTSE_OFFICE_TOKEN=… node tests/browser/workspace.mjs http://127.0.0.1:8080 [--screenshots DIR]
//
// Applications are submitted to Bottrop's and Gelsenkirchen's Bürgerbüro (JSON API), the
// Bottrop citizen sends a photo. Petra Schulte (bottrop/buergerbuero) logs in by keyboard,
// is refused another office's key file, imports hers, opens the application (decrypted in
// the browser, labels from the form schema), downloads the citizen's photo byte for
// byte, sets a status with a note, replies with a PDF asking for documents (needs_info;
// the citizen's API sees text, status and file), exports JSON and prints, reads the
// audit log, and logs out: the key is gone from IndexedDB. Murat Yilmaz
// (gelsenkirchen/buergerbuero, by login_hint) sees only his office; Bottrop's
// application is 404 and its inbox 403 for him; a session that ends says so with a link
// to log in again. Every request of both browser contexts (URL, headers, body) and every
// console line is recorded: none may carry a private key, as base64, base64url, hex or
// raw bytes. axe-core (WCAG 2.1 A/AA) with zero violations and reflow at 320 px on
// every workspace page. LOTSE_OFFICE_TOKEN (the server's office token) lets the test
// check the office API as a machine. Exits 1 if a check fails, 2 if Chromium or the
// token is missing. Normally started by `cargo test --test browser_workspace`.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { pdf, png, sha256 } from './fixtures.mjs';
import { Steps, check, checkAxe, focusVisible as focusShown, focused, launchChromium, newContext as freshContext, options, overflow, runAxe, tabTo as tabUntil } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const { base, only, shotsDir } = options();
if (shotsDir) mkdirSync(shotsDir, { recursive: true });
const OFFICE_TOKEN = process.env.LOTSE_OFFICE_TOKEN;
if (!OFFICE_TOKEN) {
  console.error('error: LOTSE_OFFICE_TOKEN must be the office token of the server under test');
  process.exit(2);
}

const BOTTROP = 'bottrop/buergerbuero';
const GELSENKIRCHEN = 'gelsenkirchen/buergerbuero';
const keyFile = (office) => resolve(here, `../../examples/office-keys/${office}.key`);
const NOTE = 'Wir prüfen Ihre Fundmeldung und melden uns.';
const REPLY = 'Bitte senden Sie uns noch eine Kopie Ihres Personalausweises.';
const CITIZEN_TEXT = 'Hier ein Foto des Fahrrads.';

// ---------------------------------------------------------------- files
const work = mkdtempSync(join(tmpdir(), 'lotse-workspace-'));

const PHOTO = png(20, 12, [29, 41, 7]);
const PHOTO_NAME = 'fahrrad.png';
const REQUEST_PDF = pdf('Bitte Ausweiskopie nachreichen');
const REQUEST_PDF_NAME = 'nachforderung.pdf';
const REQUEST_PDF_PATH = join(work, REQUEST_PDF_NAME);
writeFileSync(REQUEST_PDF_PATH, REQUEST_PDF);

// ---------------------------------------------------------------- what must never leave
/** Every spelling of a key file's private key that a leak could take. */
function secretsOf(office) {
  const text = readFileSync(keyFile(office), 'utf8');
  const b64 = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
  const raw = Buffer.from(b64, 'base64');
  check(raw.length === 32, `${office}.key: not 32 bytes`);
  const url = raw.toString('base64url');
  return {
    office,
    text: [b64, b64.replace(/=+$/, ''), url, encodeURIComponent(b64), raw.toString('hex'), text.trim()],
    raw,
  };
}
const SECRETS = [secretsOf(BOTTROP), secretsOf(GELSENKIRCHEN), secretsOf('bottrop/standesamt')];

/** Requests, as the browser sent them, and console lines, of every context. */
const recorded = [];
const consoleLines = [];
function record(ctx, who) {
  ctx.on('request', (r) => {
    let body = null;
    try {
      body = r.postDataBuffer();
    } catch {
      body = null;
    }
    recorded.push({ who, method: r.method(), url: r.url(), headers: r.headers(), body, page: r.frame()?.page() });
  });
  ctx.on('console', (m) => consoleLines.push(`${who}: ${m.type()}: ${m.text()}`));
  ctx.on('requestfailed', (r) => failedRequests.push(`${who}: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
}
const failedRequests = [];

// ---------------------------------------------------------------- the server, as a machine
async function http(method, path, { json, form, token, headers = {} } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, redirect: 'manual' };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  if (form) init.body = form;
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

const FUNDSACHE = {
  meldung: 'einen Fund melden',
  kategorie: 'Fahrrad',
  datum: '2026-11-20',
  ort: 'Bushaltestelle Pferdemarkt',
  beschreibung: 'Rotes Damenrad mit Korb.\nRahmennummer unleserlich.',
};

async function apply(portal, fields) {
  const answer = await http('POST', '/api/applications', { json: { portal, service: 'fundsache-melden', fields } });
  check(answer.status === 201, `submitting to ${portal}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body; // {id, token}
}

// ---------------------------------------------------------------- browser
const steps = new Steps(only);
const step = (name, fn) => steps.step(name, fn);
const needs = (...earlier) => steps.needs(...earlier);
const browser = await launchChromium();

async function newContext(who) {
  // Nothing but loopback: the login runs between `lotse serve` and the provider.
  const ctx = await freshContext(browser, { acceptDownloads: true }, { loopbackOnly: true });
  record(ctx, who);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => consoleLines.push(`${who}: pageerror: ${e.message}`));
  return { ctx, page };
}

const petra = await newContext('petra');
let page = petra.page;

const active = () => focused(page);
/** Tabs forward until the focused element's id (or text) is `target`. */
const tabTo = (target, limit = 120) => tabUntil(page, target, { limit });
const focusVisible = () => focusShown(page);

/** Waits until the page has decided: the workspace (`#ap-seite`) or the login panel. */
async function settled() {
  await page.waitForFunction(() => !document.getElementById('ap-seite').hidden || !document.getElementById('ap-anmeldung').hidden, null, { timeout: 15000 });
}

const text = async (selector) => (await page.locator(selector).innerText()).trim();
const status = async () => text('#ap-meldung');
const alert = async () => text('#ap-fehler');

/** Waits for the alert region to say something; returns it. */
async function alerted(timeout = 15000) {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    const now = await alert().catch(() => '');
    if (now) return now;
    await page.waitForTimeout(100);
  }
  const last = recorded.filter((r) => r.page === page).slice(-3).map((r) => `${r.method} ${r.url}`);
  throw new Error(`the alert region stayed empty on ${page.url()}; status: "${await status().catch(() => '?')}"; last requests: ${last.join(', ')}`);
}

/** Waits for the polite status region to say `pattern` (or the alert region to fail). */
async function says(pattern, timeout = 15000) {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    const now = await status();
    if (pattern.test(now)) return now;
    const error = await alert();
    if (error) throw new Error(`the alert region says: ${error} (waiting for ${pattern})`);
    await page.waitForTimeout(100);
  }
  throw new Error(`the status region never said ${pattern}; it says: ${await status()}`);
}

async function shot(name) {
  if (shotsDir) await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

/** axe-core (WCAG 2.1 A/AA; zero violations) and reflow at 320 px on the page as it is. */
async function accessibility(label) {
  await step(`axe (WCAG 2.1 A/AA): ${label}`, async () => {
    checkAxe(await runAxe(page), label, { url: page.url() });
  });
  await step(`reflow at 320 px: ${label}`, async () => {
    const before = page.viewportSize();
    await page.setViewportSize({ width: 320, height: 800 });
    try {
      // Inside a table's own scrolling region is allowed (WCAG 1.4.10, data tables).
      const { scroll, culprits } = await overflow(page, { skip: '.ap-rolle' });
      check(scroll <= 320, `${label} scrolls sideways at 320 px (${scroll} px): ${culprits.join(', ')}`);
    } finally {
      await page.setViewportSize(before);
    }
  });
}

/** IndexedDB `lotse-amt`: `null` when the database does not exist, else its records
 *  described (office, whether the wrapping key is a non-extractable CryptoKey, the
 *  stored data's type). */
const storedKeys = () =>
  page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    if (!names.includes('lotse-amt')) return null;
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open('lotse-amt');
      r.onsuccess = () => ok(r.result);
      r.onerror = () => no(r.error);
    });
    try {
      if (!db.objectStoreNames.contains('keys')) return [];
      const all = await new Promise((ok, no) => {
        const r = db.transaction('keys').objectStore('keys').getAll();
        r.onsuccess = () => ok(r.result);
        r.onerror = () => no(r.error);
      });
      return all.map((k) => ({
        office: k.office,
        cryptoKey: k.wrap instanceof CryptoKey,
        extractable: k.wrap?.extractable,
        algorithm: k.wrap?.algorithm?.name,
        data: Object.prototype.toString.call(k.data),
        dataBytes: Array.from(new Uint8Array(k.data)),
      }));
    } finally {
      db.close();
    }
  });

const S = {
  setup: '0. applications to Bottrop and Gelsenkirchen (JSON API), the Bottrop citizen sends a photo',
  panel: '1a. /amt/ without a session: the login panel with "Anmelden" (return to /amt/)',
  login: '1b. "Anmelden" by keyboard -> provider -> Posteingang of Petra Schulte',
  inbox: '2. Posteingang: Bürgerbüro Bottrop, tab "Neu" with its count, 50 of 52 listed, no key yet; Gelsenkirchen\'s not',
  more: '2b. "Weitere laden" by keyboard: the next page (cursor), the focus on its first row, announced',
  wrongKey: '3. Schlüssel: a PDF and another office\'s key file are refused with clear messages, nothing stored',
  key: '4. Schlüssel: the Bürgerbüro\'s key file by keyboard -> checked, stored encrypted in IndexedDB (non-extractable AES-GCM)',
  open: '5. open the application by keyboard: decrypted, labels from the form schema, the citizen\'s message and photo (byte for byte)',
  status: '6. status "In Bearbeitung" with a note by keyboard -> status region, history; the API and the citizen see it',
  reply: '7. reply with a PDF and "Unterlagen anfordern" by keyboard -> needs_info; the citizen reads text, status and the file',
  filter: '8. Posteingang: the tab "Rückfrage" lists it, the others not; search by Vorgangsnummer; filter by service',
  export: '9. export as JSON (download: decrypted fields and messages, no file keys) and the print page with "Drucken"',
  audit: '10. Protokoll: status, message, both file downloads and both exports by Petra Schulte, newest first, no content',
  logout: '11. "Abmelden" by keyboard: the keys are gone from IndexedDB, then the session; the login panel says so',
  murat: '12. Murat Yilmaz (login_hint): only Gelsenkirchen\'s Bürgerbüro; Bottrop\'s application 404, its inbox 403',
  remove: '12b. "Schlüssel entfernen" by keyboard: gone from IndexedDB; the Vorgang says the key is missing and shows no field',
  expired: '13. a session that ends: the next request says so in the alert region with "Erneut anmelden"',
  jana: '13b. Jana Kowalski (two offices): the office chooser by keyboard; the choice is kept; an office without applications says so',
  noscript: '13c. without JavaScript every workspace page says it needs JavaScript and that the citizen portal does not',
  leak: '14. no request of either browser (URL, headers, body) and no console line carries a private key',
  errors: '15. no script errors on any workspace page',
};

let bottrop = null; // {id, token}
let gelsenkirchen = null;
let second = null;
const EXTRA = 50;
const NEW_TOTAL = 2 + EXTRA;

await step(S.setup, async () => {
  bottrop = await apply('bottrop', FUNDSACHE);
  second = await apply('bottrop', { ...FUNDSACHE, kategorie: 'Schlüssel', beschreibung: 'Schlüsselbund mit rotem Anhänger.' });
  gelsenkirchen = await apply('gelsenkirchen', { ...FUNDSACHE, ort: 'Musiktheater im Revier' });
  // Enough for a second page of the Posteingang (50 a page), a second later: the list is
  // oldest first by the time of arrival (whole seconds), so the first two stay first.
  await new Promise((ok) => setTimeout(ok, 1100));
  for (let i = 0; i < EXTRA; i++) await apply('bottrop', { ...FUNDSACHE, kategorie: 'Sonstiges', beschreibung: `Regenschirm Nr. ${i + 1}` });
  const form = new FormData();
  form.append('text', CITIZEN_TEXT);
  form.append('file', new Blob([PHOTO], { type: 'image/png' }), PHOTO_NAME);
  const sent = await http('POST', `/api/applications/${bottrop.id}/messages`, { form, token: bottrop.token });
  check(sent.status === 201, `the citizen's message: ${sent.status} ${JSON.stringify(sent.body)}`);
});

// ---------------------------------------------------------------- 1. login
await step(S.panel, async () => {
  needs(S.setup);
  await page.goto(`${base}/amt/`);
  await settled();
  check(await page.locator('#ap-anmeldung').isVisible(), 'no login panel without a session');
  check(!(await page.locator('#ap-seite').isVisible()), 'the workspace shows without a session');
  const href = await page.getAttribute('#ap-anmelden', 'href');
  check(href === '/api/amt/login?return=%2Famt%2F', `the login link is ${href}`);
  await shot('amt-anmeldung');
});
await accessibility('the login panel (no session)');

await step(S.login, async () => {
  needs(S.panel);
  await page.goto(`${base}/amt/`);
  await settled();
  // Keyboard: the skip link first, then to "Anmelden", Enter.
  await page.keyboard.press('Tab');
  check((await active()) === 'Zum Inhalt springen', `first Tab stop is ${await active()}, not the skip link`);
  await focusVisible();
  await tabTo('ap-anmelden');
  await focusVisible();
  await Promise.all([page.waitForURL(`${base}/amt/`, { timeout: 20000 }), page.keyboard.press('Enter')]);
  await settled();
  check(await page.locator('#ap-seite').isVisible(), `after the login the workspace does not show: ${await page.locator('main').innerText()}`);
  const name = await text('#ap-name');
  check(name === 'Petra Schulte', `logged in as "${name}"`);
});

// ---------------------------------------------------------------- 2. Posteingang
await step(S.inbox, async () => {
  needs(S.login);
  check((await text('#ap-dienststelle-name')) === 'Bürgerbüro im Rathaus – Stadt Bottrop', `office: ${await text('#ap-dienststelle-name')}`);
  check(await page.locator('#ap-dienststelle').isHidden(), 'an office chooser for a single office');
  await page.waitForSelector('#ap-liste-zeilen tr');
  const neu = page.locator('[data-ansicht="neu"]');
  check((await neu.getAttribute('aria-current')) === 'page', 'tab "Neu" is not the current view');
  await page.waitForFunction(() => document.querySelector('[data-zahl="neu"]').textContent.length > 0);
  const tabs = page.getByRole('navigation', { name: 'Ansichten des Posteingangs' });
  check((await tabs.getByRole('link', { name: new RegExp(`^Neu\\s*:\\s*${NEW_TOTAL}\\s+Anträge$`) }).count()) === 1, `tab "Neu" reads "${await neu.innerText()}"`);
  check((await tabs.getByRole('link', { name: /^Rückfrage\s*:\s*0\s+Anträge$/ }).count()) === 1, 'tab "Rückfrage" has no count 0');
  const ids = await page.locator('#ap-liste-zeilen th a').allInnerTexts();
  check(ids.includes(bottrop.id) && ids.includes(second.id), `listed: ${ids}`);
  check(!ids.includes(gelsenkirchen.id), 'Gelsenkirchen\'s application is listed for Bottrop');
  const row = await page.locator('#ap-liste-zeilen tr', { hasText: bottrop.id }).innerText();
  check(/Fundsache melden oder Verlust anzeigen/.test(row) && /Eingegangen/.test(row), `row: ${row}`);
  check(await page.locator('#ap-ohne-schluessel').isVisible(), 'no notice that the key is missing');
  check((await text('#ap-anzahl')) === `50 von ${NEW_TOTAL} angezeigt.`, `count: ${await text('#ap-anzahl')}`);
  check(ids.length === 50, `the first page has ${ids.length} rows`);
  await shot('amt-posteingang');
});
await accessibility('Posteingang');

await step(S.more, async () => {
  needs(S.inbox);
  await page.focus('#ap-nummer');
  await tabTo('ap-weitere');
  await focusVisible();
  await page.keyboard.press('Enter');
  await says(new RegExp(`2 weitere Anträge geladen, ${NEW_TOTAL} von ${NEW_TOTAL} angezeigt`));
  const ids = await page.locator('#ap-liste-zeilen th a').allInnerTexts();
  check(ids.length === NEW_TOTAL && new Set(ids).size === NEW_TOTAL, `after "Weitere laden": ${ids.length} rows, ${new Set(ids).size} different`);
  check(await page.locator('#ap-weitere').isHidden(), '"Weitere laden" shows after the last page');
  check((await active()) === ids[50], `the focus is on ${await active()}, not the first new row (${ids[50]})`);
});

// ---------------------------------------------------------------- 3./4. keys
await step(S.wrongKey, async () => {
  needs(S.login);
  await page.goto(`${base}/amt/schluessel/`);
  await settled();
  const rows = await text('#ap-schluessel-zeilen');
  check(/Bürgerbüro im Rathaus/.test(rows) && /Kein Schlüssel/.test(rows), `key table: ${rows}`);
  // Not a key file at all.
  await page.setInputFiles('#ap-import-datei', REQUEST_PDF_PATH);
  await page.click('#ap-import button[type=submit]');
  const notKey = await alerted();
  check(new RegExp(`„${REQUEST_PDF_NAME}“ ist keine gültige Schlüsseldatei`).test(notKey), `a PDF as key file: ${notKey}`);
  check((await text('#ap-import-ergebnis')) === notKey, `next to the form: ${await text('#ap-import-ergebnis')}`);
  // Another office's key.
  await page.setInputFiles('#ap-import-datei', keyFile('bottrop/standesamt'));
  await page.click('#ap-import button[type=submit]');
  await page.waitForFunction(() => !/keine gültige/.test(document.getElementById('ap-fehler').innerText));
  const error = await alerted();
  check(/gehört nicht zu „Bürgerbüro im Rathaus – Stadt Bottrop“/.test(error) && /Standesamt Bottrop/.test(error), `the refusal says: ${error}`);
  check((await storedKeys()) === null || (await storedKeys()).length === 0, 'a wrong key was stored');
});
await accessibility('Schlüssel, a key file refused');

await step(S.key, async () => {
  needs(S.login);
  await page.goto(`${base}/amt/schluessel/`);
  await settled();
  await page.keyboard.press('Tab');
  await tabTo('ap-import-dienststelle');
  check((await page.inputValue('#ap-import-dienststelle')) === BOTTROP, 'the chosen office');
  await page.keyboard.press('Tab');
  check((await active()) === 'ap-import-datei', `Tab went to ${await active()}, not the file field`);
  await focusVisible();
  // The file dialog is the system's; its choice is set on the focused field.
  await page.setInputFiles('#ap-import-datei', keyFile(BOTTROP));
  await page.keyboard.press('Tab');
  check(/Schlüssel prüfen und hinterlegen/.test((await active()) || ''), `Tab went to ${await active()}`);
  await page.keyboard.press('Enter');
  await says(/ist geprüft und in diesem Browser hinterlegt/);
  const rows = await text('#ap-schluessel-zeilen');
  check(/Hinterlegt am/.test(rows), `key table: ${rows}`);
  const stored = await storedKeys();
  check(stored && stored.length === 1 && stored[0].office === BOTTROP, `IndexedDB: ${JSON.stringify(stored?.map((k) => k.office))}`);
  const k = stored[0];
  check(k.cryptoKey && k.extractable === false && k.algorithm === 'AES-GCM', `the wrapping key: ${JSON.stringify({ ...k, dataBytes: undefined })}`);
  check(k.data === '[object ArrayBuffer]', `stored data: ${k.data}`);
  // Encrypted: neither the key nor the file's text is in what is stored.
  const storedBytes = Buffer.from(k.dataBytes);
  for (const s of SECRETS.filter((x) => x.office === BOTTROP)) {
    check(!storedBytes.includes(s.raw), 'the raw key is stored in clear');
    for (const t of s.text) check(!storedBytes.includes(Buffer.from(t)), 'the key text is stored in clear');
  }
  const input = await page.inputValue('#ap-import-datei');
  check(input === '', 'the file field keeps the key file');
  check((await page.getAttribute('#ap-import-datei', 'name')) === null, 'the key file field has a name (a form submission would send it)');
  await shot('amt-schluessel');
});
await accessibility('Schlüssel, key stored');

// ---------------------------------------------------------------- 5. open
await step(S.open, async () => {
  needs(S.key);
  await page.goto(`${base}/amt/`);
  await settled();
  await page.waitForSelector('#ap-liste-zeilen tr');
  check(await page.locator('#ap-ohne-schluessel').isHidden(), 'the missing-key notice shows with a key');
  await page.keyboard.press('Tab');
  await tabTo(bottrop.id);
  await focusVisible();
  await Promise.all([page.waitForURL(/\/amt\/vorgang\/\?id=/), page.keyboard.press('Enter')]);
  await settled();
  await page.waitForSelector('#ap-angaben dt');
  const h1 = await text('h1');
  check(h1 === `Antrag ${bottrop.id}: Fundsache melden oder Verlust anzeigen`, `h1: ${h1}`);
  const fields = await page.evaluate(() => {
    const out = {};
    const dts = document.querySelectorAll('#ap-angaben dt');
    for (const dt of dts) out[dt.textContent.trim()] = dt.nextElementSibling.textContent;
    return out;
  });
  check(fields['Art des Gegenstands'] === 'Fahrrad', `fields: ${JSON.stringify(fields)}`);
  check(fields['Ich möchte'] === 'einen Fund melden', `fields: ${JSON.stringify(fields)}`);
  check(fields['Datum des Verlusts oder Funds'] === '20.11.2026', `date: ${fields['Datum des Verlusts oder Funds']}`);
  check(fields['Beschreibung'] === FUNDSACHE.beschreibung, `description: ${JSON.stringify(fields['Beschreibung'])}`);
  check(fields['Telefonnummer'] === 'keine Angabe', `telephone: ${fields['Telefonnummer']}`);
  await page.waitForSelector('#ap-nachrichten li');
  const thread = await text('#ap-nachrichten');
  check(thread.includes(CITIZEN_TEXT) && /Antragstellende Person/.test(thread), `thread: ${thread}`);
  const file = page.getByRole('button', { name: new RegExp(`${PHOTO_NAME}.*herunterladen`) });
  check((await file.count()) === 1, `no download button for ${PHOTO_NAME}: ${thread}`);
  await file.focus();
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  check(download.suggestedFilename() === PHOTO_NAME, `downloaded as ${download.suggestedFilename()}`);
  const bytes = readFileSync(await download.path());
  check(sha256(bytes) === sha256(PHOTO), `the photo differs (${bytes.length} bytes, ${PHOTO.length} sent)`);
  await shot('amt-vorgang');
});
await accessibility('Vorgang, opened');

// ---------------------------------------------------------------- 6. status
await step(S.status, async () => {
  needs(S.open);
  await page.focus('#ap-neuer-status');
  await focusVisible();
  await page.keyboard.type('In Bearbeitung');
  check((await page.inputValue('#ap-neuer-status')) === 'in_progress', `typing chose ${await page.inputValue('#ap-neuer-status')}`);
  await page.keyboard.press('Tab');
  check((await active()) === 'ap-notiz', `Tab went to ${await active()}`);
  await page.keyboard.type(NOTE);
  await page.keyboard.press('Tab');
  check((await active()) === 'Status speichern', `Tab went to ${await active()}`);
  await page.keyboard.press('Enter');
  await says(/Der Status ist jetzt „In Bearbeitung“/);
  check(/Der Status ist jetzt „In Bearbeitung“\. Der Hinweis wurde verschlüsselt zugestellt\./.test(await text('#ap-status-ergebnis')), `next to the form: ${await text('#ap-status-ergebnis')}`);
  check((await text('#ap-status-jetzt')) === 'In Bearbeitung', 'current status');
  check(/In Bearbeitung/.test(await text('#ap-verlauf-zeilen')), 'history');
  await page.waitForFunction((note) => document.getElementById('ap-nachrichten').innerText.includes(note), NOTE);
  const api = await http('GET', `/api/office/applications/${bottrop.id}`, { token: OFFICE_TOKEN });
  check(api.status === 200 && api.body.status === 'in_progress', `the API: ${api.status} ${api.body.status}`);
  const citizen = await http('GET', `/api/applications/${bottrop.id}/messages`, { token: bottrop.token });
  check(citizen.status === 200 && citizen.body.messages.some((m) => m.text === NOTE), `the citizen does not read the note: ${JSON.stringify(citizen.body)}`);
});

// ---------------------------------------------------------------- 7. reply
await step(S.reply, async () => {
  needs(S.open);
  await page.focus('#ap-text');
  await page.keyboard.type(REPLY);
  await page.keyboard.press('Tab');
  check((await active()) === 'ap-dateien', `Tab went to ${await active()}`);
  await page.setInputFiles('#ap-dateien', REQUEST_PDF_PATH);
  await page.keyboard.press('Tab');
  check((await active()) === 'ap-unterlagen', `Tab went to ${await active()}`);
  await page.keyboard.press('Space');
  check(await page.isChecked('#ap-unterlagen'), 'Space did not tick "Unterlagen anfordern"');
  await page.keyboard.press('Tab');
  check((await active()) === 'Nachricht senden', `Tab went to ${await active()}`);
  await page.keyboard.press('Enter');
  await says(/Die Nachricht mit einer Datei wurde verschlüsselt gesendet\. Der Status ist jetzt „Rückfrage“/);
  check((await text('#ap-status-jetzt')) === 'Rückfrage', `status: ${await text('#ap-status-jetzt')}`);
  check((await page.inputValue('#ap-text')) === '', 'the reply is still in the field');
  await page.waitForFunction((reply) => document.getElementById('ap-nachrichten').innerText.includes(reply), REPLY);
  // The office's own file opens again in the browser, byte for byte.
  const file = page.getByRole('button', { name: new RegExp(`${REQUEST_PDF_NAME}.*herunterladen`) });
  const [download] = await Promise.all([page.waitForEvent('download'), file.click()]);
  check(sha256(readFileSync(await download.path())) === sha256(REQUEST_PDF), 'the PDF opened differs');
  const citizen = await http('GET', `/api/applications/${bottrop.id}/messages`, { token: bottrop.token });
  const message = citizen.body.messages.find((m) => m.text === REPLY);
  check(message && message.from === 'office', `the citizen does not read the reply: ${JSON.stringify(citizen.body)}`);
  check(message.attachments.length === 1 && message.attachments[0].name === REQUEST_PDF_NAME, `attachments: ${JSON.stringify(message.attachments)}`);
  const got = await fetch(`${base}/api/applications/${bottrop.id}/attachments/${message.attachments[0].id}`, { headers: { authorization: `Bearer ${bottrop.token}` } });
  check(sha256(Buffer.from(await got.arrayBuffer())) === sha256(REQUEST_PDF), 'the citizen gets another PDF');
  const state = await http('GET', `/api/applications/${bottrop.id}`, { token: bottrop.token });
  check(state.body.status === 'needs_info', `the citizen's status: ${state.body.status}`);
  await shot('amt-vorgang-antwort');
});
await accessibility('Vorgang, after status change and reply');

// ---------------------------------------------------------------- 8. views and filters
await step(S.filter, async () => {
  needs(S.reply);
  await page.click('#ap-zurueck');
  await settled();
  await page.waitForSelector('#ap-liste-zeilen tr');
  let ids = await page.locator('#ap-liste-zeilen th a').allInnerTexts();
  check(!ids.includes(bottrop.id) && ids.includes(second.id), `"Neu" lists ${ids.slice(0, 5)}…`);
  await page.locator('[data-ansicht="rueckfrage"]').click();
  await page.waitForURL(/ansicht=rueckfrage/);
  await settled();
  await page.waitForSelector('#ap-liste-zeilen tr');
  ids = await page.locator('#ap-liste-zeilen th a').allInnerTexts();
  check(ids.length === 1 && ids[0] === bottrop.id, `"Rückfrage" lists ${ids}`);
  check((await page.locator('[data-ansicht="rueckfrage"]').getAttribute('aria-current')) === 'page', 'the current view');
  // Search by Vorgangsnummer (lower case is fine), across views.
  await page.fill('#ap-nummer', second.id.toLowerCase());
  await Promise.all([page.waitForURL(/id=/), page.press('#ap-nummer', 'Enter')]);
  await settled();
  await page.waitForSelector('#ap-liste-zeilen tr');
  ids = await page.locator('#ap-liste-zeilen th a').allInnerTexts();
  check(ids.length === 1 && ids[0] === second.id, `the search lists ${ids}`);
  check(/Vorgangsnummer/.test(await text('#ap-liste-titel')), `caption: ${await text('#ap-liste-titel')}`);
  // An unknown number: said in words.
  await page.goto(`${base}/amt/?id=ZZZZ-ZZZZ`);
  await settled();
  await page.waitForFunction(() => !document.getElementById('ap-leer').hidden);
  check(/Kein Antrag mit der Vorgangsnummer ZZZZ-ZZZZ/.test(await text('#ap-leer')), `no hit: ${await text('#ap-leer')}`);
  // The service filter: the options name their count.
  await page.goto(`${base}/amt/?ansicht=neu`);
  await settled();
  await page.waitForSelector('#ap-liste-zeilen tr');
  const option = await page.locator('#ap-leistung option[value="fundsache-melden"]').innerText();
  check(option === `Fundsache melden oder Verlust anzeigen (${NEW_TOTAL})`, `option: ${option}`);
  await page.selectOption('#ap-leistung', 'fundsache-melden');
  await Promise.all([page.waitForURL(/leistung=fundsache-melden/), page.click('#ap-filter button[type=submit]')]);
  await settled();
  await page.waitForSelector('#ap-liste-zeilen tr');
  ids = await page.locator('#ap-liste-zeilen th a').allInnerTexts();
  check(ids[0] === second.id && !ids.includes(bottrop.id), `"Neu" with the service filter lists ${ids.slice(0, 5)}…`);
  check(/Leistung: Fundsache melden oder Verlust anzeigen/.test(await text('#ap-liste-titel')), `caption: ${await text('#ap-liste-titel')}`);
  // The views keep the filter.
  const href = await page.getAttribute('[data-ansicht="erledigt"]', 'href');
  check(href.includes('leistung=fundsache-melden') && href.includes(`dienststelle=${encodeURIComponent(BOTTROP)}`), `"Erledigt" links ${href}`);
});

// ---------------------------------------------------------------- 9. export and print
await step(S.export, async () => {
  needs(S.reply);
  await page.goto(`${base}/amt/vorgang/?id=${bottrop.id}`);
  await settled();
  await page.waitForSelector('#ap-angaben dt');
  await page.waitForSelector('#ap-nachrichten li');
  await page.focus('#ap-export-json');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  check(download.suggestedFilename() === `antrag-${bottrop.id}.json`, `export named ${download.suggestedFilename()}`);
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  check(doc.id === bottrop.id && doc.status === 'needs_info' && doc.service_title === 'Fundsache melden oder Verlust anzeigen', `export: ${JSON.stringify(doc).slice(0, 300)}`);
  const kategorie = doc.fields.find((f) => f.id === 'kategorie');
  check(kategorie && kategorie.label === 'Art des Gegenstands' && kategorie.value === 'Fahrrad', `fields: ${JSON.stringify(doc.fields)}`);
  check(doc.messages.length === 3, `messages in the export: ${doc.messages.length}`);
  check(doc.messages.some((m) => m.text === REPLY && m.status === 'needs_info' && m.attachments[0].name === REQUEST_PDF_NAME), 'the reply in the export');
  check(!JSON.stringify(doc).includes('"key"'), 'the export carries file keys');
  await says(/Der Export .* wurde erstellt/);

  await Promise.all([page.waitForURL(/\/amt\/druck\/\?id=/), page.click('#ap-druck')]);
  await settled();
  await page.waitForFunction(() => !document.getElementById('ap-vorgang').hidden);
  const printed = await text('main');
  check(printed.includes('Fahrrad') && printed.includes(REPLY) && printed.includes(NOTE) && printed.includes(REQUEST_PDF_NAME), `print page: ${printed.slice(0, 400)}`);
  check(await page.getByRole('button', { name: 'Drucken' }).isVisible(), 'no "Drucken" button');
  await page.emulateMedia({ media: 'print' });
  const hidden = await page.evaluate(() =>
    ['.ap-kopf', '.ap-druck-knoepfe', '.fuss'].map((s) => getComputedStyle(document.querySelector(s)).display),
  );
  check(hidden.every((d) => d === 'none'), `printed anyway: ${hidden}`);
  check(await page.locator('#ap-angaben').isVisible(), 'the fields are not printed');
  const pdfBytes = await page.pdf({ format: 'A4' });
  check(pdfBytes.length > 1000, 'no PDF from the print page');
  await page.emulateMedia({ media: 'screen' });
  await shot('amt-druck');
});
await accessibility('Druckansicht');

// ---------------------------------------------------------------- 10. audit log
await step(S.audit, async () => {
  needs(S.export);
  await page.goto(`${base}/amt/protokoll/`);
  await settled();
  await page.waitForSelector('#ap-protokoll-zeilen tr');
  const rows = await page.locator('#ap-protokoll-zeilen tr').allInnerTexts();
  const of = (action) => rows.filter((r) => r.includes(action) && r.includes(bottrop.id));
  check(of('Status geändert').length >= 1, `no status entry: ${rows.join(' | ')}`);
  check(of('Nachricht geschrieben').length >= 1, `no message entry: ${rows.join(' | ')}`);
  check(of('Exportiert').some((r) => r.includes('als JSON')) && of('Exportiert').some((r) => r.includes('zum Drucken')), `exports: ${rows.join(' | ')}`);
  check(of('Datei geladen').length >= 2, `the two files opened are not recorded downloads: ${rows.join(' | ')}`);
  check(rows.every((r) => r.includes('Petra Schulte') || r.includes('Zugangsschlüssel')), `actors: ${rows.join(' | ')}`);
  check(rows[0].includes('Exportiert'), `newest first: ${rows[0]}`);
  const all = rows.join('\n');
  check(!all.includes(NOTE) && !all.includes(REPLY) && !all.includes(REQUEST_PDF_NAME), 'the audit log shows a content');
  await shot('amt-protokoll');
});
await accessibility('Protokoll');

// ---------------------------------------------------------------- 11. logout
await step(S.logout, async () => {
  needs(S.login);
  await page.goto(`${base}/amt/`);
  await settled();
  check((await storedKeys())?.length === 1, 'the key is not there before the logout');
  await page.keyboard.press('Tab');
  await tabTo('ap-abmelden');
  await focusVisible();
  await page.keyboard.press('Enter');
  await says(/Sie sind abgemeldet/);
  check(await page.locator('#ap-anmeldung').isVisible(), 'no login panel after the logout');
  check(/Schlüssel .* entfernt/.test(await text('#ap-anmeldung-text')), `the panel says: ${await text('#ap-anmeldung-text')}`);
  check((await active()) === 'ap-anmeldung-titel', `the focus is on ${await active()} after the logout`);
  const keysLeft = await storedKeys();
  check(keysLeft === null || keysLeft.length === 0, `keys left in IndexedDB: ${JSON.stringify(keysLeft?.map((k) => k.office))}`);
  // The keys went before the session: the logout request is the last one.
  const order = recorded.filter((r) => r.who === 'petra' && /\/api\/amt\/logout$/.test(r.url));
  check(order.length === 1 && order[0].method === 'POST', `logout requests: ${order.length}`);
  const session = await page.evaluate(() => fetch('/api/amt/session').then((r) => r.json()));
  check(session.logged_in === false, `still logged in: ${JSON.stringify(session)}`);
  await page.reload();
  await settled();
  check(await page.locator('#ap-anmeldung').isVisible(), 'the workspace shows after the logout');
});

// ---------------------------------------------------------------- 12. the other office
const murat = await newContext('murat');
await step(S.murat, async () => {
  needs(S.setup);
  page = murat.page;
  await page.goto(`${base}/api/amt/login?return=${encodeURIComponent('/amt/')}&login_hint=murat.yilmaz`);
  await page.waitForURL(`${base}/amt/`, { timeout: 20000 });
  await settled();
  check((await text('#ap-name')) === 'Murat Yilmaz', `logged in as ${await text('#ap-name')}`);
  check((await text('#ap-dienststelle-name')) === 'Bürgerbüro – Stadt Gelsenkirchen' || /Gelsenkirchen/.test(await text('#ap-dienststelle-name')), `office: ${await text('#ap-dienststelle-name')}`);
  await page.waitForSelector('#ap-liste-zeilen tr');
  const ids = await page.locator('#ap-liste-zeilen th a').allInnerTexts();
  check(ids.includes(gelsenkirchen.id) && !ids.includes(bottrop.id) && !ids.includes(second.id), `Murat's list: ${ids}`);
  // His own key, then his application opens.
  await page.goto(`${base}/amt/schluessel/`);
  await settled();
  await page.setInputFiles('#ap-import-datei', keyFile(GELSENKIRCHEN));
  await page.click('#ap-import button[type=submit]');
  await says(/ist geprüft und in diesem Browser hinterlegt/);
  await page.goto(`${base}/amt/vorgang/?id=${gelsenkirchen.id}`);
  await settled();
  await page.waitForSelector('#ap-angaben dt');
  check((await text('#ap-angaben')).includes('Musiktheater im Revier'), 'Gelsenkirchen\'s application does not open');
  // Bottrop's: as unknown.
  await page.goto(`${base}/amt/vorgang/?id=${bottrop.id}`);
  await settled();
  await alerted();
  check(/gibt es nicht, oder er gehört nicht zu Ihren Dienststellen/.test(await alert()), `Bottrop's application for Murat: ${await alert()}`);
  check(await page.locator('#ap-vorgang').isHidden(), 'Bottrop\'s application shows for Murat');
  const inbox = await page.evaluate(() => fetch('/api/office/bottrop/buergerbuero/applications?limit=50').then(async (r) => (await r.text(), r.status)));
  check(inbox === 403, `Bottrop's inbox for Murat: ${inbox}`);
  // Another office in the address: the session's own office is shown.
  await page.goto(`${base}/amt/?dienststelle=${encodeURIComponent(BOTTROP)}`);
  await settled();
  await page.waitForSelector('#ap-liste-zeilen tr');
  check(/Gelsenkirchen/.test(await text('#ap-dienststelle-name')), `office: ${await text('#ap-dienststelle-name')}`);
});

await step(S.remove, async () => {
  needs(S.murat);
  await page.goto(`${base}/amt/schluessel/`);
  await settled();
  const button = page.getByRole('button', { name: /^Schlüssel entfernen\s*: .* – Stadt Gelsenkirchen$/ });
  check((await button.count()) === 1, `no "Schlüssel entfernen" for Gelsenkirchen: ${await text('#ap-schluessel-zeilen')}`);
  await button.focus();
  await focusVisible();
  await page.keyboard.press('Enter');
  await says(/wurde aus diesem Browser entfernt/);
  check(/Kein Schlüssel/.test(await text('#ap-schluessel-zeilen')), `key table: ${await text('#ap-schluessel-zeilen')}`);
  check((await active()) === 'ap-import-datei', `the focus is on ${await active()} after the removal`);
  const left = await storedKeys();
  check(left === null || left.length === 0, `keys left: ${JSON.stringify(left?.map((k) => k.office))}`);
  await page.goto(`${base}/amt/vorgang/?id=${gelsenkirchen.id}`);
  await settled();
  await page.waitForFunction(() => !document.getElementById('ap-vorgang').hidden);
  check(await page.locator('#ap-ohne-schluessel').isVisible(), 'no notice that the key is missing');
  check((await text('#ap-angaben')) === '', 'fields shown without a key');
  check(/Musiktheater/.test(await text('main')) === false, 'plaintext without a key');
});
await accessibility('Vorgang without a key');

await step(S.expired, async () => {
  needs(S.murat);
  await page.goto(`${base}/amt/vorgang/?id=${gelsenkirchen.id}`);
  await settled();
  await page.waitForFunction(() => !document.getElementById('ap-vorgang').hidden);
  // The session ends (as after 15 minutes without a request): the cookies are gone,
  // once no answer is under way that would renew them.
  await page.waitForLoadState('networkidle');
  await murat.ctx.clearCookies();
  await page.selectOption('#ap-neuer-status', 'in_progress');
  await page.click('#ap-status-form button[type=submit]');
  const error = await alerted();
  check(/Ihre Anmeldung ist abgelaufen/.test(error), `the alert says: ${error}`);
  const link = page.locator('#ap-fehler a', { hasText: 'Erneut anmelden' });
  check((await link.count()) === 1, 'no "Erneut anmelden" link');
  const href = await link.getAttribute('href');
  check(href === `/api/amt/login?return=${encodeURIComponent(`/amt/vorgang/?id=${gelsenkirchen.id}`)}`, `link: ${href}`);
  await shot('amt-abgelaufen');
});
await accessibility('Vorgang, the session ended');

// ---------------------------------------------------------------- two offices, no JavaScript
const jana = await newContext('jana');
await step(S.jana, async () => {
  needs(S.setup);
  page = jana.page;
  await page.goto(`${base}/api/amt/login?return=${encodeURIComponent('/amt/')}&login_hint=jana.kowalski`);
  await page.waitForURL(`${base}/amt/`, { timeout: 20000 });
  await settled();
  check(await page.locator('#ap-dienststelle').isVisible(), 'no office chooser for two offices');
  const options = await page.locator('#ap-dienststelle-wahl option').allInnerTexts();
  check(options.length === 2 && options.includes('Standesamt Bottrop – Stadt Bottrop'), `offices: ${options}`);
  await page.waitForSelector('#ap-liste-zeilen tr');
  await page.focus('#ap-dienststelle-wahl');
  await page.keyboard.type('Standesamt');
  check((await page.inputValue('#ap-dienststelle-wahl')) === 'bottrop/standesamt', 'typing did not choose the Standesamt');
  await page.keyboard.press('Tab');
  check((await active()) === 'Wechseln', `Tab went to ${await active()}`);
  await Promise.all([page.waitForURL(/dienststelle=bottrop%2Fstandesamt/), page.keyboard.press('Enter')]);
  await settled();
  await page.waitForFunction(() => !document.getElementById('ap-leer').hidden);
  check((await text('#ap-dienststelle-name')) === 'Standesamt Bottrop – Stadt Bottrop', `office: ${await text('#ap-dienststelle-name')}`);
  check((await page.locator('#ap-liste-zeilen tr').count()) === 0, 'the Standesamt lists the Bürgerbüro\'s applications');
  // The choice is kept for the next visit.
  await page.goto(`${base}/amt/protokoll/`);
  await settled();
  check((await page.inputValue('#ap-dienststelle-wahl')) === 'bottrop/standesamt', 'the Protokoll forgot the chosen office');
  await page.waitForFunction(() => !document.getElementById('ap-leer').hidden);
  await page.goto(`${base}/amt/?dienststelle=${encodeURIComponent('bottrop/standesamt')}`);
  await settled();
  await page.waitForFunction(() => !document.getElementById('ap-leer').hidden);
});
await accessibility('Posteingang of an office with no applications, two offices');

await step(S.noscript, async () => {
  const ctx = await browser.newContext({ locale: 'de-DE', javaScriptEnabled: false });
  await ctx.route('**/__lotse/**', (route) => route.abort());
  try {
    const p = await ctx.newPage();
    for (const path of ['/amt/', '/amt/vorgang/?id=X', '/amt/druck/', '/amt/protokoll/', '/amt/schluessel/']) {
      await p.goto(`${base}${path}`);
      const shown = (await p.locator('main').innerText()).trim();
      check(/Der Arbeitsplatz braucht JavaScript/.test(shown) && /funktioniert auch ohne JavaScript/.test(shown), `${path} without JavaScript: ${shown}`);
      check(await p.locator('#ap-seite').isHidden(), `${path}: the workspace shows without JavaScript`);
    }
  } finally {
    await ctx.close();
  }
});

// ---------------------------------------------------------------- 14. no key leaves
await step(S.leak, async () => {
  check(recorded.length > 40 && ['petra', 'murat', 'jana'].every((w) => recorded.some((r) => r.who === w)), `only ${recorded.length} requests recorded`);
  // Bodies the recorder could not read (file parts read from disk): get them now.
  const leaks = [];
  for (const r of recorded) {
    const head = `${r.method} ${r.url}\n${Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}`;
    const hay = [Buffer.from(head), Buffer.from(decodeURIComponent(safeDecode(head))), r.body || Buffer.alloc(0)];
    for (const s of SECRETS) {
      for (const h of hay) {
        if (h.includes(s.raw)) leaks.push(`${r.who}: ${r.method} ${r.url}: raw key of ${s.office}`);
        for (const t of s.text) if (h.includes(Buffer.from(t))) leaks.push(`${r.who}: ${r.method} ${r.url}: key of ${s.office} as "${t.slice(0, 12)}…"`);
      }
    }
  }
  for (const line of consoleLines) {
    for (const s of SECRETS) for (const t of s.text) if (line.includes(t)) leaks.push(`console: ${line.slice(0, 80)}`);
  }
  check(leaks.length === 0, `the key left the browser:\n${[...new Set(leaks)].join('\n')}`);
  const posts = recorded.filter((r) => r.method !== 'GET');
  check(posts.every((r) => new URL(r.url).origin === base), `a request to elsewhere: ${posts.map((r) => r.url)}`);
  const withBody = posts.filter((r) => r.body && r.body.length);
  check(withBody.length >= 3, `only ${withBody.length} request bodies were readable`);
  for (const r of posts) console.log(`     ${r.method} ${new URL(r.url).pathname}: ${r.body ? r.body.length : 'no'} body bytes readable`);
  console.log(`     ${recorded.length} requests (${posts.length} not GET, ${withBody.length} bodies) and ${consoleLines.length} console lines checked`);
});

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

await step(S.errors, async () => {
  // Refused requests the test provoked (401, 403, 404) and the blocked live reload of
  // `lotse serve` are no script errors.
  const failed = failedRequests.filter((l) => !l.includes('/__lotse/'));
  check(failed.length === 0, `requests that failed:\n${failed.join('\n')}`);
  const errors = consoleLines.filter(
    (l) => /: (error|pageerror):/.test(l) && !/Failed to load resource: (the server responded with a status of (401|403|404)|net::ERR_FAILED)/.test(l),
  );
  check(errors.length === 0, `script errors:\n${errors.join('\n')}`);
});

await browser.close();
process.exit(steps.summary());
