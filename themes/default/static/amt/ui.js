// Small DOM helpers of the workspace: elements without innerHTML (every text from an
// application is data, never markup), the live regions, German labels and formats.

export const $ = (id) => document.getElementById(id);

/** `el('a', {href: '/amt/'}, 'Posteingang')`: attributes (`class`, `hidden`, `data-*`,
 *  anything else as an attribute) and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'hidden') node.hidden = true;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return node;
}

function fill(region, ...content) {
  // Emptied first and filled a moment later, so that the same message is read again.
  region.replaceChildren();
  setTimeout(() => region.replaceChildren(...content), 50);
}

/** A message in the polite status region (`role=status`). */
export function say(...content) {
  fill($('ap-meldung'), el('p', {}, ...content));
}

/** An error in the alert region (`role=alert`); `extra` (a node) follows the text. */
export function alarm(text, extra = null) {
  fill($('ap-fehler'), el('p', {}, text, extra ? ' ' : '', extra));
}

/** The same message also next to the form it answers (`id`: a paragraph there), for
 *  eyes that are on the form; only the live regions announce it. */
export function local(id, text, error = false) {
  const here = $(id);
  if (!here) return;
  here.textContent = text;
  here.className = error ? 'ap-ergebnis ap-ergebnis--fehler' : 'ap-ergebnis';
}

export function quiet() {
  $('ap-meldung').replaceChildren();
  $('ap-fehler').replaceChildren();
}

export const STATUS = {
  awaiting_payment: 'Wartet auf Bezahlung',
  received: 'Eingegangen',
  in_progress: 'In Bearbeitung',
  needs_info: 'Rückfrage',
  completed: 'Erledigt',
  rejected: 'Abgelehnt',
};
export const statusLabel = (s) => STATUS[s] || s || 'Unbekannt';

export const PAYMENT = { open: 'offen', paid: 'bezahlt', failed: 'fehlgeschlagen', cancelled: 'abgebrochen' };

/** A status as a label with its own class (shape and words, not colour alone). */
export const statusTag = (s) => el('span', { class: `ap-status ap-status--${s}` }, statusLabel(s));

const DATE_TIME = new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' });

/** `2026-11-23T19:56:04Z` or milliseconds since the epoch, as "23.11.2026, 20:56". */
export function dateTime(value) {
  if (value === null || value === undefined || value === '') return '–';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : DATE_TIME.format(date);
}

/** A `<time>` element for `value`. */
export function time(value) {
  const date = new Date(value);
  const iso = Number.isNaN(date.getTime()) ? null : date.toISOString();
  return el('time', { datetime: iso }, dateTime(value));
}

export function euro(amount) {
  const n = Number(amount);
  return Number.isFinite(n) ? n.toLocaleString('de-DE', { style: 'currency', currency: 'EUR' }) : String(amount);
}

export function size(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} Byte`;
  if (n < 1024 * 1024) return `${(n / 1024).toLocaleString('de-DE', { maximumFractionDigits: 1 })} KB`;
  return `${(n / 1024 / 1024).toLocaleString('de-DE', { maximumFractionDigits: 1 })} MB`;
}

/** Offers `bytes` as a file named `name` (a Blob URL, revoked after the download). */
export function download(name, type, bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: type || 'application/octet-stream' }));
  const link = el('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Sets the page's heading and title (`… – Arbeitsplatz – <region>`). */
export function heading(text) {
  $('ap-titel').textContent = text;
  const rest = document.title.split(' – ').slice(1).join(' – ');
  document.title = rest ? `${text} – ${rest}` : text;
}

/** A button that is busy while `fn` runs: a second press does nothing, the label says
 *  so. (aria-disabled, not disabled: a disabled button would lose the keyboard focus.) */
export async function busy(button, label, fn) {
  if (button.getAttribute('aria-disabled') === 'true') return undefined;
  const before = button.textContent;
  button.setAttribute('aria-disabled', 'true');
  button.textContent = label;
  try {
    return await fn();
  } finally {
    button.removeAttribute('aria-disabled');
    button.textContent = before;
  }
}
