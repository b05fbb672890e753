// Schlüssel (/amt/schluessel/): which of the session's offices have a key in this
// browser, import a key file (checked against the office's public key in
// dienststellen.json before it is stored, keys.js), remove one. The file is read here
// and handed only to the WebAssembly module; the form has no named file field and is
// never submitted.

import * as keys from './keys.js';
import { publicKeyOf } from './envelope.js';
import { fail, officeName, show, start } from './shell.js';
import { $, alarm, busy, dateTime, el, local, quiet, say } from './ui.js';

const MAX_KEY_FILE = 16 * 1024;

const ctx = await start();
if (ctx) await main(ctx);

async function main(ctx) {
  const select = $('ap-import-dienststelle');
  select.replaceChildren(...ctx.offices.map((o) => el('option', { value: o.id, selected: o === ctx.office }, officeName(o))));
  await table(ctx);
  show();
  const form = $('ap-import');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(ev.submitter || form.querySelector('button'), 'Wird geprüft …', () => importKey(ctx));
  });
}

async function table(ctx) {
  let stored = [];
  try {
    stored = await keys.list();
  } catch {
    alarm('Dieser Browser erlaubt keinen Speicher für Schlüssel (IndexedDB). Bitte verwenden Sie kein privates Fenster.');
  }
  const rows = ctx.offices.map((o) => {
    const key = stored.find((k) => k.office === o.id);
    const action = key ? removeButton(ctx, o) : '–';
    return el(
      'tr',
      {},
      el('th', { scope: 'row' }, officeName(o)),
      el('td', {}, key ? `Hinterlegt am ${dateTime(key.stored_at)}` : 'Kein Schlüssel'),
      el('td', {}, action),
    );
  });
  $('ap-schluessel-zeilen').replaceChildren(...rows);
}

function removeButton(ctx, office) {
  const button = el('button', { type: 'button', class: 'knopf knopf--zweit' }, 'Schlüssel entfernen', el('span', { class: 'vh' }, `: ${officeName(office)}`));
  button.addEventListener('click', async () => {
    try {
      await keys.remove(office.id);
    } catch (e) {
      fail(e);
      return;
    }
    await table(ctx);
    say(`Der Schlüssel für „${officeName(office)}“ wurde aus diesem Browser entfernt.`);
    $('ap-import-datei').focus();
  });
  return button;
}

/** A refused import: said in the alert region and next to the form. */
function refuse(text) {
  alarm(text);
  local('ap-import-ergebnis', text, true);
}

async function importKey(ctx) {
  quiet();
  local('ap-import-ergebnis', '');
  const office = ctx.offices.find((o) => o.id === $('ap-import-dienststelle').value);
  const input = $('ap-import-datei');
  const file = input.files[0];
  if (!office) return refuse('Bitte wählen Sie eine Dienststelle.');
  if (!file) {
    input.focus();
    return refuse('Bitte wählen Sie die Schlüsseldatei aus.');
  }
  if (file.size > MAX_KEY_FILE) return refuse(`„${file.name}“ ist keine Schlüsseldatei: Sie ist zu groß.`);
  let publicKey;
  try {
    publicKey = await publicKeyOf(await file.text());
  } catch (e) {
    return refuse(`„${file.name}“ ist keine gültige Schlüsseldatei. ${e.message}`);
  }
  if (!office.public_key) {
    return refuse(`Für „${officeName(office)}“ ist kein öffentlicher Schlüssel veröffentlicht; an diese Dienststelle gehen keine Anträge.`);
  }
  if (publicKey !== office.public_key) {
    const owner = ctx.all.find((o) => o.public_key === publicKey);
    const whose = owner ? ` Er gehört zu „${officeName(owner)}“.` : '';
    return refuse(`Dieser Schlüssel gehört nicht zu „${officeName(office)}“.${whose} Bitte wählen Sie die Schlüsseldatei dieser Dienststelle.`);
  }
  try {
    await keys.store(office.id, await file.text(), publicKey);
  } catch {
    return refuse('Der Schlüssel ließ sich in diesem Browser nicht speichern (IndexedDB). Bitte verwenden Sie kein privates Fenster.');
  }
  input.value = '';
  await table(ctx);
  const done = `Der Schlüssel für „${officeName(office)}“ ist geprüft und in diesem Browser hinterlegt. Sie können jetzt Anträge öffnen.`;
  say(done);
  local('ap-import-ergebnis', done);
}
