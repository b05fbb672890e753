// Druckansicht (/amt/druck/?id=…): the application decrypted from the answer of
// GET /api/office/applications/<id>/export?format=print (recorded in the audit log),
// laid out for paper by amt.css's print rules; "Drucken" opens the browser's dialog.

import * as api from './api.js';
import * as antrag from './antrag.js';
import { fail, params, show, start } from './shell.js';
import { $, alarm, dateTime, heading } from './ui.js';

const ctx = await start();
if (ctx) await main(ctx);

async function main(ctx) {
  const id = (params.get('id') || '').trim().toUpperCase();
  show();
  $('ap-drucken').addEventListener('click', () => window.print());
  if (!id) {
    alarm('Es ist kein Vorgang gewählt. Bitte öffnen Sie die Druckansicht aus einem Antrag.');
    return;
  }
  $('ap-zurueck').href = `/amt/vorgang/?${new URLSearchParams({ id })}`;
  let data;
  try {
    data = await api.exportOf(id, 'print');
  } catch (e) {
    if (e.status === 404) e.message = `Den Antrag ${id} gibt es nicht, oder er gehört nicht zu Ihren Dienststellen.`;
    fail(e);
    return;
  }
  const entry = data.application;
  const opened = await antrag.open(entry);
  const title = antrag.facts(entry, opened.plain, ctx.all);
  heading(`Antrag ${entry.id}: ${title}`);
  if (!opened.plain) {
    alarm(opened.noKey ? 'Für diese Dienststelle ist in diesem Browser kein Schlüssel hinterlegt; der Antrag lässt sich nicht drucken.' : `Der Antrag ließ sich nicht entschlüsseln: ${opened.error.message}`);
    return;
  }
  antrag.showFields(antrag.fieldsOf(opened.plain, opened.schema));
  antrag.showHistory(entry.history);
  await antrag.showMessages(antrag.officeIdOf(entry), data.messages || [], { files: false });
  $('ap-gedruckt').textContent = `Erstellt am ${dateTime(Date.now())} von ${ctx.session.name || 'Dienstkonto'}.`;
  $('ap-vorgang').hidden = false;
}
