// The workspace's requests: the staff session (/api/amt/*) and the office API
// (/api/office/*), always same-origin with the session cookie. Errors become an
// ApiError with a German message for the caseworker. No request ever carries a key:
// keys live in keys.js and go only into the WebAssembly module (envelope.js).

const MESSAGES = {
  401: 'Ihre Anmeldung ist abgelaufen oder wurde beendet. Bitte melden Sie sich erneut an.',
  403: 'Dafür fehlt Ihnen die Berechtigung. Sie sehen nur die Dienststellen, für die Ihr Dienstkonto freigegeben ist.',
  404: 'Das gibt es nicht, oder es gehört nicht zu Ihren Dienststellen.',
  413: 'Das ist zu groß: höchstens 10 MB je Datei und 20 MB zusammen.',
  415: 'Diese Dateiart wird nicht angenommen. Erlaubt sind PDF, PNG und JPEG.',
  429: 'Zu viele Anfragen in kurzer Zeit. Bitte warten Sie einen Moment.',
  503: 'Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Minuten erneut.',
};
const OFFLINE = 'Keine Verbindung zum Server. Bitte prüfen Sie die Netzverbindung und versuchen Sie es erneut.';

export class ApiError extends Error {
  constructor(status, message, code = '') {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The German message for an answer `status` with the JSON `body` (if any): our own
 *  for 401 and 503 (the reason is always the same), the server's for the rest. */
function messageFor(status, body) {
  if (status === 401 || status >= 500) return MESSAGES[status] || MESSAGES[503];
  if (body && typeof body.message === 'string' && body.message) return body.message;
  return MESSAGES[status] || `Die Anfrage ist fehlgeschlagen (Fehler ${status}).`;
}

// Requests under way: every answer to a staff request renews the session cookie, so an
// answer that arrives after the logout would bring the session back. The logout waits
// for them and lets no new one start.
let pending = 0;
let idle = [];
let closing = false;

function done() {
  pending -= 1;
  if (pending === 0) {
    for (const resolve of idle) resolve();
    idle = [];
  }
}

/** Resolves once no request is under way (at most after `ms`). */
function settled(ms = 10_000) {
  if (pending === 0) return Promise.resolve();
  return new Promise((resolve) => {
    idle.push(resolve);
    setTimeout(resolve, ms);
  });
}

/** Sends a request and returns the JSON answer (or the Response, with `raw`). */
export async function request(path, options = {}) {
  if (closing) throw new ApiError(401, MESSAGES[401], 'logged_out');
  pending += 1;
  try {
    return await send(path, options);
  } finally {
    done();
  }
}

async function send(path, { method = 'GET', json, body, raw = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store' };
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body; // FormData: the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, OFFLINE, 'offline');
  }
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      // not JSON: keep the default message
    }
    throw new ApiError(response.status, messageFor(response.status, parsed), parsed?.error || '');
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

const enc = encodeURIComponent;
const officePath = (officeId) => officeId.split('/').map(enc).join('/');

export const session = () => request('/api/amt/session');
/** Ends the session: no new request starts, the ones under way are waited for, then
 *  `POST /api/amt/logout`. */
export async function logout() {
  closing = true;
  await settled();
  try {
    return await send('/api/amt/logout', { method: 'POST' });
  } catch (e) {
    closing = false; // so that "Abmelden" can be tried again
    throw e;
  }
}
export const loginUrl = (returnTo) => `/api/amt/login?return=${enc(returnTo)}`;

/** All offices of the region with their public keys (written by `lotse build`). */
export async function offices() {
  const answer = await request('/amt/dienststellen.json');
  return answer.offices || [];
}

/** One page of an office's applications: `{applications, next}`. */
export function applications(officeId, { statuses = [], service = '', id = '', order = 'oldest', cursor = '', limit = 50 } = {}) {
  const q = new URLSearchParams({ limit: String(limit), order });
  if (statuses.length) q.set('status', statuses.join(','));
  if (service) q.set('service', service);
  if (id) q.set('id', id);
  if (cursor) q.set('cursor', cursor);
  return request(`/api/office/${officePath(officeId)}/applications?${q}`);
}

export const counts = (officeId) => request(`/api/office/${officePath(officeId)}/counts`);

export function audit(officeId, cursor = '') {
  const q = new URLSearchParams({ limit: '50' });
  if (cursor) q.set('cursor', cursor);
  return request(`/api/office/${officePath(officeId)}/audit?${q}`);
}

const app = (id) => `/api/office/applications/${enc(id)}`;
export const application = (id) => request(app(id));
export const messages = (id) => request(`${app(id)}/messages`);
export const setStatus = (id, status, note) => request(`${app(id)}/status`, { method: 'POST', json: { status, note } });
export const sendMessage = (id, formData) => request(`${app(id)}/messages`, { method: 'POST', body: formData });
export const exportOf = (id, format) => request(`${app(id)}/export?format=${enc(format)}`);

/** The sealed bytes of an attachment listed by address instead of inline. */
export async function sealedFile(href) {
  if (!href.startsWith('/api/office/')) throw new ApiError(0, 'Unerwartete Adresse einer Datei.');
  const response = await request(href, { raw: true });
  return new Uint8Array(await response.arrayBuffer());
}

/** The form schema of a service (labels and options of its fields); null if gone. */
export async function schema(portal, service) {
  try {
    return await request(`/forms/${enc(portal)}/${enc(service)}.json`);
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}
