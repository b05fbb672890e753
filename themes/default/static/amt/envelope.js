// Glue to the WebAssembly build of lotse-envelope (amt/wasm/, built by
// scripts/workspace-wasm.sh): the only place where a key file's text is handed over,
// and only to the module, in this browser. Loaded on first use.

import * as keys from './keys.js';

let loading = null;

function wasm() {
  if (!loading) {
    loading = (async () => {
      const mod = await import('./wasm/lotse_envelope_web.js');
      await mod.default();
      return mod;
    })().catch(() => {
      loading = null;
      throw new Error('Das Modul zum Entschlüsseln ließ sich nicht laden. Bitte laden Sie die Seite neu.');
    });
  }
  return loading;
}

/** The module throws German messages, as strings or Errors. */
function reason(e) {
  const text = e instanceof Error ? e.message : String(e);
  return new Error(text || 'Das ließ sich nicht entschlüsseln.');
}

export class NoKey extends Error {}

async function keyOf(office) {
  const text = await keys.text(office);
  if (!text) throw new NoKey('Für diese Dienststelle ist in diesem Browser kein Schlüssel hinterlegt.');
  return text;
}

/** The public key (standard base64) of a key file's text. */
export async function publicKeyOf(keyText) {
  const w = await wasm();
  try {
    return w.keyInfo(keyText);
  } catch (e) {
    throw reason(e);
  }
}

/** The plaintext of an application (docs/envelope.md) from its list entry. */
export async function openApplication(office, entry) {
  const [w, key] = await Promise.all([wasm(), keyOf(office)]);
  try {
    return JSON.parse(w.openApplication(key, JSON.stringify(entry)));
  } catch (e) {
    throw reason(e);
  }
}

/** Opens the messages of a thread, each to `{text, status, attachments}` or, where one
 *  does not open, `{error}`; in the order given. */
export async function openMessages(office, entries) {
  if (!entries.length) return [];
  const [w, key] = await Promise.all([wasm(), keyOf(office)]);
  return entries.map((entry) => {
    if (entry.unreadable) return { error: 'Diese Nachricht ist beschädigt und lässt sich nicht lesen.' };
    const { attachments: _files, ...envelope } = entry;
    try {
      return JSON.parse(w.openMessage(key, JSON.stringify(envelope)));
    } catch (e) {
      return { error: reason(e).message };
    }
  });
}

/** The plain bytes of a file of an opened message: `entry` is the message as listed,
 *  `attachment` the file as its opened content names it, `sealed` its sealed bytes. */
export async function openAttachment(entry, attachment, sealed) {
  const w = await wasm();
  const { attachments: _files, ...envelope } = entry;
  try {
    return w.openAttachment(JSON.stringify(envelope), JSON.stringify(attachment), sealed);
  } catch (e) {
    throw reason(e);
  }
}
