// A test payment provider for Lotse that speaks XBezahldienste 1.0 (the REST interface
// of ePayBL, pmPayment and other German municipal payment services) as the standard
// describes it, on loopback, with Node's built-in modules only. README.md next to this
// file documents the wire format and every knob.
//
//   node server.mjs [port] [--originator ID[,ID…]] [--endpoint ID[,ID…]]
//                                    (port also from PORT; 0 or unset = any free port)
//
// Environment (all optional):
//   ORIGINATOR_ID, ENDPOINT_ID   the tenants it knows (comma-separated; every pair is
//                                valid); defaults `lotse-test` and `gebuehren`
//   CLIENT_ID, CLIENT_SECRET     turn on OAuth2 client credentials (pmPayment style):
//                                POST /oauth/token, and a bearer token on every API call
//   TOKEN_TTL                    token lifetime in seconds (default 300)
//   PUBLIC_URL                   the origin put into transactionUrl and the payment page
//                                address (default http://127.0.0.1:<port>)
//   and the start values of the knobs (README.md, "Knobs"): PAYMENT_DELAY_MS,
//   FAILED_THEN_PAYED, DOWN, LATENCY_MS, CREATE_STATUS, REFERENCE_AT, TRANSACTION_ID,
//   EXPIRE_AFTER_MS, AUTH_FAILURE_STATUS
//
// Listens on 127.0.0.1 only and prints one line `listening http://127.0.0.1:<port>` when
// ready. When stdin is a pipe (started by a test), exits when it closes or after an hour.

import { createServer } from 'node:http';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { URL, URLSearchParams } from 'node:url';
import { fstatSync } from 'node:fs';

// ---------------------------------------------------------------------------------------
// Configuration

function parseArgs(argv) {
  const options = {};
  let port;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) options[arg.slice(2, eq)] = arg.slice(eq + 1);
      else options[arg.slice(2)] = argv[++i];
    } else if (port === undefined) {
      port = arg;
    }
  }
  return { port, options };
}

const cli = parseArgs(process.argv.slice(2));
const list = (value) => String(value).split(',').map((s) => s.trim()).filter(Boolean);
const flag = (value) => ['1', 'true', 'yes', 'on'].includes(String(value ?? '').toLowerCase());

const PORT = Number(cli.port ?? process.env.PORT ?? 0);
const ORIGINATORS = list(cli.options.originator ?? process.env.ORIGINATOR_ID ?? 'lotse-test');
const ENDPOINTS = list(cli.options.endpoint ?? process.env.ENDPOINT_ID ?? 'gebuehren');
const CLIENT_ID = process.env.CLIENT_ID || null;
const CLIENT_SECRET = process.env.CLIENT_SECRET || null;
if ((CLIENT_ID === null) !== (CLIENT_SECRET === null)) {
  console.error('CLIENT_ID and CLIENT_SECRET go together: set both or neither');
  process.exit(2);
}
const OAUTH = CLIENT_ID !== null;

// The knobs a test can turn (POST /__control), with their start values from the
// environment. Each entry: [environment variable, parse, check].
const KNOBS = {
  delay_ms: ['PAYMENT_DELAY_MS', Number, (v) => Number.isInteger(v) && v >= 0],
  failed_then_payed: ['FAILED_THEN_PAYED', flag, (v) => typeof v === 'boolean'],
  down: ['DOWN', flag, (v) => typeof v === 'boolean'],
  latency_ms: ['LATENCY_MS', Number, (v) => Number.isInteger(v) && v >= 0],
  create_status: ['CREATE_STATUS', Number, (v) => v === 200 || v === 201],
  reference_at: ['REFERENCE_AT', String, (v) => v === 'create' || v === 'payment'],
  transaction_id: ['TRANSACTION_ID', String, (v) => v === 'random' || v === 'request-id'],
  expire_after_ms: ['EXPIRE_AFTER_MS', Number, (v) => Number.isInteger(v) && v >= 0],
  auth_failure_status: ['AUTH_FAILURE_STATUS', Number, (v) => v === 401 || v === 403],
  token_ttl: ['TOKEN_TTL', Number, (v) => Number.isFinite(v) && v > 0],
};
const KNOB_DEFAULTS = {
  delay_ms: 0,
  failed_then_payed: false,
  down: false,
  latency_ms: 0,
  create_status: 201,
  reference_at: 'create',
  transaction_id: 'random',
  expire_after_ms: 0,
  auth_failure_status: 401,
  token_ttl: 300,
};

function startKnobs() {
  const knobs = { ...KNOB_DEFAULTS };
  for (const [name, [env, parse, check]] of Object.entries(KNOBS)) {
    const raw = process.env[env];
    if (raw === undefined || raw === '') continue;
    const value = parse(raw);
    if (!check(value)) {
      console.error(`${env}=${raw} is not a valid value for ${name}`);
      process.exit(2);
    }
    knobs[name] = value;
  }
  return knobs;
}

const START_KNOBS = startKnobs();

// ---------------------------------------------------------------------------------------
// State (in memory; POST /__control/reset empties it)

let knobs = { ...START_KNOBS };
let transactions = new Map(); // `${originator}/${endpoint}/${transactionId}` -> transaction
let pages = new Map(); // page id (in transactionRedirectUrl) -> transaction
let requestLog = [];
let requestSeq = 0;
let tokens = new Map(); // access token -> expiry (ms since epoch)
let tokensIssued = 0;
let referenceSeq = 0; // never reset, so Kassenzeichen stay unique for the whole run

function reset() {
  knobs = { ...START_KNOBS };
  transactions = new Map();
  pages = new Map();
  requestLog = [];
  tokens = new Map();
  tokensIssued = 0;
}

let BASE = '';

// ---------------------------------------------------------------------------------------
// The standard's vocabulary

// PaymentInformation.status: what the standard's status model defines. There is no
// TIMEOUT: a provider whose user interaction times out reports FAILED.
const STATUS = ['INITIAL', 'PAYED', 'FAILED', 'CANCELED'];
const PAYMENT_METHODS = {
  CREDITCARD: 'Kreditkarte',
  PAYPAL: 'PayPal',
  GIROPAY: 'giropay',
  PAYDIRECT: 'paydirekt',
  OTHER: 'Anderes Zahlungsmittel',
};
const STATUS_DETAIL = {
  INITIAL: 'Die Zahlung ist angelegt und noch nicht abgeschlossen.',
  PAYED: 'Die Zahlung ist eingegangen.',
  CANCELED: 'Die Zahlung wurde abgebrochen.',
  FAILED: 'Die Zahlung ist fehlgeschlagen.',
};
const EXPIRED_DETAIL = 'Die Zahlung wurde wegen Zeitüberschreitung beendet.';

// The functional codes of the standard's problem answers (SystemResponse.functionalCode).
const FUNCTIONAL_CODES = {
  NO_VALID_ORIGINATOR_OR_ENDPOINT:
    'Der Mandant kann anhand von originatorId und endPointId nicht ermittelt werden.',
  PAYMENT_EXISTS: 'Mit dieser requestId wurde bereits ein PaymentRequest platziert.',
  CALCULATION_ERROR: 'Die Summe des PaymentRequests passt nicht zu den Positionen.',
  BOOKING_DATA_MISSING: 'Notwendige Daten für die Verbuchung fehlen.',
  VALIDATION_ERROR: 'Der PaymentRequest ist ungültig.',
  UNSPECIFIED: 'Ein Fehler, der nicht näher bestimmt ist.',
  FORBIDDEN: 'Fehlende Authentisierungsdaten oder keine Autorisierung in diesem Kontext.',
};

const HTTP_TITLES = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// Patterns of the standard (ECMA-262 regular expressions: \w is [A-Za-z0-9_], so the
// purpose takes no umlauts; the description takes the Latin letters U+00C0..U+017F).
const ID_PATTERN = /^[\w\d-]+$/;
const PURPOSE_PATTERN = /^[\w\d\s-]+$/;
const DESCRIPTION_PATTERN = /^[\w\d\s\-,.\u00C0-\u017F]+$/;
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const MAX_AMOUNT = 999999;

// ---------------------------------------------------------------------------------------
// Answers

function send(res, status, headers, body) {
  res.writeHead(status, { 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function json(res, status, value, headers = {}) {
  send(res, status, { 'content-type': 'application/json', ...headers }, JSON.stringify(value));
}

// A problem answer of the standard (RFC 7807 with `functionalCode`). `detail` keeps to
// the standard's pattern for it: letters, digits, spaces, `-`, `,` and `.`.
function problem(res, status, code, detail, headers = {}) {
  let text = detail ?? FUNCTIONAL_CODES[code];
  if (text.length > 2000) text = `${text.slice(0, 1996)} ...`;
  const body = {
    type: `${BASE}/errors/${code}`,
    status,
    title: HTTP_TITLES[status] ?? 'Error',
    detail: text,
    functionalCode: code,
  };
  send(res, status, { 'content-type': 'application/problem+json', ...headers }, JSON.stringify(body));
}

const escapeHtml = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function euros(cents) {
  return new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }).format(cents / 100);
}

// ---------------------------------------------------------------------------------------
// Validation of a PaymentRequest

const REQUEST_FIELDS = [
  'requestId', 'requestTimestamp', 'currency', 'grosAmount', 'purpose', 'description',
  'redirectUrl', 'items', 'requestor',
];
const ITEM_FIELDS = [
  'id', 'reference', 'description', 'taxRate', 'quantity', 'totalNetAmount',
  'totalTaxAmount', 'singleNetAmount', 'singleTaxAmount', 'bookingData',
];
// The requestor as the public models have it (the union of gover's TypeScript and Java
// models); Lotse is not expected to send one.
const REQUESTOR_FIELDS = [
  'id', 'name', 'firstName', 'email', 'gender', 'isOrganization', 'organizationName', 'address',
];
const ADDRESS_FIELDS = ['street', 'houseNumber', 'addressLine', 'postalCode', 'city', 'country'];

const present = (v) => v !== undefined && v !== null;
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownFields(object, allowed, where, errors) {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) errors.push(`Das Feld ${where}${key.replace(/[^\w\d-]/g, '_')} ist unbekannt`);
  }
}

function checkString(value, name, errors, { required = false, max, min = 1, pattern } = {}) {
  if (!present(value)) {
    if (required) errors.push(`Das Feld ${name} fehlt`);
    return false;
  }
  if (typeof value !== 'string') {
    errors.push(`Das Feld ${name} muss eine Zeichenkette sein`);
    return false;
  }
  const length = [...value].length;
  if (length === 0) errors.push(`Das Feld ${name} ist leer`);
  else if (length < min) errors.push(`Das Feld ${name} ist kürzer als ${min} Zeichen`);
  else if (max !== undefined && length > max) errors.push(`Das Feld ${name} ist länger als ${max} Zeichen`);
  else if (pattern && !pattern.test(value)) errors.push(`Das Feld ${name} enthält unzulässige Zeichen${offending(value, pattern)}`);
  else return true;
  return false;
}

// The characters of `value` a pattern refuses, named where the detail text may show
// them (the detail's own pattern), else only counted.
function offending(value, pattern) {
  const bad = [...new Set([...value].filter((c) => !pattern.test(c)))];
  const nameable = bad.filter((c) => /^[\w\d\u00C0-\u017F]$/.test(c));
  const others = bad.length - nameable.length;
  const parts = [];
  if (nameable.length > 0) parts.push(`etwa ${nameable.join(' ')}`);
  if (others > 0) parts.push(`${others} Sonderzeichen`);
  return parts.length > 0 ? `, ${parts.join(' und ')}` : '';
}

// An amount in euros as a JSON number with at most two decimals; returns cents.
function checkAmount(value, name, errors, { required = false } = {}) {
  if (!present(value)) {
    if (required) errors.push(`Das Feld ${name} fehlt`);
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    errors.push(`Das Feld ${name} muss eine Zahl sein`);
    return null;
  }
  if (value < 0 || value > MAX_AMOUNT) {
    errors.push(`Das Feld ${name} muss zwischen 0 und ${MAX_AMOUNT} liegen`);
    return null;
  }
  const cents = Math.round(value * 100);
  if (Math.abs(value * 100 - cents) > 1e-6) {
    errors.push(`Das Feld ${name} hat mehr als zwei Nachkommastellen`);
    return null;
  }
  return cents;
}

function checkRequestor(requestor, errors) {
  if (!isObject(requestor)) {
    errors.push('Das Feld requestor muss ein Objekt sein');
    return;
  }
  unknownFields(requestor, REQUESTOR_FIELDS, 'requestor.', errors);
  for (const key of ['id', 'name', 'firstName', 'email', 'organizationName']) {
    checkString(requestor[key], `requestor.${key}`, errors, { max: 250 });
  }
  if (present(requestor.gender) && !['M', 'F', 'D'].includes(requestor.gender)) {
    errors.push('Das Feld requestor.gender muss M, F oder D sein');
  }
  if (present(requestor.isOrganization) && typeof requestor.isOrganization !== 'boolean') {
    errors.push('Das Feld requestor.isOrganization muss true oder false sein');
  }
  if (present(requestor.address)) {
    const address = requestor.address;
    if (!isObject(address)) {
      errors.push('Das Feld requestor.address muss ein Objekt sein');
      return;
    }
    unknownFields(address, ADDRESS_FIELDS, 'requestor.address.', errors);
    for (const key of ['street', 'houseNumber', 'postalCode', 'city', 'country']) {
      checkString(address[key], `requestor.address.${key}`, errors, { max: 250 });
    }
    if (present(address.addressLine)
      && !(Array.isArray(address.addressLine) && address.addressLine.every((l) => typeof l === 'string'))) {
      errors.push('Das Feld requestor.address.addressLine muss eine Liste von Zeichenketten sein');
    }
  }
}

// Returns { code, errors } for a refused request, or null for a valid one.
function validatePaymentRequest(body) {
  const errors = [];
  if (!isObject(body)) return { code: 'VALIDATION_ERROR', errors: ['Der PaymentRequest muss ein JSON-Objekt sein'] };
  unknownFields(body, REQUEST_FIELDS, '', errors);

  checkString(body.requestId, 'requestId', errors, { required: true, max: 36, pattern: ID_PATTERN });
  if (checkString(body.requestTimestamp, 'requestTimestamp', errors)
    && !(TIMESTAMP_PATTERN.test(body.requestTimestamp) && !Number.isNaN(Date.parse(body.requestTimestamp)))) {
    errors.push('Das Feld requestTimestamp ist kein Zeitstempel nach ISO 8601');
  }
  if (checkString(body.currency, 'currency', errors, { required: true, min: 3, max: 3, pattern: /^\w+$/ })
    && body.currency !== 'EUR') {
    errors.push(`Die Währung ${body.currency} wird nicht unterstützt, nur EUR`);
  }
  const gros = checkAmount(body.grosAmount, 'grosAmount', errors, { required: true });
  checkString(body.purpose, 'purpose', errors, { required: true, max: 27, pattern: PURPOSE_PATTERN });
  checkString(body.description, 'description', errors, { max: 250, pattern: DESCRIPTION_PATTERN });
  if (checkString(body.redirectUrl, 'redirectUrl', errors, { required: true, max: 2082 })) {
    let url = null;
    try {
      url = new URL(body.redirectUrl);
    } catch {
      // reported below
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) {
      errors.push('Das Feld redirectUrl ist keine absolute http- oder https-Adresse');
    }
  }
  if (present(body.requestor)) checkRequestor(body.requestor, errors);

  const itemCents = [];
  if (!present(body.items)) {
    errors.push('Das Feld items fehlt');
  } else if (!Array.isArray(body.items)) {
    errors.push('Das Feld items muss eine Liste sein');
  } else if (body.items.length < 1 || body.items.length > 99) {
    errors.push('Das Feld items muss 1 bis 99 Positionen enthalten');
  } else {
    body.items.forEach((item, i) => {
      const at = `items.${i}.`;
      if (!isObject(item)) {
        errors.push(`Die Position items.${i} muss ein Objekt sein`);
        return;
      }
      unknownFields(item, ITEM_FIELDS, at, errors);
      checkString(item.id, `${at}id`, errors, { required: true, max: 36, pattern: ID_PATTERN });
      checkString(item.reference, `${at}reference`, errors, { max: 36, pattern: ID_PATTERN });
      checkString(item.description, `${at}description`, errors, { max: 250, pattern: DESCRIPTION_PATTERN });
      if (present(item.taxRate)
        && !(typeof item.taxRate === 'number' && item.taxRate >= 0 && item.taxRate <= 100)) {
        errors.push(`Das Feld ${at}taxRate muss eine Zahl zwischen 0 und 100 sein`);
      }
      let quantity = null;
      if (!present(item.quantity)) errors.push(`Das Feld ${at}quantity fehlt`);
      else if (!(Number.isInteger(item.quantity) && item.quantity >= 1 && item.quantity <= 999999)) {
        errors.push(`Das Feld ${at}quantity muss eine ganze Zahl zwischen 1 und 999999 sein`);
      } else quantity = item.quantity;
      const net = checkAmount(item.totalNetAmount, `${at}totalNetAmount`, errors, { required: true });
      const tax = checkAmount(item.totalTaxAmount, `${at}totalTaxAmount`, errors, { required: true });
      const singleNet = checkAmount(item.singleNetAmount, `${at}singleNetAmount`, errors);
      const singleTax = checkAmount(item.singleTaxAmount, `${at}singleTaxAmount`, errors);
      if (present(item.bookingData)
        && !(isObject(item.bookingData) && Object.values(item.bookingData).every((v) => typeof v === 'string'))) {
        errors.push(`Das Feld ${at}bookingData muss ein Objekt mit Zeichenketten sein`);
      }
      itemCents.push({ quantity, net, tax, singleNet, singleTax });
    });
  }
  if (errors.length > 0) return { code: 'VALIDATION_ERROR', errors };

  // Only well-formed requests get here: now the arithmetic.
  let sum = 0;
  itemCents.forEach(({ quantity, net, tax, singleNet, singleTax }, i) => {
    sum += net + tax;
    if (singleNet !== null && singleNet * quantity !== net) {
      errors.push(`Position ${i}, singleNetAmount mal quantity ergibt nicht totalNetAmount`);
    }
    if (singleTax !== null && singleTax * quantity !== tax) {
      errors.push(`Position ${i}, singleTaxAmount mal quantity ergibt nicht totalTaxAmount`);
    }
  });
  if (sum !== gros) {
    errors.push(
      `Die Summe der Positionen, ${(sum / 100).toFixed(2)} EUR, ist nicht der grosAmount von ${(gros / 100).toFixed(2)} EUR`,
    );
  }
  if (errors.length > 0) return { code: 'CALCULATION_ERROR', errors };
  return null;
}

// ---------------------------------------------------------------------------------------
// Transactions

function kassenzeichen() {
  referenceSeq += 1;
  return `4711.${new Date().getUTCFullYear()}.${String(referenceSeq).padStart(6, '0')}`;
}

// Sets a final status (or INITIAL again, through the control API).
function apply(tx, status, { method, detail, failedOnce = false } = {}) {
  tx.status = status;
  tx.statusDetail = detail ?? STATUS_DETAIL[status];
  tx.pending = null;
  tx.reportFailedOnce = failedOnce;
  if (status === 'PAYED') {
    tx.paymentMethod = method ?? 'CREDITCARD';
    tx.paidAt = new Date().toISOString();
    if (!tx.reference) tx.reference = kassenzeichen();
  } else {
    tx.paymentMethod = null;
    tx.paidAt = null;
  }
}

// Brings a transaction up to date: a delayed click whose time has come, an expiry.
function settle(tx, now = Date.now()) {
  if (tx.pending && now >= tx.pending.at) {
    const { status, method, failedOnce } = tx.pending;
    apply(tx, status, { method, failedOnce });
  }
  if (tx.status === 'INITIAL' && !tx.pending && tx.expireAfter > 0 && now - tx.createdAt >= tx.expireAfter) {
    apply(tx, 'FAILED', { detail: EXPIRED_DETAIL });
  }
}

function transactionUrl(tx) {
  const path = [tx.originatorId, tx.endpointId, tx.transactionId].map(encodeURIComponent).join('/');
  return `${BASE}/paymenttransaction/${path}`;
}

// The PaymentTransaction as the provider reports it. `reported` may differ from the
// stored status (the "failed then payed" knob).
function view(tx, reported = tx.status) {
  const info = { transactionUrl: transactionUrl(tx) };
  // Only while the citizen can still act; never after the transaction has ended.
  if (reported === 'INITIAL') info.transactionRedirectUrl = `${BASE}/paypage/${tx.pageId}`;
  info.transactionId = tx.transactionId;
  if (tx.reference) info.transactionReference = tx.reference;
  if (reported === 'PAYED') {
    info.transactionTimestamp = tx.paidAt;
    info.paymentMethod = tx.paymentMethod;
  }
  info.status = reported;
  info.statusDetail = reported === tx.status ? tx.statusDetail : STATUS_DETAIL[reported];
  return { paymentInformation: info, paymentRequest: tx.request };
}

function findTransactions(transactionId) {
  return [...transactions.values()].filter((tx) => tx.transactionId === transactionId);
}

// ---------------------------------------------------------------------------------------
// Reading requests

const BODY_LIMIT = 1024 * 1024;

// The body as text, or null when it is larger than BODY_LIMIT (read to the end anyway,
// so that the refusal reaches the client).
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= BODY_LIMIT) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > BODY_LIMIT ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const mediaType = (req) => String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

// What /__requests shows of a body: JSON parsed, a form as an object (a client secret
// blanked), anything else as text.
function loggedBody(req, text) {
  if (text === '') return null;
  const type = mediaType(req);
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const form = Object.fromEntries(new URLSearchParams(text));
    if ('client_secret' in form) form.client_secret = '[redacted]';
    return form;
  }
  return text;
}

function loggedHeaders(req) {
  const headers = { ...req.headers };
  if (headers.authorization !== undefined) {
    const scheme = String(headers.authorization).split(' ')[0];
    headers.authorization = `${scheme} [redacted]`;
  }
  return headers;
}

// ---------------------------------------------------------------------------------------
// OAuth2 client credentials

const digest = (s) => createHash('sha256').update(String(s)).digest();
const sameSecret = (a, b) => timingSafeEqual(digest(a), digest(b));

function formDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function tokenEndpoint(req, res, text) {
  const oauthError = (status, error, description, headers = {}) =>
    json(res, status, { error, error_description: description }, { pragma: 'no-cache', ...headers });
  if (!OAUTH) {
    oauthError(404, 'invalid_request', 'This provider runs without OAuth2 (no CLIENT_ID set).');
    return;
  }
  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    oauthError(400, 'invalid_request', 'The token request must be application/x-www-form-urlencoded.');
    return;
  }
  const form = new URLSearchParams(text);
  const authorization = String(req.headers.authorization ?? '');
  const basic = /^basic\s+(.+)$/i.exec(authorization);
  let id;
  let secret;
  if (basic) {
    if (form.has('client_secret')) {
      oauthError(400, 'invalid_request', 'Client credentials in both the header and the body.');
      return;
    }
    const decoded = Buffer.from(basic[1].trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    id = formDecode(colon < 0 ? decoded : decoded.slice(0, colon));
    secret = colon < 0 ? '' : formDecode(decoded.slice(colon + 1));
  } else {
    id = form.get('client_id');
    secret = form.get('client_secret');
  }
  if (id === null || id === undefined || secret === null || secret === undefined) {
    oauthError(401, 'invalid_client', 'No client credentials.', { 'www-authenticate': 'Basic realm="payment-provider"' });
    return;
  }
  if (!(sameSecret(id, CLIENT_ID) && sameSecret(secret, CLIENT_SECRET))) {
    oauthError(401, 'invalid_client', 'Unknown client or wrong secret.', { 'www-authenticate': 'Basic realm="payment-provider"' });
    return;
  }
  const grant = form.get('grant_type');
  if (grant === null) {
    oauthError(400, 'invalid_request', 'grant_type is missing.');
    return;
  }
  if (grant !== 'client_credentials') {
    oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.');
    return;
  }
  const token = randomBytes(32).toString('base64url');
  tokens.set(token, Date.now() + knobs.token_ttl * 1000);
  tokensIssued += 1;
  json(
    res,
    200,
    { access_token: token, token_type: 'Bearer', expires_in: Math.ceil(knobs.token_ttl) },
    { pragma: 'no-cache' },
  );
}

// Whether the call carries a valid bearer token (always true without OAuth2); answers
// the refusal itself.
function authorized(req, res) {
  if (!OAUTH) return true;
  const match = /^bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
  const expiry = match ? tokens.get(match[1]) : undefined;
  if (expiry !== undefined && Date.now() < expiry) return true;
  if (expiry !== undefined) tokens.delete(match[1]);
  const challenge = match ? 'Bearer realm="payment-provider", error="invalid_token"' : 'Bearer realm="payment-provider"';
  const detail = match
    ? 'Das Zugriffstoken ist ungültig oder abgelaufen.'
    : 'Der Aufruf braucht ein Zugriffstoken im Authorization-Header.';
  problem(res, knobs.auth_failure_status, 'FORBIDDEN', detail, { 'www-authenticate': challenge });
  return false;
}

// ---------------------------------------------------------------------------------------
// The XBezahldienste interface

function checkTenant(res, originatorId, endpointId) {
  for (const [name, value] of [['originatorId', originatorId], ['endPointId', endpointId]]) {
    if (!(value.length >= 1 && value.length <= 36 && ID_PATTERN.test(value))) {
      problem(res, 400, 'VALIDATION_ERROR', `Der Pfadparameter ${name} ist ungültig.`);
      return false;
    }
  }
  if (!ORIGINATORS.includes(originatorId) || !ENDPOINTS.includes(endpointId)) {
    problem(res, 403, 'NO_VALID_ORIGINATOR_OR_ENDPOINT');
    return false;
  }
  return true;
}

function createTransaction(req, res, originatorId, endpointId, text) {
  if (mediaType(req) !== 'application/json') {
    problem(res, 415, 'VALIDATION_ERROR', 'Der PaymentRequest muss als JSON mit dem Content-Type application-json gesendet werden.');
    return;
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    problem(res, 400, 'VALIDATION_ERROR', 'Der PaymentRequest ist kein gültiges JSON.');
    return;
  }
  const refusal = validatePaymentRequest(body);
  if (refusal) {
    problem(res, 400, refusal.code, `${refusal.errors.join('. ')}.`);
    return;
  }
  const tenant = `${originatorId}/${endpointId}`;
  const exists = [...transactions.values()].some(
    (tx) => tx.originatorId === originatorId && tx.endpointId === endpointId && tx.request.requestId === body.requestId,
  );
  if (exists) {
    problem(res, 409, 'PAYMENT_EXISTS');
    return;
  }
  const transactionId = knobs.transaction_id === 'request-id' ? body.requestId : randomUUID();
  const tx = {
    originatorId,
    endpointId,
    transactionId,
    pageId: randomBytes(16).toString('hex'),
    request: body,
    createdAt: Date.now(),
    expireAfter: knobs.expire_after_ms,
    reference: knobs.reference_at === 'create' ? kassenzeichen() : null,
    status: 'INITIAL',
    statusDetail: STATUS_DETAIL.INITIAL,
    paymentMethod: null,
    paidAt: null,
    pending: null,
    reportFailedOnce: false,
  };
  transactions.set(`${tenant}/${transactionId}`, tx);
  pages.set(tx.pageId, tx);
  json(res, knobs.create_status, view(tx), { location: transactionUrl(tx) });
}

function getTransaction(res, originatorId, endpointId, transactionId) {
  const tx = transactions.get(`${originatorId}/${endpointId}/${transactionId}`);
  if (!tx) {
    problem(res, 404, 'UNSPECIFIED', 'Eine PaymentTransaction mit dieser transactionId gibt es nicht.');
    return;
  }
  settle(tx);
  let reported = tx.status;
  if (tx.reportFailedOnce) {
    tx.reportFailedOnce = false;
    reported = 'FAILED';
  }
  json(res, 200, view(tx, reported));
}

// ---------------------------------------------------------------------------------------
// The payment page (transactionRedirectUrl): what the citizen sees

const PAGE_STYLE = `
  :root { color-scheme: light; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 1.0625rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         color: #1a1a1a; background: #f4f4f4; }
  header { background: #0b3d66; color: #fff; padding: .75rem 1rem; }
  header p { margin: 0; font-weight: 600; }
  main { max-width: 36rem; margin: 1.5rem auto; padding: 1.25rem; background: #fff;
         border: 1px solid #c8c8c8; border-radius: .25rem; }
  h1 { font-size: 1.5rem; margin: 0 0 1rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1.25rem; }
  dt { font-weight: 600; }
  dd { margin: 0; overflow-wrap: anywhere; }
  .amount { font-size: 1.25rem; font-weight: 700; }
  fieldset { border: 1px solid #767676; border-radius: .25rem; margin: 0 0 1.25rem; padding: .5rem 1rem 1rem; }
  legend { font-weight: 600; padding: 0 .25rem; }
  .choice { display: flex; align-items: center; gap: .5rem; min-height: 2.75rem; }
  .choice input { width: 1.25rem; height: 1.25rem; margin: 0; }
  .actions { display: flex; flex-wrap: wrap; gap: .75rem; }
  button { font: inherit; min-height: 2.75rem; padding: .5rem 1.25rem; border-radius: .25rem;
           border: 2px solid #0b3d66; background: #fff; color: #0b3d66; cursor: pointer; }
  button.primary { background: #0b3d66; color: #fff; }
  button:focus-visible, input:focus-visible, a:focus-visible { outline: 3px solid #c05600; outline-offset: 2px; }
  a { color: #0b3d66; }
  .note { margin: 1.25rem 0 0; font-size: .9375rem; color: #444; }
  @media (max-width: 30rem) { dl { grid-template-columns: 1fr; } dd { margin-bottom: .5rem; } }
`;

function page(res, status, title, content) {
  const html = `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Testbezahldienst</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header><p>Testbezahldienst</p></header>
<main>
${content}
</main>
</body>
</html>
`;
  send(res, status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  }, html);
}

function summary(tx) {
  const request = tx.request;
  const rows = [
    ['Verwendungszweck', escapeHtml(request.purpose)],
    ...(present(request.description) ? [['Beschreibung', escapeHtml(request.description)]] : []),
    ['Betrag', `<span class="amount">${escapeHtml(euros(Math.round(request.grosAmount * 100)))}</span>`],
    ...(tx.reference ? [['Kassenzeichen', escapeHtml(tx.reference)]] : []),
  ];
  return `<dl>\n${rows.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('\n')}\n</dl>`;
}

const backLink = (tx) => `<p><a href="${escapeHtml(tx.request.redirectUrl)}">Zurück zum Antrag</a></p>`;

function showPage(res, tx) {
  settle(tx);
  if (tx.pending) {
    page(res, 200, 'Zahlung wird verarbeitet', `<h1>Ihre Zahlung wird verarbeitet</h1>
${summary(tx)}
<p>Sie haben Ihre Wahl getroffen. Der Bezahldienst verarbeitet sie gerade.</p>
${backLink(tx)}`);
    return;
  }
  if (tx.status !== 'INITIAL') {
    const words = {
      PAYED: 'Diese Gebühr ist bereits bezahlt.',
      CANCELED: 'Diese Zahlung wurde abgebrochen.',
      FAILED: tx.statusDetail === EXPIRED_DETAIL
        ? 'Diese Zahlung ist wegen Zeitüberschreitung beendet.'
        : 'Diese Zahlung ist fehlgeschlagen.',
    }[tx.status];
    page(res, 410, 'Bezahlvorgang abgeschlossen', `<h1>Bezahlvorgang abgeschlossen</h1>
${summary(tx)}
<p>${words} Hier ist nichts mehr zu tun.</p>
${backLink(tx)}`);
    return;
  }
  const methods = Object.entries(PAYMENT_METHODS)
    .map(([value, label], i) => `<div class="choice"><input type="radio" id="zahlart-${value}" name="paymentMethod" value="${value}"${i === 0 ? ' checked' : ''}><label for="zahlart-${value}">${label}</label></div>`)
    .join('\n');
  page(res, 200, `Bezahlen: ${tx.request.purpose}`, `<h1>Gebühr bezahlen</h1>
${summary(tx)}
<form method="post" action="/paypage/${tx.pageId}">
<fieldset>
<legend>Zahlart</legend>
${methods}
</fieldset>
<div class="actions">
<button type="submit" name="action" value="pay" class="primary">Bezahlen</button>
<button type="submit" name="action" value="cancel">Abbrechen</button>
<button type="submit" name="action" value="fail">Fehler simulieren</button>
</div>
</form>
<p class="note">Dies ist ein Testbezahldienst: Es wird kein Geld bewegt. „Fehler simulieren“ lässt die Zahlung fehlschlagen, als hätte der Zahlungsdienstleister sie abgelehnt.</p>`);
}

function clickPage(req, res, tx, text) {
  settle(tx);
  if (tx.pending || tx.status !== 'INITIAL') {
    page(res, 409, 'Bezahlvorgang abgeschlossen', `<h1>Bezahlvorgang abgeschlossen</h1>
${summary(tx)}
<p>Für diese Zahlung wurde bereits entschieden. Ihre Eingabe hat nichts geändert.</p>
${backLink(tx)}`);
    return;
  }
  const form = new URLSearchParams(mediaType(req) === 'application/x-www-form-urlencoded' ? text : '');
  const status = { pay: 'PAYED', cancel: 'CANCELED', fail: 'FAILED' }[form.get('action')];
  if (!status) {
    page(res, 400, 'Ungültige Eingabe', `<h1>Ungültige Eingabe</h1>
<p>Bitte wählen Sie „Bezahlen“, „Abbrechen“ oder „Fehler simulieren“.</p>
<p><a href="/paypage/${tx.pageId}">Zurück zur Bezahlseite</a></p>`);
    return;
  }
  const chosen = form.get('paymentMethod');
  const method = Object.hasOwn(PAYMENT_METHODS, chosen ?? '') ? chosen : 'CREDITCARD';
  const failedOnce = status === 'PAYED' && knobs.failed_then_payed;
  if (knobs.delay_ms > 0) {
    tx.pending = { status, method, failedOnce, at: Date.now() + knobs.delay_ms };
  } else {
    apply(tx, status, { method, failedOnce });
  }
  // Back to the online service: to the redirectUrl exactly as it was given. The standard
  // adds nothing to it; the service learns the outcome by asking for the status.
  const location = tx.request.redirectUrl;
  send(res, 303, { location, 'content-type': 'text/html; charset=utf-8' },
    `<!doctype html><html lang="de"><title>Weiter</title><p><a href="${escapeHtml(location)}">Weiter zum Antrag</a></p></html>\n`);
}

// ---------------------------------------------------------------------------------------
// Test controls

function controlState() {
  return {
    knobs,
    oauth: OAUTH,
    tokensIssued,
    tokensActive: [...tokens.values()].filter((expiry) => Date.now() < expiry).length,
    originators: ORIGINATORS,
    endpoints: ENDPOINTS,
    transactions: [...transactions.values()].map((tx) => {
      settle(tx);
      return {
        originatorId: tx.originatorId,
        endpointId: tx.endpointId,
        transactionId: tx.transactionId,
        requestId: tx.request.requestId,
        status: tx.status,
        pending: tx.pending ? tx.pending.status : null,
        transactionReference: tx.reference,
      };
    }),
  };
}

function controlError(res, status, message) {
  json(res, status, { error: message });
}

function control(req, res, path, text) {
  let body = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      controlError(res, 400, 'the body is not JSON');
      return;
    }
  }
  if (path === '/__control' && req.method === 'GET') {
    json(res, 200, controlState());
    return;
  }
  if (req.method !== 'POST') {
    controlError(res, 405, 'use POST (GET /__control shows the state)');
    return;
  }
  if (path === '/__control') {
    if (!isObject(body)) {
      controlError(res, 400, 'send a JSON object of knobs');
      return;
    }
    for (const [name, value] of Object.entries(body)) {
      if (!(name in KNOBS)) {
        controlError(res, 400, `unknown knob ${name}; known: ${Object.keys(KNOBS).join(', ')}`);
        return;
      }
      if (!KNOBS[name][2](value)) {
        controlError(res, 400, `invalid value for ${name}: ${JSON.stringify(value)}`);
        return;
      }
    }
    Object.assign(knobs, body);
    json(res, 200, controlState());
    return;
  }
  if (path === '/__control/reset') {
    reset();
    send(res, 204, {}, '');
    return;
  }
  if (path === '/__control/revoke-tokens') {
    tokens = new Map();
    send(res, 204, {}, '');
    return;
  }
  const match = /^\/__control\/(pay|status)\/([^/]+)$/.exec(path);
  if (match) {
    const found = findTransactions(decodeURIComponent(match[2]));
    if (found.length === 0) {
      controlError(res, 404, 'no transaction with this transactionId');
      return;
    }
    if (found.length > 1) {
      controlError(res, 409, 'several tenants have a transaction with this transactionId');
      return;
    }
    const tx = found[0];
    settle(tx);
    if (match[1] === 'pay') {
      const method = body.paymentMethod ?? 'CREDITCARD';
      if (!Object.hasOwn(PAYMENT_METHODS, method)) {
        controlError(res, 400, `paymentMethod must be one of ${Object.keys(PAYMENT_METHODS).join(', ')}`);
        return;
      }
      apply(tx, 'PAYED', { method });
    } else {
      if (!STATUS.includes(body.status)) {
        controlError(res, 400, `status must be one of ${STATUS.join(', ')}`);
        return;
      }
      apply(tx, body.status, { method: body.paymentMethod });
    }
    json(res, 200, view(tx));
    return;
  }
  controlError(res, 404, 'unknown control');
}

// ---------------------------------------------------------------------------------------
// Routing

const ERROR_PAGE_CODES = Object.keys(FUNCTIONAL_CODES);

async function route(req, res, path, text) {
  const segments = path.split('/').slice(1).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });

  if (path.startsWith('/paypage/') && segments.length === 2) {
    const tx = pages.get(segments[1]);
    if (!tx) {
      page(res, 404, 'Nicht gefunden', '<h1>Diese Bezahlseite gibt es nicht</h1>\n<p>Bitte beginnen Sie die Zahlung im Antrag neu.</p>');
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      showPage(res, tx);
    } else if (req.method === 'POST') {
      clickPage(req, res, tx, text);
    } else {
      send(res, 405, { allow: 'GET, HEAD, POST', 'content-type': 'text/plain; charset=utf-8' }, 'Method Not Allowed\n');
    }
    return;
  }

  if (path === '/oauth/token') {
    if (req.method !== 'POST') {
      json(res, 405, { error: 'invalid_request', error_description: 'Use POST.' }, { allow: 'POST' });
      return;
    }
    tokenEndpoint(req, res, text);
    return;
  }

  if (segments[0] === 'errors' && segments.length === 2 && ERROR_PAGE_CODES.includes(segments[1])) {
    send(res, 200, { 'content-type': 'text/plain; charset=utf-8' }, `${segments[1]}: ${FUNCTIONAL_CODES[segments[1]]}\n`);
    return;
  }

  // GET /status/<originatorId>/<endPointId>: is this tenant's configuration usable?
  if (segments[0] === 'status' && segments.length === 3) {
    if (req.method !== 'GET') {
      problem(res, 405, 'UNSPECIFIED', 'Erlaubt ist nur GET.', { allow: 'GET' });
      return;
    }
    if (!authorized(req, res) || !checkTenant(res, segments[1], segments[2])) return;
    send(res, 200, { 'content-type': 'application/problem+json' }, JSON.stringify({
      type: `${BASE}/status`,
      status: 200,
      title: 'OK',
      detail: 'Der Bezahldienst ist für diesen Mandanten bereit.',
    }));
    return;
  }

  if (segments[0] === 'paymenttransaction' && (segments.length === 3 || segments.length === 4)) {
    const [, originatorId, endpointId, transactionId] = segments;
    const allowed = segments.length === 3 ? 'POST' : 'GET';
    if (req.method !== allowed) {
      problem(res, 405, 'UNSPECIFIED', `Erlaubt ist hier nur ${allowed}.`, { allow: allowed });
      return;
    }
    if (!authorized(req, res) || !checkTenant(res, originatorId, endpointId)) return;
    if (segments.length === 3) createTransaction(req, res, originatorId, endpointId, text);
    else getTransaction(res, originatorId, endpointId, transactionId);
    return;
  }

  problem(res, 404, 'UNSPECIFIED', 'Diese Adresse gibt es nicht.');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const path = url.pathname;
  let text;
  try {
    text = await readBody(req);
  } catch {
    return;
  }
  if (text === null) {
    problem(res, 413, 'VALIDATION_ERROR', 'Der Aufruf ist größer als 1 MiB.');
    return;
  }
  try {
    if (path === '/__requests') {
      if (req.method === 'GET') json(res, 200, requestLog);
      else if (req.method === 'DELETE') {
        requestLog = [];
        send(res, 204, {}, '');
      } else controlError(res, 405, 'GET or DELETE');
      return;
    }
    if (path === '/__control' || path.startsWith('/__control/')) {
      control(req, res, path, text);
      return;
    }

    // Everything else is the provider's interface: recorded for /__requests, and subject
    // to the latency and outage knobs.
    requestSeq += 1;
    const entry = {
      seq: requestSeq,
      time: new Date().toISOString(),
      method: req.method,
      path: req.url,
      headers: loggedHeaders(req),
      body: loggedBody(req, text),
      status: null,
    };
    requestLog.push(entry);
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    if (knobs.latency_ms > 0) await sleep(knobs.latency_ms);
    if (knobs.down) {
      if (path.startsWith('/paypage/')) {
        page(res, 503, 'Nicht verfügbar', '<h1>Der Bezahldienst ist gerade nicht verfügbar</h1>\n<p>Bitte versuchen Sie es später noch einmal.</p>');
      } else {
        problem(res, 503, 'UNSPECIFIED', 'Der Bezahldienst ist vorübergehend nicht verfügbar.', { 'retry-after': '5' });
      }
      return;
    }
    await route(req, res, path, text);
  } catch (err) {
    console.error('payment provider: internal error', err);
    if (!res.headersSent) problem(res, 500, 'UNSPECIFIED', 'Interner Fehler des Testbezahldienstes.');
  }
});

server.listen(PORT, '127.0.0.1', () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  BASE = (process.env.PUBLIC_URL || origin).replace(/\/+$/, '');
  console.log(`listening ${origin}`);
});

// Started by a test with a pipe on stdin: leave when the test process is gone (its end
// of the pipe closes), and after an hour at the latest. Started from a terminal or in the
// background, run until stopped. Node's child_process gives its children a socket, not a
// FIFO, so a browser script in Node that starts the provider counts as a test too.
function stdinIsPipe() {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

if (stdinIsPipe()) {
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  setTimeout(() => process.exit(0), 60 * 60 * 1000).unref();
}
