// End-to-end and accessibility test of the example region, against a running `lotse serve`.
//
//   node tests/browser/e2e.mjs http://127.0.0.1:8080 [--screenshots docs/screenshots]
//
// playwright-core drives the system Chromium (CHROMIUM, default /usr/bin/chromium);
// axe-core is injected from node_modules. Exits 1 if any check fails, 2 if Chromium or
// the server cannot be reached. Normally started by `cargo test --test browser`.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { AXE_PATH as AXE, Steps, WCAG, check, checkAxe, checkReflow, launchChromium, newContext, options } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const { base, only, shotsDir } = options();

const SERVICE = '/bottrop/fundsache-melden/';
const SERVICE_TITLE = 'Fundsache melden oder Verlust anzeigen';

const steps = new Steps(only);
const step = (name, fn) => steps.step(name, fn);
const browser = await launchChromium();

// Every context gets a fresh profile (playwright uses a temporary user-data-dir).
async function context(options = {}) {
  // The served pages have `script-src 'self'`; axe is injected from outside.
  return newContext(browser, { bypassCSP: true, ...options });
}


/** Function-rendered pages send `Referrer-Policy: no-referrer`, so Chromium posts their
 *  forms with `Origin: null` (and Sec-Fetch-Site: same-origin). This once came back as
 *  403 cross_site; it must not again. */
async function refusedAsCrossSite(page) {
  const text = await page.locator('body').innerText();
  check(
    !/Anfragen von fremden Websites werden abgewiesen/.test(text),
    `403 cross_site for a form posted from a function page (${page.url()})`,
  );
}

/** The status page fetched outside the browser (no Origin header), for the checks after a receipt,
 *  with the Vorgangsnummer and Schlüssel the receipt page shows (its address names the id only). */
async function statusHtml(ctx, page) {
  const id = (await page.locator('.vorgang').innerText()).trim();
  const token = (await page.locator('.schluessel').innerText()).trim();
  check(!page.url().includes(token), `the receipt address carries the Schlüssel: ${page.url()}`);
  const response = await ctx.request.post(`${base}/api/status`, {
    form: { id, token },
    headers: { accept: 'text/html' },
  });
  return response.text();
}

async function fillValid(page, prefix = '') {
  await page.check('#feld-meldung-1');
  await page.selectOption('#feld-kategorie', 'Fahrrad');
  await page.fill('#feld-datum', '2026-11-20');
  await page.fill('#feld-ort', `${prefix}Haltestelle Berliner Platz`);
  await page.fill('#feld-beschreibung', `${prefix}Rotes Damenrad mit Korb`);
}

/** Reads Vorgangsnummer and Schlüssel from the receipt page. */
async function readReceipt(page) {
  const text = await page.locator('main').innerText();
  check(/Vorgangsnummer/.test(text), `receipt shows no Vorgangsnummer:\n${text.slice(0, 400)}`);
  check(/Schlüssel/.test(text), `receipt shows no Schlüssel:\n${text.slice(0, 400)}`);
  return text;
}

async function expectStatusReceived(page) {
  await page.waitForLoadState();
  const text = await page.locator('main').innerText();
  check(/Eingegangen/.test(text), `status page does not show "Eingegangen" (${page.url()}):\n${text.slice(0, 400)}`);
}

async function expectErrorSummary(page, typed) {
  const alert = page.locator('[role=alert]:not([hidden])').first();
  check((await alert.count()) === 1, `no visible error summary with role=alert on ${page.url()}`);
  const links = await alert.locator('a[href^="#"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  check(links.includes('#feld-ort'), `error summary does not link to #feld-ort: ${JSON.stringify(links)}`);
  for (const href of links) {
    check((await page.locator(href).count()) === 1, `error summary link ${href} has no target`);
  }
  check(
    (await page.inputValue('#feld-beschreibung')) === typed,
    `the form with errors lost what was typed into Beschreibung: ${JSON.stringify(await page.inputValue('#feld-beschreibung'))}`,
  );
  check((await page.inputValue('#feld-kategorie')) === 'Fahrrad', 'the form with errors lost the chosen Art des Gegenstands');
  check(await page.isChecked('#feld-meldung-1'), 'the form with errors lost the chosen radio button');
}

const pages = {}; // page type -> URL or HTML snapshot for the accessibility pass

// ---------------------------------------------------------------- 1. apply path
for (const js of [true, false]) {
  const label = js ? 'JavaScript on' : 'JavaScript off';
  await step(`apply path, ${label}: home -> Bottrop -> topic -> service -> receipt -> status`, async () => {
    const ctx = await context({ javaScriptEnabled: js });
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    if (js && shotsDir) await shot(page, 'umbrella-home');
    await page.locator('main').getByRole('link', { name: 'Bottrop', exact: true }).first().click();
    check(new URL(page.url()).pathname === '/bottrop/', `choosing Bottrop led to ${page.url()}`);
    if (js && shotsDir) await shot(page, 'portal-home');
    await page.locator('main').getByRole('link', { name: 'Recht & Ordnung' }).first().click();
    check(new URL(page.url()).pathname === '/bottrop/themen/recht-ordnung/', `the topic link led to ${page.url()}`);
    await page.getByRole('link', { name: SERVICE_TITLE }).first().click();
    check(new URL(page.url()).pathname === SERVICE, `the service link led to ${page.url()}`);
    check((await page.locator('h1').innerText()).trim() === SERVICE_TITLE, 'service page has the wrong h1');
    if (js && shotsDir) {
      await page.locator('#antrag').scrollIntoViewIfNeeded();
      await shot(page, 'service-form');
    }
    await fillValid(page);
    await Promise.all([page.waitForURL((u) => u.pathname !== SERVICE), page.click('button[type=submit].knopf--senden')]);
    await readReceipt(page);
    // The receipt opens only with the short-lived cookie of this browser: checked as a snapshot.
    if (js) pages.receipt = { html: await page.content(), url: page.url() };
    if (js && shotsDir) await shot(page, 'receipt');
    const html = await statusHtml(ctx, page);
    check(/Eingegangen/.test(html), `the status page (fetched directly) does not show "Eingegangen"`);
    if (js) pages.status = { html, url: `${base}/api/status` };
    await page.getByRole('button', { name: 'Stand jetzt abfragen' }).or(page.getByRole('link', { name: 'Stand jetzt abfragen' })).first().click();
    await refusedAsCrossSite(page);
    await expectStatusReceived(page);
    await ctx.close();
  });

  await step(`invalid submission, ${label}: error summary (role=alert, links) and typed values kept`, async () => {
    const ctx = await context({ javaScriptEnabled: js });
    const page = await ctx.newPage();
    await page.goto(`${base}${SERVICE}`);
    await fillValid(page);
    // Only spaces: passes the browser's `required`, the server rejects it.
    await page.fill('#feld-ort', '   ');
    await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), page.click('button.knopf--senden')]);
    await expectErrorSummary(page, 'Rotes Damenrad mit Korb');
    if (js) pages.errors = { html: await page.content(), url: page.url() };
    // Correcting the field submits successfully from the page with errors.
    await page.fill('#feld-ort', 'Marktplatz');
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]:has-text("absenden")')]);
    await refusedAsCrossSite(page);
    await readReceipt(page);
    await ctx.close();
  });
}

// ---------------------------------------------------------------- keyboard only
await step('apply path by keyboard only (Tab, Space, Enter, typing)', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(`${base}${SERVICE}`);
  const active = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim()));
  async function tabTo(id, limit = 150) {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      if ((await active()) === id) return;
    }
    throw new Error(`${id} not reached with Tab`);
  }
  // WCAG 2.4.7: the focused element shows a focus indicator (outline or box-shadow).
  const focusVisible = async () => {
    const ok = await page.evaluate(() => {
      const cs = getComputedStyle(document.activeElement);
      return (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
    });
    check(ok, `no visible focus indicator on ${await active()}`);
  };
  // The skip link comes first.
  await page.keyboard.press('Tab');
  check((await active()) === 'Zum Inhalt springen', `first Tab stop is ${await active()}, not the skip link`);
  await focusVisible();
  await tabTo('feld-meldung-1');
  await focusVisible();
  await page.keyboard.press('Space');
  check(await page.isChecked('#feld-meldung-1'), 'Space did not choose the radio button');
  await page.keyboard.press('Tab');
  check((await active()) === 'feld-kategorie', `after the radio group Tab went to ${await active()}`);
  await page.keyboard.type('Fahrrad');
  check((await page.inputValue('#feld-kategorie')) === 'Fahrrad', `typing did not choose "Fahrrad": ${await page.inputValue('#feld-kategorie')}`);
  await page.keyboard.press('Tab');
  check((await active()) === 'feld-datum', `Tab went to ${await active()}, not the date`);
  // The segment order follows the browser's UI language (headless Chromium: mm/dd/yyyy).
  await page.keyboard.type('20112026');
  if ((await page.inputValue('#feld-datum')) !== '2026-11-20') {
    // Back to the first segment (the segments are tab stops) and again in that order.
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type('11202026');
  }
  check((await page.inputValue('#feld-datum')) === '2026-11-20', `typed date reads ${await page.inputValue('#feld-datum')}`);
  await tabTo('feld-ort', 5);
  await page.keyboard.type('Bushaltestelle Pferdemarkt');
  await page.keyboard.press('Tab');
  check((await active()) === 'feld-beschreibung', `Tab went to ${await active()}`);
  await page.keyboard.type('Schwarze Geldbörse');
  await tabTo('Antrag absenden', 5);
  await focusVisible();
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await readReceipt(page);
  await tabTo('Stand jetzt abfragen', 60);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  await refusedAsCrossSite(page);
  await expectStatusReceived(page);
  await ctx.close();
});

// ---------------------------------------------------------------- print
await step('print stylesheet: a service page prints its checklist without navigation or form', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  // Hund anmelden: a document checklist and an online form.
  await page.goto(`${base}/bottrop/hund-anmelden/`);
  check((await page.locator('.checkliste').count()) > 0 && (await page.locator('.antrag').count()) > 0,
    'the page for the print check lacks its checklist or form');
  await page.emulateMedia({ media: 'print' });
  const shown = (selector) => page.$$eval(selector, (els) => els.some((e) => getComputedStyle(e).display !== 'none'));
  for (const hidden of ['.sprunglink', '.kopf__suche', '.hauptnav', '.pfad', '.fuss', '.antrag']) {
    if ((await page.locator(hidden).count()) > 0) check(!(await shown(hidden)), `${hidden} is printed`);
  }
  for (const kept of ['h1', '.checkliste']) {
    check((await page.locator(kept).count()) > 0 && (await shown(kept)), `${kept} is not printed`);
  }
  // Links print their address, so a paper copy still says where to go.
  const after = await page.$eval('main a[href^="http"], main a[href^="/"]', (a) => getComputedStyle(a, '::after').content).catch(() => null);
  check(after === null || /attr|\(/.test(after), `printed links do not show their address: ${after}`);
  const pdf = await page.pdf({ format: 'A4', printBackground: false });
  const pagesInPdf = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  check(pagesInPdf >= 1 && pagesInPdf <= 3, `the service page prints on ${pagesInPdf} A4 pages (expected 1–3)`);
  await ctx.close();
});

// ---------------------------------------------------------------- accessibility feedback
await step('accessibility statement: linked from the portal home, feedback form -> receipt', async () => {
  const ctx = await context({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(`${base}/bottrop/`);
  await page.getByRole('link', { name: /Barrierefreiheit/ }).first().click();
  check(new URL(page.url()).pathname === '/bottrop/barrierefreiheit/', `the statement link led to ${page.url()}`);
  const form = page.locator('#rueckmeldung form');
  check((await form.count()) === 1, 'the statement has no feedback form');
  check(/Inklusionsbeauftragte/.test(await page.locator('#rueckmeldung').innerText()),
    "the form does not name the office that receives it (Bottrop's feedback_office)");
  await page.fill('#feld-seite', '/bottrop/a-z/');
  await page.fill('#feld-beschreibung', 'Die Schrift im Kopf ist bei 200 % Zoom abgeschnitten.');
  await Promise.all([page.waitForURL((u) => u.pathname !== '/bottrop/barrierefreiheit/'),
    page.click('#rueckmeldung button[type=submit]')]);
  const text = await readReceipt(page);
  check(/Rückmeldung zur Barrierefreiheit/.test(text), `the receipt does not name the feedback:\n${text.slice(0, 300)}`);
  await ctx.close();
});

// ---------------------------------------------------------------- 2. accessibility
Object.assign(pages, {
  'umbrella home': '/',
  'umbrella topic': '/themen/recht-ordnung/',
  'portal home': '/bottrop/',
  'portal topic': '/bottrop/themen/recht-ordnung/',
  'A–Z': '/bottrop/a-z/',
  'service page with form': SERVICE,
  'free page': '/bottrop/impressum/',
  'accessibility statement': '/bottrop/barrierefreiheit/',
  'umbrella accessibility statement': '/barrierefreiheit/',
  404: '/gibt-es-nicht/',
  'search page': '/suche/?q=Fundsache',
});
const byType = [
  'umbrella home', 'umbrella topic', 'portal home', 'portal topic', 'A–Z', 'service page with form',
  'free page', 'accessibility statement', 'umbrella accessibility statement', '404', 'search page', 'receipt', 'errors', 'status',
];

/** Opens a page type: by URL, or (for POST answers) by loading the saved HTML at its URL. */
async function open(page, target) {
  if (typeof target === 'string') {
    await page.goto(target.startsWith('http') ? target : `${base}${target}`);
    if (target.includes('/suche/?q=')) {
      // Check the search page with its results shown (search.js, the index of `lotse serve`).
      await page.waitForFunction(() => /\d+ Treffer/.test(document.getElementById('suchseite-status')?.textContent || ''),
        null, { timeout: 15000 });
    }
  } else {
    await page.route(target.url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: target.html }));
    await page.goto(target.url);
    await page.unroute(target.url);
  }
}

const axeSummary = {};
await step('axe sanity: a broken page is reported', async () => {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.setContent('<!DOCTYPE html><html><body><img src="x.png"><input type="text"></body></html>');
  await page.addScriptTag({ path: AXE });
  const ids = await page.evaluate(
    (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }).then((r) => r.violations.map((v) => v.id)),
    WCAG,
  );
  for (const id of ['image-alt', 'label', 'html-has-lang']) check(ids.includes(id), `axe did not report ${id}: ${ids}`);
  await ctx.close();
});
for (const type of byType) {
  const name = type === 'errors' ? 'form with errors' : type === 'status' ? 'status page' : type;
  await step(`axe (WCAG 2.1 A/AA): ${name}`, async () => {
    const target = pages[type];
    check(target, `no ${name} page to check: the apply path failed earlier`);
    const ctx = await context();
    const page = await ctx.newPage();
    await open(page, target);
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), WCAG);
    axeSummary[name] = result.violations.map((v) => v.id);
    checkAxe(result, page.url(), { indent: '       ' });
    await ctx.close();
  });
  for (const [label, width] of [['320 px', 320], ['200 % zoom', 640]]) {
    await step(`reflow at ${label}: ${name}`, async () => {
      const target = pages[type];
      check(target, `no ${name} page to check`);
      const ctx = await context({ viewport: { width, height: 800 } });
      const page = await ctx.newPage();
      await open(page, target);
      await checkReflow(page, page.url(), width);
      await ctx.close();
    });
  }
}

async function shot(page, name) {
  mkdirSync(shotsDir, { recursive: true });
  await page.screenshot({ path: join(shotsDir, `${name}.png`), type: 'png', scale: 'css' });
}

await browser.close();
process.exitCode = steps.summary();
void here;
