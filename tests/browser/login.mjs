// End-to-end test of the login path in Chromium, against a running `lotse serve` whose
// login goes to the test OpenID provider (tests/oidc-provider/server.mjs):
// BundID login at the level a service needs -> apply -> "Mein Postfach" -> logout.
//
//   node tests/browser/login.mjs http://127.0.0.1:8080
//
// JavaScript stays on and the pages keep their real Content-Security-Policy (axe-core is
// evaluated through DevTools, which CSP does not govern). One browser context is the
// citizen: its cookies carry the login from step to step. Exits 1 if any check fails, 2
// if Chromium cannot be started. Normally started by `cargo test --test browser_login`.

import { Steps, check, checkAxe, launchChromium, newContext, options, runAxe } from './harness.mjs';

const { base } = options();
const SERVICE = '/bottrop/gewerbe-anmelden/';
const SERVICE_TITLE = 'Gewerbe anmelden';
const HIGH_SERVICE = '/bottrop/wohnsitz-anmelden/';
const POSTFACH = '/api/postfach?portal=bottrop';
// The fixed citizen of tests/oidc-provider/server.mjs.
const CITIZEN = { given: 'Erika', family: 'Mustermann', email: 'erika@example.org' };

const notes = [];

const steps = new Steps();
const step = (name, fn) => steps.step(name, fn);
const needs = (...earlier) => steps.needs(...earlier);
const browser = await launchChromium();

// Nothing but loopback: the login runs between `lotse serve` and the provider on 127.0.0.1.
const ctx = await newContext(browser, { javaScriptEnabled: true }, { loopbackOnly: true });
const page = await ctx.newPage();

const mainText = async () => (await page.locator('main').innerText()).trim();
const pathOf = (url) => new URL(url).pathname;

/** What /api/session says for the citizen's cookies (context.request shares them; the
 *  function pages' CSP would block a fetch from the page). */
const session = async () => (await ctx.request.get(`${base}/api/session`, { headers: { accept: 'application/json' } })).json();

const isMainNavigation = (r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame();
const isRedirect = (r) => r.status() >= 300 && r.status() < 400;

/** The requests of a navigation, first to last (`request` and the ones it was redirected from). */
function redirectChain(request) {
  const chain = [];
  for (let q = request; q; q = q.redirectedFrom()) chain.unshift(q);
  return chain;
}

/** Runs `action`, which starts a navigation through a request to `urlPart` (by `method`),
 *  and waits until its last redirect has been followed and that page has loaded.
 *  Resolves with { first, last, chain }: the response to the `urlPart` request, the
 *  final response, and all requests of the navigation. */
async function navigation(action, urlPart, method = 'GET') {
  const startedHere = (r) => redirectChain(r.request()).some((q) => q.url().includes(urlPart) && q.method() === method);
  const [last] = await Promise.all([
    page.waitForResponse((r) => isMainNavigation(r) && !isRedirect(r) && startedHere(r), { timeout: 15000 }),
    action(),
  ]);
  const bare = (url) => url.split('#')[0];
  await page.waitForURL((u) => bare(u.href) === bare(last.url()), { waitUntil: 'load' });
  const chain = redirectChain(last.request());
  const first = await chain.find((q) => q.url().includes(urlPart) && q.method() === method).response();
  return { first, last, chain };
}

/** The response to the request to `urlPart` that `action` navigates with (it may redirect). */
async function navigate(action, urlPart, method = 'GET') {
  return (await navigation(action, urlPart, method)).first;
}

/** Clicks "Anmelden mit BundID" and follows the redirects through the provider until a
 *  page is shown; returns the callback's response and the chain of navigations. */
async function loginFrom(scope) {
  const link = scope.getByRole('link', { name: 'Anmelden mit BundID' });
  check((await link.count()) === 1, `no single "Anmelden mit BundID" link on ${page.url()}`);
  const { last, chain: requests } = await navigation(() => link.click(), '/api/login');
  const chain = [];
  let callback = null;
  for (const q of requests) {
    const response = await q.response();
    chain.push(`${response ? response.status() : '---'} ${q.url().split('?')[0]}`);
    if (new URL(q.url()).pathname === '/api/callback') callback = response;
  }
  if (!callback) {
    const text = (await page.locator('body').innerText().catch(() => '')).slice(0, 300);
    throw new Error(`the login did not come back to /api/callback; it ended at ${last.status()} ${last.url()}:\n${chain.join('\n')}\n${text}`);
  }
  return { callback, chain };
}

async function fillGewerbe({ email } = {}) {
  await page.fill('#feld-betriebsname', 'Fahrradladen Mustermann');
  await page.selectOption('#feld-rechtsform', 'Einzelunternehmen');
  await page.fill('#feld-beginn', '2026-12-01');
  await page.fill('#feld-taetigkeit', 'Einzelhandel mit Fahrrädern und Zubehör');
  await page.check('#feld-erwerbsart-2');
  await page.fill('#feld-betriebsstaette_plz', '46236');
  await page.fill('#feld-beschaeftigte', '2');
  if (email !== undefined) await page.fill('#feld-email', email);
}

async function axe(label) {
  checkAxe(await runAxe(page), label, { url: page.url() });
}

const S1 = '1. service page without login: BundID login required, submission refused (401)';
const S2 = '2. "Anmelden mit BundID" -> provider -> back on the service page, logged in, e-mail prefilled';
const S3 = '3. apply while logged in -> receipt with Vorgangsnummer and Schlüssel';
const S4 = '4. "Mein Postfach" (header link) lists the application with its status';
const S6 = '6. level too low: "Wohnsitz anmelden" (high) refused with a substantial login (403)';
const S6b = '6b. login for "high" from the service page while the provider session is substantial: the provider asks again, the session reaches "high"';
const S7 = '7. "Abmelden" in Mein Postfach -> logged out, Mein Postfach asks to log in and lists nothing';

let receipt = null; // { id, token }

// ---------------------------------------------------------------- 1. not logged in
await step(S1, async () => {
  await page.goto(`${base}${SERVICE}`);
  check((await page.locator('h1').innerText()).trim() === SERVICE_TITLE, `wrong h1 on ${SERVICE}`);
  const hint = page.locator('#antrag .hinweis--anmeldung');
  check((await hint.count()) === 1, 'the form section has no login notice (.hinweis--anmeldung)');
  const text = await hint.innerText();
  check(/mit Ihrer BundID anmelden/.test(text), `the login notice does not say a BundID login is needed:\n${text}`);
  check(/ELSTER-Zertifikat/.test(text), `the login notice does not name the level (ELSTER-Zertifikat):\n${text}`);
  const href = await hint.getByRole('link', { name: 'Anmelden mit BundID' }).getAttribute('href');
  const login = new URL(href, base);
  check(login.pathname === '/api/login', `the login link goes to ${href}`);
  check(login.searchParams.get('level') === 'substantial', `the login link asks for level ${login.searchParams.get('level')}`);
  check(login.searchParams.get('portal') === 'bottrop', `the login link names portal ${login.searchParams.get('portal')}`);
  check(login.searchParams.get('return')?.startsWith(SERVICE), `the login link returns to ${login.searchParams.get('return')}`);
  check((await session()).logged_in === false, 'a fresh browser is logged in');
  // The form is offered without login; the server refuses it.
  check((await page.locator('#antrag form.formular').count()) === 1, 'the form is not offered');
  // Prefill only fills from a session: without one the e-mail field stays empty.
  await page.waitForTimeout(300);
  check((await page.inputValue('#feld-email')) === '', 'the e-mail field is filled without a login');
  await fillGewerbe({ email: 'jemand@example.org' });
  const response = await navigate(() => page.click('#antrag button.knopf--senden'), '/api/applications', 'POST');
  check(response.status() === 401, `submitting without login answered ${response.status()}, not 401`);
  check((await page.locator('h1').innerText()).trim() === 'Anmeldung erforderlich', `the 401 page has h1 "${await page.locator('h1').innerText()}"`);
  const refusal = await mainText();
  check(
    /Für diesen Antrag müssen Sie sich anmelden \(ELSTER-Zertifikat\)/.test(refusal),
    `the 401 page does not explain the login (and its level):\n${refusal}`,
  );
  check(!/Vorgangsnummer/.test(refusal), 'the refused submission shows a Vorgangsnummer');
  if ((await page.getByRole('link', { name: /Anmelden/ }).count()) === 0) {
    notes.push('the 401 page ("Anmeldung erforderlich") offers no login link, only "Zur Startseite"; what was typed is lost');
  }
});

// ---------------------------------------------------------------- 2. login
await step(S2, async () => {
  await page.goto(`${base}${SERVICE}`);
  const { chain } = await loginFrom(page.locator('#antrag'));
  const hosts = new Set(chain.map((c) => new URL(c.split(' ')[1]).port));
  check(hosts.size >= 2, `the login did not go through the provider:\n${chain.join('\n')}`);
  const url = new URL(page.url());
  check(url.origin === base && url.pathname === SERVICE, `after the login the browser is at ${page.url()}, not ${SERVICE}\n${chain.join('\n')}`);
  check(url.hash === '#antrag', `the login returned to ${page.url()}, not to the form (#antrag)`);
  check((await page.locator('h1').innerText()).trim() === SERVICE_TITLE, 'back on the service page, the h1 is wrong');
  const s = await session();
  check(s.logged_in === true, `/api/session says not logged in: ${JSON.stringify(s)}`);
  check(s.level === 'substantial', `logged in at level ${s.level}, not substantial`);
  check(s.given_name === CITIZEN.given && s.family_name === CITIZEN.family, `logged in as ${s.given_name} ${s.family_name}`);
  // prefill.js fills `prefill = "email"` from the session (the only prefilled field here).
  const prefilled = await page.locator('[data-prefill]').evaluateAll((els) => els.map((e) => e.id));
  check(prefilled.length === 1 && prefilled[0] === 'feld-email', `prefilled fields: ${JSON.stringify(prefilled)}`);
  await page.waitForFunction(() => document.getElementById('feld-email').value !== '', null, { timeout: 5000 }).catch(() => {});
  const email = await page.inputValue('#feld-email');
  check(email === CITIZEN.email, `the e-mail field reads ${JSON.stringify(email)}, not the citizen's ${CITIZEN.email}`);
  // The header is static HTML, the same for everyone: it links "Mein Postfach" and shows no login state.
  const header = page.locator('header.kopf');
  const postfach = header.getByRole('link', { name: 'Mein Postfach' });
  check((await postfach.count()) === 1, 'the header has no "Mein Postfach" link');
  check((await postfach.getAttribute('href')) === POSTFACH, `"Mein Postfach" links to ${await postfach.getAttribute('href')}`);
  const headerText = await header.innerText();
  if (!headerText.includes(CITIZEN.family) && !/Abmelden|Angemeldet/.test(headerText)) {
    notes.push('logged in, the header looks as before (static page): no name, no "Abmelden"; only "Mein Postfach" shows the login state');
  }
  if ((await page.locator('#antrag').getByRole('link', { name: 'Anmelden mit BundID' }).count()) > 0) {
    notes.push('logged in, the service page still says "Für diesen Antrag müssen Sie sich mit Ihrer BundID anmelden" and offers the login link');
  }
});

// ---------------------------------------------------------------- 5a. axe, logged in
await step('5a. axe (WCAG 2.1 A/AA): service page, logged in, e-mail prefilled', async () => {
  needs(S2);
  await page.goto(`${base}${SERVICE}`);
  await page.waitForFunction(() => document.getElementById('feld-email').value !== '', null, { timeout: 5000 });
  await axe('the logged-in service page');
});

// ---------------------------------------------------------------- 3. apply
await step(S3, async () => {
  needs(S2);
  await page.goto(`${base}${SERVICE}`);
  await page.waitForFunction(() => document.getElementById('feld-email').value !== '', null, { timeout: 5000 });
  await fillGewerbe(); // the e-mail stays as prefilled
  const response = await navigate(() => page.click('#antrag button.knopf--senden'), '/api/applications', 'POST');
  check(response.status() === 303, `the submission answered ${response.status()}, not 303 to the receipt`);
  check(pathOf(page.url()) === '/api/receipt', `the submission led to ${page.url()}`);
  const text = await mainText();
  check(/Ihr Antrag ist eingegangen/.test(text), `the receipt does not confirm the application:\n${text.slice(0, 400)}`);
  check(/Vorgangsnummer/.test(text) && /Schlüssel/.test(text), `the receipt shows no Vorgangsnummer/Schlüssel:\n${text.slice(0, 400)}`);
  const id = (await page.locator('.vorgang').innerText()).trim();
  const token = (await page.locator('.schluessel').innerText()).trim();
  check(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/.test(id), `Vorgangsnummer ${JSON.stringify(id)} is not like 7K3M-9QPX`);
  check(token.length >= 16, `Schlüssel ${JSON.stringify(token)} is too short`);
  const u = new URL(page.url());
  check(u.searchParams.get('id') === id, 'the receipt URL and page disagree on the Vorgangsnummer');
  receipt = { id, token };
});

// ---------------------------------------------------------------- 4. Mein Postfach
await step(S4, async () => {
  needs(S3);
  await page.goto(`${base}${SERVICE}`);
  await navigate(() => page.locator('header.kopf').getByRole('link', { name: 'Mein Postfach' }).click(), '/api/postfach');
  check(`${pathOf(page.url())}${new URL(page.url()).search}` === POSTFACH, `"Mein Postfach" led to ${page.url()}`);
  check((await page.locator('h1').innerText()).trim() === 'Mein Postfach', 'Mein Postfach has the wrong h1');
  const text = await mainText();
  check(text.includes(`Angemeldet als ${CITIZEN.given} ${CITIZEN.family}`), `Mein Postfach does not name the citizen:\n${text}`);
  const card = page.locator('section.karte', { has: page.locator(`h2:text-is("Vorgang ${receipt.id}")`) });
  check((await card.count()) === 1, `Mein Postfach does not list Vorgang ${receipt.id}:\n${text}`);
  const cardText = await card.innerText();
  check(/Stand:\s*Eingegangen/.test(cardText), `the application's status is not "Eingegangen":\n${cardText}`);
  check(cardText.includes(SERVICE_TITLE), `the entry does not name the service by its title:\n${cardText}`);
  check((await page.getByRole('button', { name: 'Abmelden' }).count()) === 1, 'Mein Postfach has no "Abmelden" button');
});

// ---------------------------------------------------------------- 5b. axe, Mein Postfach
await step('5b. axe (WCAG 2.1 A/AA): Mein Postfach with the application', async () => {
  needs(S4);
  await page.goto(`${base}${POSTFACH}`);
  check((await page.getByText(`Vorgang ${receipt.id}`).count()) === 1, 'the application is not listed');
  await axe('Mein Postfach');
});

// ---------------------------------------------------------------- 6. level too low
async function fillWohnsitz() {
  await page.fill('#feld-einzugsdatum', '2026-11-15');
  await page.fill('#feld-strasse', 'Hauptstraße 5');
  await page.fill('#feld-plz', '46236');
  await page.fill('#feld-bisherige_anschrift', 'Heidestraße 17, 51147 Köln');
  await page.check('#feld-wohnungsstatus-1');
  await page.fill('#feld-wohnungsgeber', 'Wohnbau Bottrop GmbH');
  await page.check('#feld-bestaetigung');
}

await step(S6, async () => {
  needs(S2);
  await page.goto(`${base}${HIGH_SERVICE}`);
  const hint = await page.locator('#antrag .hinweis--anmeldung').innerText();
  check(/Online-Ausweis \(eID\)/.test(hint), `the login notice does not name the level "Online-Ausweis (eID)":\n${hint}`);
  const href = await page.locator('#antrag').getByRole('link', { name: 'Anmelden mit BundID' }).getAttribute('href');
  check(new URL(href, base).searchParams.get('level') === 'high', `the login link asks for ${href}`);
  await fillWohnsitz();
  const response = await navigate(() => page.click('#antrag button.knopf--senden'), '/api/applications', 'POST');
  check(response.status() === 403, `submitting with a substantial login answered ${response.status()}, not 403`);
  check((await page.locator('h1').innerText()).trim() === 'Anfrage abgewiesen', `the 403 page has h1 "${await page.locator('h1').innerText()}"`);
  const text = await mainText();
  check(
    /Für diesen Antrag reicht Ihre Anmeldung nicht aus\. Nötig ist: Online-Ausweis \(eID\)\./.test(text),
    `the 403 page does not explain the level needed:\n${text}`,
  );
  check(!/Vorgangsnummer/.test(text), 'the refused submission shows a Vorgangsnummer');
  check((await session()).level === 'substantial', 'the refusal changed the session');
});

await step(S6b, async () => {
  needs(S2);
  // The provider still has its substantial login. Lotse asks for "high" with
  // acr_values and prompt=login, so the provider asks the citizen again instead of
  // answering from that session (which Lotse would have to refuse, on every retry).
  await page.goto(`${base}${HIGH_SERVICE}`);
  const { callback } = await loginFrom(page.locator('#antrag'));
  check(callback.status() === 303 && pathOf(page.url()) === HIGH_SERVICE,
    `the login for "high" ended at ${page.url()} (${callback.status()}): ${(await mainText()).slice(0, 300)}`);
  check((await session()).level === 'high', `after the login for "high" the level is ${(await session()).level}`);
});

// ---------------------------------------------------------------- 7. logout
await step(S7, async () => {
  needs(S4);
  await page.goto(`${base}${POSTFACH}`);
  await navigate(() => page.getByRole('button', { name: 'Abmelden' }).click(), '/api/logout', 'POST');
  check(pathOf(page.url()) === '/bottrop/', `after "Abmelden" the browser is at ${page.url()}, not /bottrop/`);
  const s = await session();
  check(s.logged_in === false, `/api/session after logout: ${JSON.stringify(s)}`);
  const cookies = await ctx.cookies(base);
  check(!cookies.some((c) => c.name === 'lotse_session'), 'the session cookie is still there');
  await navigate(() => page.locator('header.kopf').getByRole('link', { name: 'Mein Postfach' }).click(), '/api/postfach');
  const text = await mainText();
  check(!text.includes(receipt.id), `Mein Postfach still lists ${receipt.id} after logout`);
  check(!text.includes(CITIZEN.family), 'Mein Postfach still names the citizen after logout');
  check((await page.getByRole('link', { name: 'Anmelden mit BundID' }).count()) === 1, `Mein Postfach does not ask to log in:\n${text}`);
  // And the service refuses a submission again.
  const answer = (
    await ctx.request.post(`${base}/api/applications`, {
      data: { portal: 'bottrop', service: 'gewerbe-anmelden', fields: {} },
      headers: { accept: 'application/json' },
    })
  ).status();
  check(answer === 401, `a submission after logout answered ${answer}, not 401`);
});

await step('8. login again from Mein Postfach -> the same application is listed again', async () => {
  needs(S3, S7);
  await page.goto(`${base}${POSTFACH}`);
  await loginFrom(page.locator('main'));
  check(`${pathOf(page.url())}${new URL(page.url()).search}` === POSTFACH, `the login from Mein Postfach returned to ${page.url()}`);
  const text = await mainText();
  check(text.includes(`Vorgang ${receipt.id}`), `after logging in again, Mein Postfach does not list ${receipt.id}:\n${text}`);
});

await browser.close();
if (notes.length) console.log(`notes (product behaviour, not failures):\n  ${notes.join('\n  ')}`);
process.exitCode = steps.summary();
