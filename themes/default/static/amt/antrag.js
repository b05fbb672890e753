// One application, opened: its key facts, its fields under the labels of the form
// schema, its history and its conversation. Shared by the Vorgang page and the print
// page; the export builds its JSON from the same pieces.

import * as api from './api.js';
import * as envelope from './envelope.js';
import { fail } from './shell.js';
import { $, PAYMENT, download, el, euro, size, statusLabel, statusTag, time } from './ui.js';

export const officeIdOf = (entry) => `${entry.portal}/${entry.office}`;

/** The key facts as a description list. */
export function facts(entry, plain, offices) {
  const office = offices.find((o) => o.id === officeIdOf(entry));
  const title = plain?.service_title || office?.services.find((s) => s.slug === entry.service)?.title || entry.service;
  const rows = [
    ['Vorgangsnummer', entry.id],
    ['Leistung', title],
    ['Dienststelle', office ? `${office.name} – ${office.portal_name}` : officeIdOf(entry)],
    ['Eingegangen', time(entry.created_at)],
    ['Status', statusTag(entry.status)],
  ];
  if (entry.payment) {
    const p = entry.payment;
    const text = [euro(p.amount), PAYMENT[p.status] || p.status, p.reference ? `Kassenzeichen ${p.reference}` : ''];
    rows.push(['Gebühr', text.filter(Boolean).join(', ')]);
  }
  $('ap-eckdaten').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  return title;
}

const isoDate = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A field's value as a reader of the form expects it. */
function shown(field, value) {
  if (value === undefined || value === null || value === '') return 'keine Angabe';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const date = field?.type === 'date' && isoDate.exec(text);
  if (date) return `${date[3]}.${date[2]}.${date[1]}`;
  if (field?.type === 'checkbox') return text === 'ja' ? 'Ja' : text === 'nein' ? 'Nein' : text;
  return text;
}

/** The fields in the order of the schema, then any the schema does not know:
 *  `[{id, label, value}]` (value as shown). */
export function fieldsOf(plain, schema) {
  const values = plain.fields || {};
  const known = schema?.fields || [];
  const out = known.map((f) => ({ id: f.id, label: f.label || f.id, value: shown(f, values[f.id]) }));
  for (const [id, value] of Object.entries(values)) {
    if (!known.some((f) => f.id === id)) out.push({ id, label: id, value: shown(null, value) });
  }
  return out;
}

export function showFields(fields) {
  $('ap-angaben').replaceChildren(
    ...fields.flatMap((f) => [el('dt', {}, f.label), el('dd', { class: f.value === 'keine Angabe' ? 'ap-leer' : 'ap-wert' }, f.value)]),
  );
}

export function showHistory(history) {
  $('ap-verlauf-zeilen').replaceChildren(
    ...(history || []).map((h) => el('tr', {}, el('td', {}, time(h.at)), el('td', {}, statusLabel(h.status)))),
  );
}

/** Opens the application and fetches its schema: `{plain, schema}`, or `{error}`. */
export async function open(entry) {
  try {
    const [plain, schema] = await Promise.all([
      envelope.openApplication(officeIdOf(entry), entry),
      api.schema(entry.portal, entry.service).catch(() => null),
    ]);
    return { plain, schema };
  } catch (e) {
    return { error: e, noKey: e instanceof envelope.NoKey };
  }
}

/** The conversation as a list: every message opened, its files as buttons that open
 *  and download them (`files` false: names only, for print). */
export async function showMessages(officeId, entries, { files = true } = {}) {
  const opened = await openAll(officeId, entries);
  const items = entries.map((entry, i) => message(entry, opened[i], files));
  $('ap-nachrichten').replaceChildren(...items);
  $('ap-keine-nachrichten').hidden = entries.length > 0;
  return opened;
}

async function openAll(officeId, entries) {
  try {
    return await envelope.openMessages(officeId, entries);
  } catch (e) {
    return entries.map(() => ({ error: e.message }));
  }
}

function message(entry, content, files) {
  const office = entry.from === 'office';
  const who = office ? 'Dienststelle' : 'Antragstellende Person';
  const body = [el('h3', { class: 'nachricht__kopf' }, who, ' ', el('span', { class: 'nachricht__zeit' }, time(entry.at)))];
  if (content.error) {
    body.push(el('p', { class: 'ap-warnung' }, content.error));
  } else {
    if (content.status) body.push(el('p', { class: 'nachricht__status' }, 'Status gesetzt: ', statusLabel(content.status)));
    if (content.text) body.push(el('p', { class: 'ap-text' }, content.text));
    const attachments = content.attachments || [];
    if (attachments.length) {
      body.push(el('ul', { class: 'anhaenge' }, ...attachments.map((a) => el('li', {}, files ? fileButton(entry, a) : fileName(a)))));
    }
  }
  return el('li', { class: `nachricht nachricht--${office ? 'behoerde' : 'buerger'}` }, el('article', {}, ...body));
}

const fileName = (a) => `${a.name} (${size(a.size)})`;

function fileButton(entry, attachment) {
  const button = el('button', { type: 'button', class: 'ap-datei' }, `${fileName(attachment)} herunterladen`);
  button.addEventListener('click', async () => {
    try {
      const bytes = await plainFile(entry, attachment);
      download(attachment.name, attachment.type, bytes);
    } catch (e) {
      fail(e);
    }
  });
  return button;
}

/** The plain bytes of a file, from the sealed bytes inline or at their address. */
export async function plainFile(entry, attachment) {
  const sealed = (entry.attachments || []).find((f) => f.id === attachment.id);
  if (!sealed || sealed.unreadable) throw new Error(`Die Datei „${attachment.name}“ fehlt auf dem Server.`);
  const bytes = sealed.ciphertext ? base64Bytes(sealed.ciphertext) : await api.sealedFile(sealed.href);
  return envelope.openAttachment(entry, attachment, bytes);
}

function base64Bytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
