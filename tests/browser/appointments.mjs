// Booking an appointment at the office (SPEC section 8) in Chromium with JavaScript off,
// by keyboard only, against a running `lotse serve` on the example region:
//
//   node tests/browser/appointments.mjs http://127.0.0.1:8080 [--screenshots DIR]
//
// The citizen opens Personalausweis beantragen in Bottrop, finds the section „Termin
// vereinbaren“ and follows „Termin buchen“ (Tab, Enter); on the booking page Tab enters
// the times (one radio group, a fieldset per day), the arrow keys choose a time, Tab
// goes on to name and e-mail, Space on „Termin verbindlich buchen“ books; the
// confirmation (after the 303) shows the Vorgangsnummer, the Schlüssel and the chosen
// time; the calendar file is downloaded by keyboard and parsed with Python's
// `icalendar` (tests/ics/check.py: UTC times, the chosen start); „Termin absagen“ (Tab,
// Enter) cancels, and the page says „abgesagt“; the time is offered again. axe-core
// (WCAG 2.1 A/AA) runs on the service page's section „Termin vereinbaren“, the booking
// page, the confirmation and the cancelled page, and each is checked for reflow at 320 px
// (no horizontal scrolling; = 400 % zoom of 1280 px); with JavaScript off these checks
// run on a copy of the page in a context with JavaScript on (axe needs timers), as
// conversation.mjs does.
//
// Exits 1 if a check fails, 2 if Chromium is missing. Normally started by
// `cargo test --test browser_appointments`.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Steps, check, checkAxe, checkReflow, focusVisible as focusShown, focused, launchChromium, newContext, onCopy, options, runAxe, screenshots, tabTo as tabUntil } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

const { base, only, shotsDir } = options();

// Personalausweis beantragen in Bottrop: 30 minutes at the Bürgerbüro
// (content/services/personalausweis-beantragen.md, content/portals/bottrop/portal.toml).
const PORTAL = 'bottrop';
const SERVICE = 'personalausweis-beantragen';
const SERVICE_PATH = `/${PORTAL}/${SERVICE}/`;
const BOOKING_PATH = `/api/termin?portal=${PORTAL}&service=${SERVICE}`;
const NAME = 'Erika Mustermann';
const EMAIL = 'erika.mustermann@example.org';

const steps = new Steps(only);
const step = (name, fn) => steps.step(name, fn);
const needs = (...earlier) => steps.needs(...earlier);
const browser = await launchChromium();

// The citizen: JavaScript off (the pages must work without it), downloads on.
const ctx = await newContext(browser, { javaScriptEnabled: false, acceptDownloads: true });
const page = await ctx.newPage();
// Only for the checks that need JavaScript: no cookies, nothing but the kept page and
// its stylesheets.
const axeCtx = await newContext(browser);

const mainText = async () => (await page.locator('main').innerText()).trim();

const active = () => focused(page);
const tabTo = (target, limit = 120) => tabUntil(page, target, { limit });
/** WCAG 2.4.7: the focused element, or for a radio button its label (the theme draws the
 *  ring there), shows a focus indicator. */
const focusVisible = () => focusShown(page, { radioLabel: true });

// The states checked for accessibility, by their screenshot names.
const STATES = {
  leistung: { label: 'the service page, section "Termin vereinbaren"', include: '#termin' },
  buchen: { label: 'the booking page' },
  bestaetigung: { label: 'the confirmation' },
  abgesagt: { label: 'the cancelled appointment' },
};
const kept = {}; // name -> { url, html }
/** The page as it stands now, for the checks that need JavaScript. */
async function keep(name) {
  kept[name] = { url: page.url(), html: await page.content() };
  await screenshots(page, shotsDir, `termin-${name}`);
}

/** axe-core (WCAG 2.1 A/AA) and reflow at 320 px on a kept state, opened at its own
 *  address in the context with JavaScript on, each its own step. */
async function accessibility(name) {
  const { label, include } = STATES[name];
  await step(`axe (WCAG 2.1 A/AA): ${label}`, async () => {
    check(kept[name], `no ${label} to check: an earlier step failed`);
    const result = await onCopy(axeCtx, kept[name], null, (probe) => runAxe(probe, include || null));
    checkAxe(result, label, { url: kept[name].url, minPasses: include ? 3 : 10 });
  });
  await step(`reflow at 320 px: ${label}`, async () => {
    check(kept[name], `no ${label} to check: an earlier step failed`);
    await onCopy(axeCtx, kept[name], { width: 320, height: 800 }, async (probe) => {
      // Open "Weitere Termine" too: the later weeks must reflow as well.
      await probe.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
      await checkReflow(probe, label);
    });
  });
}

/** Parses a calendar file with tests/ics/check.py (Python's icalendar, from .tools/pydeps
 *  as scripts/test.sh installs it). */
function parseIcs(file) {
  try {
    const out = execFileSync('python3', [join(repo, 'tests/ics/check.py'), file], {
      env: { ...process.env, PYTHONPATH: join(repo, '.tools/pydeps') },
      encoding: 'utf8',
    });
    return JSON.parse(out);
  } catch (e) {
    throw new Error(`tests/ics/check.py did not read ${file} (exit ${e.status}): ${e.stderr || e.message}` +
      (e.status === 2 ? '\ninstall icalendar: python3 -m pip install --target .tools/pydeps icalendar' : ''));
  }
}

let chosen = null; // { value, label }
let booking = null; // { id, token }

const S1 = '1. the service page shows "Termin vereinbaren" with duration, place and the link';
const S2 = '2. "Termin buchen" by keyboard (Tab, Enter) opens the booking page';
const S3 = '3. a time chosen by keyboard (Tab into the times, arrow keys), name and e-mail typed, Space books';
const S4 = '4. the confirmation: Vorgangsnummer, Schlüssel, the chosen time, place';
const S5 = '5. the calendar file downloaded by keyboard parses (icalendar): UTC, the chosen start';
const S6 = '6. "Termin absagen" by keyboard: the page says "abgesagt", the time is free again';

// ---------------------------------------------------------------- 1. service page
await step(S1, async () => {
  const response = await page.goto(`${base}${SERVICE_PATH}`);
  check(response.status() === 200, `${SERVICE_PATH} answered ${response.status()}`);
  const section = page.locator('section#termin');
  check((await section.count()) === 1, 'no section#termin on the service page');
  const text = (await section.innerText()).replace(/\s+/g, ' ');
  check(/Termin vereinbaren/.test(text), `the section's heading: ${text}`);
  check(/Dauer: 30 Minuten/.test(text), `the section does not give the duration: ${text}`);
  check(/Ort: Bürgerbüro im Rathaus, Ernst-Wilczok-Platz 1, 46236 Bottrop/.test(text), `the section does not give the place: ${text}`);
  check(/bis zu 8 Wochen im Voraus/.test(text), `the section does not give the horizon: ${text}`);
  const link = section.getByRole('link', { name: 'Termin buchen' });
  check((await link.count()) === 1, 'no link "Termin buchen"');
  const href = await link.getAttribute('href');
  check(href === BOOKING_PATH, `"Termin buchen" goes to ${href}, not ${BOOKING_PATH}`);
  await keep('leistung');
});
await accessibility('leistung');

// ---------------------------------------------------------------- 2. follow the link
await step(S2, async () => {
  needs(S1);
  await page.goto(`${base}${SERVICE_PATH}`);
  await page.keyboard.press('Tab');
  check((await active()) === 'Zum Inhalt springen', `the first Tab stop is ${await active()}, not the skip link`);
  await tabTo('Termin buchen');
  await focusVisible();
  const [response] = await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  check(response.status() === 200, `the booking page answered ${response.status()}`);
  const at = new URL(page.url());
  check(at.pathname === '/api/termin' && at.searchParams.get('portal') === PORTAL && at.searchParams.get('service') === SERVICE,
    `"Termin buchen" led to ${page.url()}`);
  check((await page.locator('h1').innerText()).trim() === 'Termin vereinbaren: Personalausweis beantragen', `h1: ${await page.locator('h1').innerText()}`);
  check((await page.locator('script').count()) === 0, 'the booking page has a script');
  // textContent: the later weeks are in a closed <details>, not rendered.
  const days = await page.locator('fieldset.termintag legend').evaluateAll((ls) => ls.map((l) => l.textContent));
  check(days.length >= 5, `only ${days.length} days offered: ${JSON.stringify(days)}`);
  check(days.every((d) => /^(Montag|Dienstag|Mittwoch|Donnerstag|Freitag), \d{1,2}\. \S+ \d{4}$/.test(d.trim())), `the days' legends: ${JSON.stringify(days.slice(0, 8))}`);
  check((await page.locator('details.weitere-termine > summary').innerText()).trim() === 'Weitere Termine', 'no "Weitere Termine"');
  await keep('buchen');
});
await accessibility('buchen');

// ---------------------------------------------------------------- 3. choose and book
await step(S3, async () => {
  needs(S2);
  // Tab reaches the radio group once; the first time of the first day is the stop.
  const first = await tabTo((id) => typeof id === 'string' && id.startsWith('zeit-'));
  const firstId = await page.locator('input[type=radio][name=start]').first().getAttribute('id');
  check(first === firstId, `Tab entered the times at ${first}, not at the first (${firstId})`);
  await focusVisible();
  // Two times later by the arrow keys: the radio is focused and chosen.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowRight');
  const state = await page.evaluate(() => {
    const a = document.activeElement;
    const all = [...document.querySelectorAll('input[type=radio][name=start]')];
    return {
      index: all.indexOf(a),
      checked: a.checked,
      value: a.value,
      label: a.labels[0]?.textContent.trim(),
      legend: a.closest('fieldset')?.querySelector('legend')?.textContent.trim(),
    };
  });
  check(state.index === 2 && state.checked, `after two arrow keys the focus is on time ${state.index} (checked ${state.checked}), not the third`);
  await focusVisible();
  chosen = state;
  // Tab leaves the group: the next stops are "Weitere Termine", then the name.
  await page.keyboard.press('Tab');
  check((await active()) === 'Weitere Termine', `after the times Tab went to ${await active()}, not "Weitere Termine"`);
  await focusVisible();
  await tabTo('feld-name', 5);
  await focusVisible();
  await page.keyboard.type(NAME);
  await page.keyboard.press('Tab');
  check((await active()) === 'feld-email', `after the name Tab went to ${await active()}`);
  await page.keyboard.type(EMAIL);
  await page.keyboard.press('Tab');
  check((await active()) === 'Termin verbindlich buchen', `after the e-mail Tab went to ${await active()}`);
  await focusVisible();
  const [response] = await Promise.all([page.waitForNavigation(), page.keyboard.press('Space')]);
  const posted = response.request().redirectedFrom();
  check(posted && posted.method() === 'POST' && new URL(posted.url()).pathname === '/api/appointments',
    `booking did not POST to /api/appointments: ${posted ? `${posted.method()} ${posted.url()}` : 'no redirect'}`);
  check((await posted.response()).status() === 303, `the booking answered ${(await posted.response()).status()}, not 303`);
  check(response.status() === 200, `the confirmation answered ${response.status()}:\n${(await mainText()).slice(0, 400)}`);
});

// ---------------------------------------------------------------- 4. confirmation
await step(S4, async () => {
  needs(S3);
  const at = new URL(page.url());
  check(at.pathname === '/api/termin/bestaetigung', `the 303 led to ${page.url()}`);
  check((await page.locator('h1').innerText()).trim() === 'Ihr Termin ist gebucht', `h1: ${await page.locator('h1').innerText()}`);
  const id = (await page.locator('strong.vorgang').innerText()).trim();
  const token = (await page.locator('code.schluessel').innerText()).trim();
  check(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(id), `Vorgangsnummer ${id}`);
  check(at.searchParams.get('id') === id, `the address names ${at.searchParams.get('id')}, the page ${id}`);
  check(token.length >= 20 && !page.url().includes(token), 'the Schlüssel is missing or in the address');
  booking = { id, token };
  const text = (await mainText()).replace(/\s+/g, ' ');
  check(text.includes('Vorgangsnummer') && text.includes('Schlüssel'), `the confirmation does not name Vorgangsnummer and Schlüssel:\n${text}`);
  // "09:00 bis 09:30 Uhr" on the radio's label; the confirmation: "<legend>, 09:00 bis 09:30 Uhr".
  check(text.includes(`${chosen.legend}, ${chosen.label}`), `the confirmation does not show the chosen time "${chosen.legend}, ${chosen.label}":\n${text}`);
  check(text.includes('Bürgerbüro im Rathaus, Ernst-Wilczok-Platz 1, 46236 Bottrop'), `no place:\n${text}`);
  // The API agrees.
  const api = await fetch(`${base}/api/appointments/${id}`, { headers: { authorization: `Bearer ${token}` } });
  const json = await api.json();
  check(api.status === 200 && json.status === 'booked' && json.start === chosen.value, `GET /api/appointments/${id}: ${api.status} ${JSON.stringify(json)}`);
  await keep('bestaetigung');
});
await accessibility('bestaetigung');

// ---------------------------------------------------------------- 5. calendar file
await step(S5, async () => {
  needs(S4);
  await page.keyboard.press('Tab');
  check((await active()) === 'Zum Inhalt springen', `the first Tab stop is ${await active()}`);
  await tabTo('Termin in den Kalender übernehmen (.ics)', 30);
  await focusVisible();
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), page.keyboard.press('Enter')]);
  check(download.suggestedFilename() === `termin-${booking.id}.ics`, `the download is named ${download.suggestedFilename()}`);
  const file = await download.path();
  const text = readFileSync(file, 'utf8');
  check(text.startsWith('BEGIN:VCALENDAR\r\n'), `the download is no calendar file:\n${text.slice(0, 200)}`);
  const calendar = parseIcs(file);
  const [event] = calendar.events;
  check(calendar.method === 'PUBLISH' && event.status === 'CONFIRMED', `METHOD ${calendar.method}, STATUS ${event.status}`);
  check(event.dtstart_utc && event.dtend_utc, `DTSTART/DTEND not in UTC: ${JSON.stringify(event)}`);
  const utc = new Date(chosen.value).toISOString().replace('.000Z', '+00:00');
  check(event.dtstart === utc, `DTSTART ${event.dtstart}, the chosen time is ${utc}`);
  check(event.uid.includes(booking.id), `UID ${event.uid}`);
  check(new URL(page.url()).pathname === '/api/termin/bestaetigung', `the download navigated away to ${page.url()}`);
});

// ---------------------------------------------------------------- 6. cancel
await step(S6, async () => {
  needs(S4);
  await tabTo('Termin absagen', 30);
  await focusVisible();
  const [response] = await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  const posted = response.request().redirectedFrom();
  check(posted && posted.method() === 'POST' && new URL(posted.url()).pathname === `/api/appointments/${booking.id}/cancel`,
    `cancelling did not POST the form: ${posted ? `${posted.method()} ${posted.url()}` : 'no redirect'}`);
  check(response.status() === 200, `after cancelling: ${response.status()}\n${(await mainText()).slice(0, 400)}`);
  check((await page.locator('h1').innerText()).trim() === 'Ihr Termin ist abgesagt', `h1: ${await page.locator('h1').innerText()}`);
  const text = (await mainText()).replace(/\s+/g, ' ');
  check(/abgesagt/.test(text) && text.includes('Der Termin ist wieder frei'), `the page does not say it is cancelled:\n${text}`);
  check((await page.getByRole('button', { name: 'Termin absagen' }).count()) === 0, 'the cancelled appointment still has "Termin absagen"');
  check((await page.getByRole('link', { name: 'Einen neuen Termin buchen' }).count()) === 1, 'no link to book again');
  const api = await fetch(`${base}/api/appointments/${booking.id}`, { headers: { authorization: `Bearer ${booking.token}` } });
  const json = await api.json();
  check(json.status === 'cancelled', `GET /api/appointments/${booking.id}: ${JSON.stringify(json)}`);
  await keep('abgesagt');
  // The time is offered again.
  const again = await ctx.newPage();
  try {
    await again.goto(`${base}${BOOKING_PATH}`);
    check((await again.locator(`input[type=radio][value="${chosen.value}"]`).count()) === 1, `${chosen.value} is not offered again`);
  } finally {
    await again.close();
  }
});
await accessibility('abgesagt');

await browser.close();
process.exitCode = steps.summary();
