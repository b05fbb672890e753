// Protokoll (/amt/protokoll/): the office's audit log, newest first, 50 at a time. It
// names who did what when to which application, never a content.

import * as api from './api.js';
import { fail, show, start } from './shell.js';
import { $, el, say, statusLabel, time } from './ui.js';

const ACTIONS = {
  status: 'Status geändert',
  message: 'Nachricht geschrieben',
  export: 'Exportiert',
  download: 'Datei geladen',
  delete: 'Antrag gelöscht',
};
const FORMATS = { json: 'als JSON', print: 'zum Drucken' };

const ctx = await start();
if (ctx && ctx.office) await main(ctx.office);
else if (ctx) show();

async function main(office) {
  show();
  let cursor = '';
  let shown = 0;
  const button = $('ap-weitere');
  const more = async (announce) => {
    let page;
    try {
      page = await api.audit(office.id, cursor);
    } catch (e) {
      fail(e);
      return;
    }
    const rows = (page.entries || []).map(row);
    $('ap-protokoll-zeilen').append(...rows);
    shown += rows.length;
    cursor = page.next || '';
    button.hidden = !cursor;
    $('ap-leer').hidden = shown > 0;
    $('ap-anzahl').textContent = shown ? `${shown} Einträge angezeigt.` : '';
    if (announce) {
      say(`${rows.length} weitere Einträge geladen, ${shown} angezeigt.`);
      rows[0]?.querySelector('th')?.focus();
    }
  };
  button.addEventListener('click', () => more(true));
  await more(false);
}

function detail(e) {
  if (e.detail === null || e.detail === undefined || e.detail === '') return '';
  if (e.action === 'status') return statusLabel(e.detail);
  if (e.action === 'export') return FORMATS[e.detail] || e.detail;
  if (e.action === 'download') return `Datei ${e.detail}`;
  if (e.action === 'message') {
    const n = Number(e.detail);
    return Number.isFinite(n) ? (n === 1 ? 'mit einer Datei' : n ? `mit ${n} Dateien` : 'ohne Dateien') : String(e.detail);
  }
  return String(e.detail);
}

function row(e) {
  const who = e.actor === 'token' ? 'Zugangsschlüssel der Dienststelle' : e.actor_name || e.actor_id || 'Dienstkonto';
  const link = e.application ? el('a', { href: `/amt/vorgang/?id=${encodeURIComponent(e.application)}` }, e.application) : '–';
  return el(
    'tr',
    {},
    el('th', { scope: 'row', tabindex: '-1' }, time(e.at)),
    el('td', {}, who),
    el('td', {}, ACTIONS[e.action] || e.action),
    el('td', {}, link),
    el('td', {}, detail(e)),
  );
}
