// The conversation on an application (SPEC section 6) in Chromium with JavaScript off,
// by keyboard only, against a running `lotse serve`:
//
//   LOTSE_BIN=target/debug/lotse LOTSE_OFFICE_TOKEN=… node tests/browser/conversation.mjs http://127.0.0.1:8080 [--screenshots DIR]
//
// An application is submitted (JSON API); the office asks for a document with
// `lotse inbox reply --status needs_info`; the citizen opens the status lookup, types
// Vorgangsnummer and Schlüssel, sees the question marked new, answers with a PNG and
// lands on the thread page (303); the office pulls (`lotse inbox pull --out`: the PNG's
// bytes arrive unchanged) and answers with a PDF (`--status completed`); the citizen
// reloads the thread and downloads the Bescheid, byte for byte; a renamed .exe is
// refused (415) with the typed text kept. axe-core (WCAG 2.1 A/AA), reflow at 320 px
// (= 400 % zoom of 1280 px) and the focus indicator are checked on the thread page in
// each state. Office tools: LOTSE_BIN (the built `lotse`), LOTSE_OFFICE_TOKEN (the
// server's office token). Exits 1 if a check fails, 2 if Chromium, the binary or the
// token is missing. Normally started by `cargo test --test browser`.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { pdf, png, sha256 } from './fixtures.mjs';
import { Steps, check, checkAxe, checkReflow, focusVisible as focusShown, focused, launchChromium, newContext, onCopy, options, runAxe, screenshots, tabTo as tabUntil } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const { base, only, shotsDir } = options();
const LOTSE = process.env.LOTSE_BIN;
const OFFICE_TOKEN = process.env.LOTSE_OFFICE_TOKEN;
if (!LOTSE || !existsSync(LOTSE)) {
  console.error(`error: LOTSE_BIN must name the built lotse binary (got ${JSON.stringify(LOTSE)})`);
  process.exit(2);
}
if (!OFFICE_TOKEN) {
  console.error('error: LOTSE_OFFICE_TOKEN must be the office token of the server under test');
  process.exit(2);
}

// Fundsache melden in Bottrop goes to the Bürgerbüro (content/services/fundsache-melden.md).
const PORTAL = 'bottrop';
const SERVICE = 'fundsache-melden';
const OFFICE = 'buergerbuero';
const OFFICE_KEY = resolve(here, '../../examples/office-keys/bottrop/buergerbuero.key');
const QUESTION = 'Bitte senden Sie uns ein Foto des Fundstücks, damit wir es zuordnen können.';
const REPLY = 'Guten Tag, anbei das Foto des Fahrrads.';
const DECISION_TEXT = 'Ihr Bescheid liegt bei. Sie können das Fahrrad im Fundbüro abholen.';
const REFUSED_TEXT = 'Hier noch mein Ausweis, wie gewünscht.';

// ---------------------------------------------------------------- files
const work = mkdtempSync(join(tmpdir(), 'lotse-conversation-'));

const PHOTO = png(24, 16);
const PHOTO_NAME = 'foto-fahrrad.png';
const PHOTO_PATH = join(work, PHOTO_NAME);
writeFileSync(PHOTO_PATH, PHOTO);
const DECISION = pdf('Bescheid: Fundsache Fahrrad');
const DECISION_NAME = 'bescheid.pdf';
const DECISION_PATH = join(work, DECISION_NAME);
writeFileSync(DECISION_PATH, DECISION);
// A Windows program renamed to .pdf: refused by its bytes, whatever its name says.
const FAKE_NAME = 'ausweis.pdf';
const FAKE_PATH = join(work, FAKE_NAME);
writeFileSync(FAKE_PATH, Buffer.concat([
  Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00', 'latin1'),
  Buffer.alloc(48),
  Buffer.from('This program cannot be run in DOS mode.\r\r\n$', 'latin1'),
]));
const PULLED = join(work, 'posteingang');

/** Runs the built `lotse` with the office token; resolves with stdout, rejects with stderr. */
function lotse(...args) {
  return new Promise((ok, fail) => {
    execFile(LOTSE, args, { env: { ...process.env, LOTSE_OFFICE_TOKEN: OFFICE_TOKEN }, timeout: 60000 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`lotse ${args.join(' ')} failed (exit ${error.code}):\n${stderr}${stdout}`));
      else ok(stdout);
    });
  });
}

// ---------------------------------------------------------------- browser
const steps = new Steps(only);
const step = (name, fn) => steps.step(name, fn);
const needs = (...earlier) => steps.needs(...earlier);
const browser = await launchChromium();

// The citizen: JavaScript off (the pages must work without it), default downloads on.
const ctx = await newContext(browser, { javaScriptEnabled: false, acceptDownloads: true });
const page = await ctx.newPage();
// Only for the checks that need JavaScript (see `accessibility`): no cookies, nothing
// but the kept page and its stylesheets.
const axeCtx = await newContext(browser);

const mainText = async () => (await page.locator('main').innerText()).trim();

const active = () => focused(page);
const tabTo = (target, limit = 80) => tabUntil(page, target, { limit, shown: 30 });
/** WCAG 2.4.7: the focused element shows the theme's focus indicator. */
const focusVisible = () => focusShown(page);

// The states of the thread page that are checked, by their screenshot names.
const STATES = {
  'vorgang-leer': 'the thread page without messages',
  'vorgang-rueckfrage': 'the thread page with the question (needs_info)',
  'vorgang-antwort': 'the thread page after the reply with a file',
  'vorgang-bescheid': 'the thread page with the Bescheid',
  'vorgang-abgewiesen': 'the thread page with a refused upload (415)',
};
const states = {}; // name -> { url, html }
/** The page as it stands now (its DOM, with what was typed), for the checks that need
 *  JavaScript: axe runs on timers, which do not run with JavaScript off. */
async function keep(name) {
  states[name] = { url: page.url(), html: await page.content() };
}

/** axe-core (WCAG 2.1 A/AA) and reflow at 320 px (WCAG 1.4.10; 1280 px at 400 % zoom)
 *  on a kept state, opened at its own address in a context with JavaScript on (as
 *  e2e.mjs does for POST answers), each its own step: a finding does not stop the
 *  conversation. */
async function accessibility(name) {
  const label = STATES[name];
  await step(`axe (WCAG 2.1 A/AA): ${label}`, async () => {
    check(states[name], `no ${label} to check: an earlier step failed`);
    const result = await onCopy(axeCtx, states[name], null, (probe) => runAxe(probe));
    checkAxe(result, label, { url: states[name].url });
  });
  await step(`reflow at 320 px: ${label}`, async () => {
    check(states[name], `no ${label} to check: an earlier step failed`);
    await onCopy(axeCtx, states[name], { width: 320, height: 800 }, (probe) => checkReflow(probe, label));
  });
}

/** With --screenshots DIR: the page at 1280 px and at 320 px, whole. */
const shot = (name) => screenshots(page, shotsDir, name);

/** What every state of the thread page shows; kept for `accessibility`. */
async function threadPage(name) {
  check(!page.url().includes(receipt.token), `the address carries the Schlüssel: ${page.url()}`);
  check((await page.locator('h1').innerText()).trim() === `Ihr Antrag ${receipt.id}`, `the thread page's h1 is ${await page.locator('h1').innerText()}`);
  await keep(name);
  await shot(name);
}

/** The messages as shown: sender class, heading, new mark, text, attachment names. */
const messages = () =>
  page.locator('ol.nachrichten > li.nachricht').evaluateAll((items) =>
    items.map((li) => ({
      from: li.classList.contains('nachricht--behoerde') ? 'office' : li.classList.contains('nachricht--buerger') ? 'citizen' : '?',
      heading: li.querySelector('h3')?.textContent.trim() ?? '',
      isNew: !!li.querySelector('strong.nachricht__neu'),
      text: li.textContent,
      files: [...li.querySelectorAll('ul.anhaenge a')].map((a) => a.textContent.trim()),
    })),
  );

/** Types into the reply form by keyboard: Tab to the text, type, Tab to the file input
 *  (a file chooser is the system's dialog: the file is set on the focused input), Tab
 *  to the button, Enter. Resolves with the navigation's final response. */
async function replyByKeyboard(text, file) {
  await tabTo('nachricht-text');
  await focusVisible();
  await page.keyboard.type(text);
  await page.keyboard.press('Tab');
  check((await active()) === 'nachricht-dateien', `after the text Tab went to ${await active()}, not the file input`);
  await focusVisible();
  await page.locator(':focus').setInputFiles(file);
  await page.keyboard.press('Tab');
  check((await active()) === 'Nachricht senden', `after the file input Tab went to ${await active()}, not "Nachricht senden"`);
  await focusVisible();
  const [response] = await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  return response;
}

/** Opens the status lookup and types Vorgangsnummer and Schlüssel, by keyboard. */
async function lookUpByKeyboard() {
  await page.goto(`${base}/api/status`);
  await page.keyboard.press('Tab');
  check((await active()) === 'Zum Inhalt springen', `the first Tab stop is ${await active()}, not the skip link`);
  await tabTo('feld-id', 10);
  await focusVisible();
  await page.keyboard.type(receipt.id);
  await page.keyboard.press('Tab');
  check((await active()) === 'feld-token', `after the Vorgangsnummer Tab went to ${await active()}`);
  await page.keyboard.type(receipt.token);
  await page.keyboard.press('Tab');
  check((await active()) === 'Stand abfragen', `after the Schlüssel Tab went to ${await active()}`);
  await focusVisible();
  const [response] = await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  check(response.status() === 200, `the lookup answered ${response.status()}:\n${(await mainText()).slice(0, 300)}`);
  check(/Anfragen von fremden Websites/.test(await mainText()) === false, 'the lookup was refused as cross-site');
}

let receipt = null; // { id, token }

const S1 = '1. submit Fundsache melden (JSON API): id and token';
const S2 = '2. status lookup by keyboard, JavaScript off: the thread page without messages';
const S3 = '3. the office asks for a photo: lotse inbox reply --status needs_info';
const S4 = '4. status lookup by keyboard: the question is shown as new, with the needs_info notice';
const S5 = '5. reply by keyboard with a PNG -> 303 -> thread page with the reply and the file';
const S6 = '6. the office pulls: lotse inbox pull --out, the PNG arrives byte for byte';
const S7 = '7. the office answers with a PDF: lotse inbox reply --attach --status completed';
const S8 = '8. reload: the Bescheid is shown as new; downloaded by keyboard, byte for byte';
const S9 = '9. a renamed .exe is refused: 415, the thread page with the reason and the text kept';

// ---------------------------------------------------------------- 1. submit
await step(S1, async () => {
  const response = await ctx.request.post(`${base}/api/applications`, {
    data: {
      portal: PORTAL,
      service: SERVICE,
      fields: {
        meldung: 'einen Fund melden',
        kategorie: 'Fahrrad',
        datum: '2026-11-20',
        ort: 'Hauptbahnhof Bottrop',
        beschreibung: 'Rotes Damenrad mit Korb, gefunden am Bahnsteig 2',
      },
    },
    headers: { accept: 'application/json' },
  });
  const body = await response.text();
  check(response.status() === 201, `POST /api/applications answered ${response.status()}: ${body}`);
  const json = JSON.parse(body);
  check(json.id && json.token && json.status === 'received', `the answer lacks id, token or status: ${body}`);
  receipt = { id: json.id, token: json.token };
});

// ---------------------------------------------------------------- 2. empty thread
await step(S2, async () => {
  needs(S1);
  await lookUpByKeyboard();
  const text = await mainText();
  check(/Aktueller Stand: Eingegangen/.test(text), `the thread page does not show the status "Eingegangen":\n${text.slice(0, 400)}`);
  check(/Noch keine Nachrichten/.test(text), `the empty thread does not say so:\n${text.slice(0, 600)}`);
  check((await page.locator('.hinweis[role=note]').count()) === 0, 'a thread without a question shows the needs_info notice');
  check((await page.locator('form[enctype="multipart/form-data"] #nachricht-text').count()) === 1, 'the thread page has no reply form');
  check((await page.locator('table caption').innerText()).trim() === 'Verlauf', 'the thread page has no history table');
  await threadPage('vorgang-leer');
});
await accessibility('vorgang-leer');

// ---------------------------------------------------------------- 3. office asks
await step(S3, async () => {
  needs(S1);
  const out = await lotse('inbox', 'reply', '--server', base, '--id', receipt.id, '--text', QUESTION, '--status', 'needs_info');
  check(out.trim().length > 0, 'lotse inbox reply printed no message id');
});

// ---------------------------------------------------------------- 4. the question
await step(S4, async () => {
  needs(S1, S3);
  // A fresh visit: the conversation cookie of step 2 is dropped, the lookup opens it.
  await ctx.clearCookies();
  await lookUpByKeyboard();
  const text = await mainText();
  check(/Aktueller Stand: Rückfrage/.test(text), `the status is not "Rückfrage":\n${text.slice(0, 400)}`);
  const notice = page.locator('div.hinweis[role=note]');
  check((await notice.count()) === 1 && (await notice.isVisible()), 'no visible needs_info notice (div.hinweis role=note)');
  check(/Rückfrage/.test(await notice.innerText()), `the notice does not speak of the question: ${await notice.innerText()}`);
  const shown = await messages();
  check(shown.length === 1, `the thread shows ${shown.length} messages, not the office's one: ${JSON.stringify(shown)}`);
  const [question] = shown;
  check(question.from === 'office', `the question is not marked as the office's (class): ${JSON.stringify(question)}`);
  check(/Ihre Behörde/.test(question.heading), `the question's heading does not name the sender in words: ${question.heading}`);
  check(question.isNew && /^Neu\b/.test(question.heading), `the question is not marked "Neu": ${question.heading}`);
  check(question.text.includes(QUESTION), `the question's text is missing: ${question.text}`);
  check(/Eine Nachricht, davon eine neu seit Ihrem letzten Besuch/.test(text), `the thread does not say one message is new:\n${text.slice(0, 600)}`);
  await threadPage('vorgang-rueckfrage');
});
await accessibility('vorgang-rueckfrage');

// ---------------------------------------------------------------- 5. reply with PNG
await step(S5, async () => {
  needs(S4);
  const response = await replyByKeyboard(REPLY, PHOTO_PATH);
  const posted = response.request().redirectedFrom();
  check(posted && posted.method() === 'POST' && new URL(posted.url()).pathname === `/api/applications/${receipt.id}/messages`,
    `sending did not POST to the messages: ${posted ? `${posted.method()} ${posted.url()}` : 'no redirect'}`);
  const first = await posted.response();
  check(first.status() === 303, `the reply answered ${first.status()}, not 303`);
  const at = new URL(page.url());
  check(at.pathname === '/api/vorgang' && at.searchParams.get('id') === receipt.id, `the 303 led to ${page.url()}`);
  check(response.status() === 200, `the thread page after the reply answered ${response.status()}`);
  const confirmation = page.locator('[role=status]');
  check((await confirmation.count()) === 1 && /Nachricht wurde .*gesendet/.test(await confirmation.innerText()),
    'no confirmation (role=status) that the message was sent');
  const shown = await messages();
  check(shown.length === 2, `the thread shows ${shown.length} messages after the reply: ${JSON.stringify(shown)}`);
  const [question, reply] = shown;
  check(!question.isNew, 'the question is still marked new after the citizen has seen and answered it');
  check(reply.from === 'citizen' && /^Sie\b/.test(reply.heading), `the reply is not shown as the citizen's: ${JSON.stringify(reply)}`);
  check(reply.text.includes(REPLY), `the reply's text is missing: ${reply.text}`);
  check(reply.files.length === 1 && reply.files[0] === PHOTO_NAME, `the reply's files are ${JSON.stringify(reply.files)}`);
  check(/PNG/.test(await page.locator('li.nachricht--buerger ul.anhaenge li').innerText()), 'the attachment does not say it is a PNG');
  // Who wrote is shown by more than colour: the bar's side and the indent differ.
  const layout = await page.locator('ol.nachrichten > li > article').evaluateAll((els) =>
    els.map((e) => {
      const cs = getComputedStyle(e);
      return [cs.borderLeftWidth, cs.borderRightWidth, cs.marginLeft, cs.marginRight].join(' ');
    }),
  );
  check(layout[0] !== layout[1], `office and citizen messages differ only in colour: ${JSON.stringify(layout)}`);
  await threadPage('vorgang-antwort');
});
await accessibility('vorgang-antwort');

// ---------------------------------------------------------------- 6. office pulls
await step(S6, async () => {
  needs(S5);
  await lotse('inbox', 'pull', '--server', base, '--portal', PORTAL, '--office', OFFICE, '--key', OFFICE_KEY, '--out', PULLED);
  const folder = join(PULLED, receipt.id);
  check(existsSync(join(folder, 'application.json')), `the pull wrote no ${folder}/application.json`);
  const thread = JSON.parse(readFileSync(join(folder, 'messages.json'), 'utf8'));
  const list = Array.isArray(thread) ? thread : thread.messages;
  const reply = list.find((m) => m.from === 'citizen');
  check(reply && reply.text === REPLY, `messages.json lacks the citizen's reply: ${JSON.stringify(list).slice(0, 400)}`);
  const file = reply.attachments?.[0];
  check(file && file.name === PHOTO_NAME && file.type === 'image/png', `the reply's attachment in messages.json: ${JSON.stringify(file)}`);
  check(file.sha256 === sha256(PHOTO), `messages.json names SHA-256 ${file.sha256}, the upload was ${sha256(PHOTO)}`);
  const names = readdirSync(join(folder, 'attachments'));
  const written = names.filter((n) => n.endsWith(`-${PHOTO_NAME}`));
  check(written.length === 1, `attachments/ holds ${JSON.stringify(names)}`);
  const bytes = readFileSync(join(folder, 'attachments', written[0]));
  check(sha256(bytes) === sha256(PHOTO), `the pulled PNG differs from the upload (${bytes.length} vs ${PHOTO.length} bytes)`);
});

// ---------------------------------------------------------------- 7. office decides
await step(S7, async () => {
  needs(S1);
  await lotse('inbox', 'reply', '--server', base, '--id', receipt.id, '--text', DECISION_TEXT, '--attach', DECISION_PATH, '--status', 'completed');
});

// ---------------------------------------------------------------- 8. the Bescheid
await step(S8, async () => {
  needs(S5, S7);
  const response = await page.reload();
  check(response.status() === 200, `reloading the thread answered ${response.status()}`);
  const text = await mainText();
  check(/Aktueller Stand: Abgeschlossen/.test(text), `the status is not "Abgeschlossen":\n${text.slice(0, 400)}`);
  check((await page.locator('.hinweis[role=note]').count()) === 0, 'the needs_info notice is still shown after completion');
  const shown = await messages();
  check(shown.length === 3, `the thread shows ${shown.length} messages: ${JSON.stringify(shown)}`);
  const decision = shown[2];
  check(decision.from === 'office' && decision.isNew, `the Bescheid is not shown as the office's new message: ${JSON.stringify(decision)}`);
  check(decision.text.includes(DECISION_TEXT), `the Bescheid's text is missing: ${decision.text}`);
  check(/Neuer Stand: Abgeschlossen/.test(decision.text), `the message does not say it set the status: ${decision.text}`);
  check(decision.files.length === 1 && decision.files[0] === DECISION_NAME, `the Bescheid's files are ${JSON.stringify(decision.files)}`);
  await threadPage('vorgang-bescheid');
  // Download by keyboard: Tab to the link, Enter.
  await tabTo(DECISION_NAME);
  await focusVisible();
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), page.keyboard.press('Enter')]);
  check(download.suggestedFilename() === DECISION_NAME, `the download is named ${download.suggestedFilename()}`);
  const bytes = readFileSync(await download.path());
  check(sha256(bytes) === sha256(DECISION), `the downloaded Bescheid differs from the office's PDF (${bytes.length} vs ${DECISION.length} bytes)`);
  check(new URL(page.url()).pathname === '/api/vorgang', `the download navigated away to ${page.url()}`);
});
await accessibility('vorgang-bescheid');

// ---------------------------------------------------------------- 9. refused upload
await step(S9, async () => {
  needs(S5);
  await page.goto(`${base}/api/vorgang?id=${encodeURIComponent(receipt.id)}`);
  const response = await replyByKeyboard(REFUSED_TEXT, FAKE_PATH);
  check(response.status() === 415, `the renamed .exe answered ${response.status()}, not 415`);
  check(response.request().redirectedFrom() === null, 'the refused reply was redirected');
  const alert = page.locator('.fehlerliste[role=alert]');
  check((await alert.count()) === 1 && (await alert.isVisible()), 'the refusal has no visible error summary (role=alert)');
  const reason = await alert.innerText();
  check(reason.includes(FAKE_NAME) && /kein PDF, PNG oder JPEG/.test(reason), `the refusal does not name the file and the reason:\n${reason}`);
  for (const href of await alert.locator('a[href^="#"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')))) {
    check((await page.locator(href).count()) === 1, `the error summary links to ${href}, which is not on the page`);
  }
  check((await page.title()).startsWith('Fehler: '), `the refusal's title does not say so: ${await page.title()}`);
  check((await page.inputValue('#nachricht-text')) === REFUSED_TEXT, `the typed text was not kept: ${JSON.stringify(await page.inputValue('#nachricht-text'))}`);
  check((await messages()).length === 3, 'the refused message was stored');
  await threadPage('vorgang-abgewiesen');
});
await accessibility('vorgang-abgewiesen');

await browser.close();
rmSync(work, { recursive: true, force: true });
process.exitCode = steps.summary();
