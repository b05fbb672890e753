// Vorgang (/amt/vorgang/?id=…): one application, decrypted in this browser; its status
// with a note, the conversation (read, reply, request documents, files both ways) and
// the export (JSON file, print page).

import * as api from './api.js';
import * as antrag from './antrag.js';
import { exportDocument } from './export.js';
import { fail, params, show, start } from './shell.js';
import { $, alarm, busy, download, heading, local, say, statusLabel } from './ui.js';

async function main(ctx) {
  const id = (params.get('id') || '').trim().toUpperCase();
  show();
  if (!id) {
    alarm('Es ist kein Vorgang gewählt. Bitte öffnen Sie einen Antrag aus dem Posteingang.');
    return;
  }
  const page = new Vorgang(id, ctx);
  // The forms are wired before anything shows, so that none is ever sent as a page.
  page.wire();
  await page.load();
}

class Vorgang {
  constructor(id, ctx) {
    Object.assign(this, { id, ctx, entry: null, thread: [] });
  }

  async load() {
    try {
      this.entry = await api.application(this.id);
    } catch (e) {
      if (e.status === 404) e.message = `Den Antrag ${this.id} gibt es nicht, oder er gehört nicht zu Ihren Dienststellen.`;
      fail(e);
      return false;
    }
    const entry = this.entry;
    const officeId = antrag.officeIdOf(entry);
    $('ap-zurueck').href = `/amt/?${new URLSearchParams({ dienststelle: officeId })}`;
    $('ap-druck').href = `/amt/druck/?${new URLSearchParams({ id: entry.id })}`;
    const opened = await antrag.open(entry);
    const title = antrag.facts(entry, opened.plain, this.ctx.all);
    heading(`Antrag ${entry.id}: ${title}`);
    $('ap-ohne-schluessel').hidden = !opened.noKey;
    if (opened.plain) {
      antrag.showFields(antrag.fieldsOf(opened.plain, opened.schema));
    } else {
      $('ap-angaben').replaceChildren();
      if (!opened.noKey) alarm(`Der Antrag ließ sich nicht entschlüsseln: ${opened.error.message}`);
    }
    this.showStatus();
    $('ap-vorgang').hidden = false;
    await this.loadThread();
    return true;
  }

  showStatus() {
    $('ap-status-jetzt').textContent = statusLabel(this.entry.status);
    $('ap-neuer-status').value = this.entry.status;
    antrag.showHistory(this.entry.history);
  }

  async loadThread() {
    try {
      this.thread = (await api.messages(this.id)).messages || [];
    } catch (e) {
      fail(e);
      return;
    }
    await antrag.showMessages(antrag.officeIdOf(this.entry), this.thread);
  }

  /** After a change: the status, the history and the thread anew. */
  async refresh() {
    this.entry = await api.application(this.id);
    antrag.facts(this.entry, null, this.ctx.all);
    this.showStatus();
    await this.loadThread();
  }

  wire() {
    $('ap-status-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(ev.submitter || $('ap-status-form').querySelector('button'), 'Wird gespeichert …', () => this.setStatus());
    });
    $('ap-antwort').addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(ev.submitter || $('ap-antwort').querySelector('button'), 'Wird gesendet …', () => this.reply());
    });
    const exportButton = $('ap-export-json');
    exportButton.addEventListener('click', () => busy(exportButton, 'Wird erstellt …', () => this.exportJson()));
  }

  async setStatus() {
    const status = $('ap-neuer-status').value;
    const note = $('ap-notiz').value.trim();
    try {
      const answer = await api.setStatus(this.id, status, note || null);
      $('ap-notiz').value = '';
      await this.refresh();
      if (answer && answer.warning) alarm(answer.warning);
      const done = `Der Status ist jetzt „${statusLabel(status)}“.${note && !answer?.warning ? ' Der Hinweis wurde verschlüsselt zugestellt.' : ''}`;
      say(done);
      local('ap-status-ergebnis', answer?.warning ? `${done} ${answer.warning}` : done);
    } catch (e) {
      fail(e, 'ap-status-ergebnis');
    }
  }

  async reply() {
    const text = $('ap-text').value.trim();
    const files = [...$('ap-dateien').files];
    const ask = $('ap-unterlagen').checked;
    if (!text && !files.length) {
      const missing = 'Bitte schreiben Sie eine Nachricht oder wählen Sie eine Datei.';
      alarm(missing);
      local('ap-antwort-ergebnis', missing, true);
      $('ap-text').focus();
      return;
    }
    const form = new FormData();
    form.append('text', text);
    if (ask) form.append('status', 'needs_info');
    for (const file of files) form.append('file', file, file.name);
    try {
      await api.sendMessage(this.id, form);
    } catch (e) {
      fail(e, 'ap-antwort-ergebnis');
      return;
    }
    $('ap-antwort').reset();
    try {
      await this.refresh();
    } catch (e) {
      fail(e);
    }
    const n = files.length;
    const with_ = n ? ` mit ${n === 1 ? 'einer Datei' : `${n} Dateien`}` : '';
    const done = `Die Nachricht${with_} wurde verschlüsselt gesendet.${ask ? ' Der Status ist jetzt „Rückfrage“.' : ''}`;
    say(done);
    local('ap-antwort-ergebnis', done);
  }

  async exportJson() {
    try {
      const data = await api.exportOf(this.id, 'json');
      const doc = await exportDocument(data, this.ctx.all);
      download(`antrag-${this.id}.json`, 'application/json', JSON.stringify(doc, null, 2));
      const done = `Der Export von ${this.id} wurde erstellt und im Protokoll vermerkt.`;
      say(done);
      local('ap-export-ergebnis', done);
    } catch (e) {
      fail(e, 'ap-export-ergebnis');
    }
  }
}

// Last: the classes above exist only once their definitions have run.
const ctx = await start();
if (ctx) await main(ctx);
