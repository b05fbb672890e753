// What every workspace page starts with: who is logged in (GET /api/amt/session), the
// login panel otherwise, the header with "Abmelden", the offices of the session with
// their names from dienststellen.json, and the error messages of failed requests.

import * as api from './api.js';
import * as keys from './keys.js';
import { $, alarm, el, local, say } from './ui.js';

const CHOSEN = 'lotse-amt-dienststelle';

export const params = new URLSearchParams(location.search);
const here = () => location.pathname + location.search;

function loginLink(text) {
  return el('a', { href: api.loginUrl(here()) }, text);
}

/** Shows a failed request: 401 with a link to log in again, the rest as it says;
 *  `at` names a paragraph next to the form that failed, which says it too. */
export function fail(error, at = null) {
  const text = error && error.message ? error.message : 'Unerwarteter Fehler. Bitte laden Sie die Seite neu.';
  if (error && error.status === 401) alarm(text, loginLink('Erneut anmelden'));
  else alarm(text);
  if (at) local(at, text, true);
}

/** The login panel instead of the page: `title` and `text` say why. */
function showLogin(title, text, { configured = true } = {}) {
  $('ap-seite').hidden = true;
  $('ap-nav').hidden = true;
  $('ap-sitzung').hidden = true;
  $('ap-anmeldung-titel').textContent = title;
  $('ap-anmeldung-text').textContent = text;
  $('ap-anmelden').href = api.loginUrl(here());
  $('ap-anmelden-absatz').hidden = !configured;
  $('ap-anmeldung').hidden = false;
}

async function logout() {
  let kept = false;
  try {
    await keys.removeAll();
  } catch {
    kept = true;
  }
  try {
    await api.logout();
  } catch (e) {
    if (e.status !== 401) {
      fail(e);
      return;
    }
  }
  showLogin(
    'Sie sind abgemeldet',
    kept
      ? 'Sie sind abgemeldet. Die Schlüssel ließen sich nicht aus diesem Browser entfernen: Bitte löschen Sie die Websitedaten dieses Browsers.'
      : 'Sie sind abgemeldet. Die Schlüssel Ihrer Dienststellen wurden aus diesem Browser entfernt.',
  );
  const heading = $('ap-anmeldung-titel');
  heading.tabIndex = -1;
  heading.focus();
  say('Sie sind abgemeldet.');
}

/** An office of the session: its entry of dienststellen.json, or a stand-in. */
function officeOf(all, id) {
  return (
    all.find((o) => o.id === id) || {
      id,
      portal: id.split('/')[0],
      office: id.split('/')[1] || '',
      name: id,
      portal_name: '',
      public_key: null,
      services: [],
    }
  );
}

export const officeName = (o) => (o.portal_name ? `${o.name} – ${o.portal_name}` : o.name);

/**
 * Starts a page: resolves with `{session, offices, office}` (the session's offices and
 * the chosen one) when someone is logged in, else shows the login panel and resolves
 * with null. The page's content is shown once the caller has filled it (`show()`).
 */
export async function start() {
  let session;
  try {
    session = await api.session();
  } catch (e) {
    fail(e);
    return null;
  }
  if (!session.logged_in) {
    if (session.configured === false) {
      showLogin(
        'Anmeldung nicht eingerichtet',
        'Die Anmeldung am Arbeitsplatz ist für dieses Portal noch nicht eingerichtet. Bitte wenden Sie sich an Ihre IT ([office_login] in region.toml).',
        { configured: false },
      );
    } else {
      showLogin('Bitte melden Sie sich an', 'Der Arbeitsplatz ist für die Mitarbeiterinnen und Mitarbeiter der Verwaltung. Bitte melden Sie sich mit Ihrem Dienstkonto an.');
    }
    return null;
  }
  $('ap-name').textContent = session.name || 'Dienstkonto';
  $('ap-sitzung').hidden = false;
  $('ap-nav').hidden = false;
  $('ap-abmelden').addEventListener('click', logout);

  let all = [];
  try {
    all = await api.offices();
  } catch (e) {
    fail(e);
  }
  const offices = (session.offices || []).map((id) => officeOf(all, id));
  const wanted = params.get('dienststelle') || localStorage.getItem(CHOSEN);
  const office = offices.find((o) => o.id === wanted) || offices[0] || null;
  if (office) localStorage.setItem(CHOSEN, office.id);
  chooser(offices, office);
  return { session, offices, office, all };
}

/** The office chooser (a GET form, where the page has one) and the office's name. */
function chooser(offices, office) {
  const form = $('ap-dienststelle');
  const name = $('ap-dienststelle-name');
  if (name && office) name.textContent = officeName(office);
  if (!form || offices.length < 2) return;
  const select = $('ap-dienststelle-wahl');
  select.replaceChildren(...offices.map((o) => el('option', { value: o.id, selected: o === office }, officeName(o))));
  form.hidden = false;
}

export function show() {
  $('ap-seite').hidden = false;
}
