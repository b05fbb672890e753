// The offices' private keys in this browser (docs/workspace.md, "The key in the
// browser"): IndexedDB database `lotse-amt`, one record per office id. The key file's
// text is stored encrypted with AES-GCM under a key that WebCrypto generated as
// non-extractable, kept next to it as a CryptoKey (its bytes cannot be read out of the
// browser, not even by this script). The plain text exists only while an envelope is
// being opened. Nothing here talks to the network.

const DB = 'lotse-amt';
const STORE = 'keys';

function done(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  const req = indexedDB.open(DB, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'office' });
  return done(req);
}

/** Runs `fn(store)` in a transaction and resolves with its request's result once the
 *  transaction has committed. */
async function withStore(mode, fn) {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, mode);
    const committed = new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error('abgebrochen'));
    });
    const [result] = await Promise.all([done(fn(tx.objectStore(STORE))), committed]);
    return result;
  } finally {
    db.close();
  }
}

/** Stores the key file `text` of `office` (an id `<portal>/<office>`) whose public key
 *  is `publicKey`, replacing an earlier one. */
export async function store(office, text, publicKey) {
  const wrap = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, wrap, new TextEncoder().encode(text));
  const record = { office, wrap, iv, data, public_key: publicKey, stored_at: Date.now() };
  await withStore('readwrite', (s) => s.put(record));
}

/** The key file text of `office`, or null when this browser has none. */
export async function text(office) {
  const record = await withStore('readonly', (s) => s.get(office));
  if (!record) return null;
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: record.iv }, record.wrap, record.data);
  return new TextDecoder().decode(plain);
}

/** What is stored, without the keys: `[{office, public_key, stored_at}]`. */
export async function list() {
  const records = await withStore('readonly', (s) => s.getAll());
  return records.map(({ office, public_key, stored_at }) => ({ office, public_key, stored_at }));
}

export async function remove(office) {
  await withStore('readwrite', (s) => s.delete(office));
}

/** Removes every key and the database itself (at logout). */
export async function removeAll() {
  await withStore('readwrite', (s) => s.clear());
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(DB);
    // Blocked by another tab that has it open: the store is empty already.
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}
