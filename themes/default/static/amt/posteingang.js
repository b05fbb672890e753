// Posteingang (/amt/): an office's applications by view (Neu, In Bearbeitung,
// Rückfrage, Erledigt) with their counts, filtered by service or Vorgangsnummer, 50 at
// a time. The list shows what the envelopes carry in clear (number, service, times,
// status); the fields are decrypted only when an application is opened.

import * as api from './api.js';
import * as keys from './keys.js';
import { fail, params, show, start } from './shell.js';
import { $, el, say, statusTag, time } from './ui.js';

const VIEWS = {
  neu: { label: 'Neu', statuses: ['received'], order: 'oldest' },
  bearbeitung: { label: 'In Bearbeitung', statuses: ['in_progress'], order: 'oldest' },
  rueckfrage: { label: 'Rückfrage', statuses: ['needs_info'], order: 'oldest' },
  erledigt: { label: 'Erledigt', statuses: ['completed', 'rejected'], order: 'newest' },
};

async function main(office) {
  const view = VIEWS[params.get('ansicht')] ? params.get('ansicht') : 'neu';
  const service = params.get('leistung') || '';
  const id = (params.get('id') || '').trim().toUpperCase();
  const titles = new Map(office.services.map((s) => [s.slug, s.title]));

  // The views keep the office and the service filter.
  for (const link of document.querySelectorAll('[data-ansicht]')) {
    const q = new URLSearchParams({ dienststelle: office.id, ansicht: link.dataset.ansicht });
    if (service) q.set('leistung', service);
    link.href = `/amt/?${q}`;
    if (link.dataset.ansicht === view && !id) link.setAttribute('aria-current', 'page');
  }
  $('ap-filter-dienststelle').value = office.id;
  $('ap-filter-ansicht').value = view;
  $('ap-nummer').value = id;
  $('ap-filter-weg').href = `/amt/?${new URLSearchParams({ dienststelle: office.id, ansicht: view })}`;
  const select = $('ap-leistung');
  select.append(...office.services.map((s) => el('option', { value: s.slug, selected: s.slug === service }, s.title)));

  const stored = await keys.list().catch(() => []);
  $('ap-ohne-schluessel').hidden = stored.some((k) => k.office === office.id);

  const what = id
    ? `Suche nach der Vorgangsnummer ${id}`
    : `${VIEWS[view].label}${service ? `, Leistung: ${titles.get(service) || service}` : ''}`;
  $('ap-liste-titel').textContent = `Anträge – ${what}`;
  show();

  let total = null;
  try {
    total = await showCounts(office, view, service, select);
  } catch (e) {
    fail(e);
  }
  const list = new Rows(office, titles, id ? { id } : { ...VIEWS[view], service }, id ? null : total);
  await list.more(false);
  $('ap-weitere').addEventListener('click', () => list.more(true));
}

/** Counts in the views' links and the service options; the current view's total when
 *  no service is filtered. */
async function showCounts(office, view, service, select) {
  const counts = await api.counts(office.id);
  const statuses = counts.statuses || {};
  const inView = (v) => VIEWS[v].statuses.reduce((sum, s) => sum + (statuses[s] || 0), 0);
  for (const badge of document.querySelectorAll('[data-zahl]')) {
    const n = inView(badge.dataset.zahl);
    badge.replaceChildren(el('span', { class: 'vh' }, ': '), String(n), el('span', { class: 'vh' }, n === 1 ? ' Antrag' : ' Anträge'));
  }
  const services = counts.services || {};
  for (const option of select.options) {
    if (option.value) option.textContent = `${option.textContent} (${services[option.value] || 0})`;
  }
  return service ? null : inView(view);
}

class Rows {
  constructor(office, titles, filter, total) {
    Object.assign(this, { office, titles, filter, total, cursor: '', shown: 0 });
  }

  async more(announce) {
    const button = $('ap-weitere');
    let page;
    try {
      page = await api.applications(this.office.id, {
        statuses: this.filter.statuses || [],
        order: this.filter.order || 'oldest',
        service: this.filter.service || '',
        id: this.filter.id || '',
        cursor: this.cursor,
      });
    } catch (e) {
      fail(e);
      return;
    }
    const rows = (page.applications || []).map((a) => this.row(a));
    $('ap-liste-zeilen').append(...rows);
    this.shown += rows.length;
    this.cursor = page.next || '';
    button.hidden = !this.cursor;
    $('ap-leer').hidden = this.shown > 0;
    if (this.filter.id && this.shown === 0) $('ap-leer').textContent = `Kein Antrag mit der Vorgangsnummer ${this.filter.id} in dieser Dienststelle.`;
    const of = this.total !== null && this.total >= this.shown ? ` von ${this.total}` : '';
    $('ap-anzahl').textContent = this.shown ? `${this.shown}${of} angezeigt.` : '';
    if (announce) {
      say(`${rows.length} weitere Anträge geladen, ${this.shown}${of} angezeigt.`);
      rows[0]?.querySelector('a')?.focus();
    }
  }

  row(a) {
    const link = el('a', { href: `/amt/vorgang/?id=${encodeURIComponent(a.id)}` }, a.id);
    const title = this.titles.get(a.service) || a.service;
    return el(
      'tr',
      {},
      el('th', { scope: 'row' }, link),
      el('td', {}, title, a.unreadable ? el('span', { class: 'ap-warnung' }, ' (beschädigt)') : null),
      el('td', {}, time(a.created_at)),
      el('td', {}, statusTag(a.status)),
      el('td', {}, time(a.updated_at)),
    );
  }
}

// Last: the classes above exist only once their definitions have run.
const ctx = await start();
if (ctx && ctx.office) await main(ctx.office);
else if (ctx) show();
