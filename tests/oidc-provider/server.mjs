// A local OpenID provider for the Lotse login tests, built on the certified
// `oidc-provider` package. It logs in automatically, so a plain HTTP client that follows
// redirects and keeps cookies can run the whole authorization code flow:
//
// - the citizens' clients (BundID's stand-in) log in one fixed test citizen (sub
//   `buerger-4711`, Erika Mustermann) at the trust level (acr) the client asks for;
// - the caseworkers' workspace client (the city's own provider's stand-in) logs in the
//   staff account its `login_hint` names (the authorization parameter of OpenID Connect
//   Core; Lotse's /api/amt/login passes it on), `petra.schulte` without one. An unknown hint
//   sends the browser back to the client with `error=access_denied`.
//
// A provider session of another account than the one a login is for (another staff
// member, or the citizen at the staff client) is not reused: the provider first ends it
// with its own self-submitting form (`POST /session/end/confirm`, fields `xsrf` and
// `logout=yes`; a browser with JavaScript submits it, an HTTP client posts it), then the
// named account logs in.
//
//   node server.mjs [port]        (port also from PORT; 0 or unset = any free port)
//
// Environment:
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI   the citizens' confidential client (defaults
//                                            below); a second client `<CLIENT_ID>-es256`
//                                            with the same secret and redirect URI gets
//                                            ES256 ID tokens instead of RS256
//   FORCE_ACR                                log citizens in at this acr whatever is
//                                            asked for
//   STAFF_CLIENT_ID, STAFF_CLIENT_SECRET, STAFF_REDIRECT_URI
//                                            the workspace's confidential client
//                                            (client_secret_basic, RS256; defaults
//                                            `lotse-arbeitsplatz`,
//                                            `lotse-arbeitsplatz-secret-0123456789abcdef`,
//                                            http://127.0.0.1:9/api/amt/callback)
//
// Staff accounts (login_hint: the username, the sub or the email). With scope `openid
// profile email` the ID token carries sub, name, given_name, family_name,
// preferred_username, email, email_verified and, where the account has it,
// `lotse_offices`:
//
//   username        sub       name              lotse_offices
//   petra.schulte   ma-1001   Petra Schulte     ["bottrop/buergerbuero"]
//   murat.yilmaz    ma-1002   Murat Yilmaz      ["gelsenkirchen/buergerbuero"]
//   jana.kowalski   ma-1003   Jana Kowalski     ["bottrop/buergerbuero", "bottrop/standesamt"]
//   lena.berg       ma-1004   Lena Berg         "gelsenkirchen/standesamt kein-amt" (one
//                                               space-separated string, one id not
//                                               <portal>/<office>)
//   ohne.amt        ma-1005   Olaf Ohneamt      (no claim)
//   falsch.amt      ma-1006   Frieda Falsch     ["buergerbuero", "bottrop/"] (no id of
//                                               the form <portal>/<office>)
//
// Email addresses are <username>@stadt.example.
//
// Per request (tests only): the authorization parameter `test_acr` overrides the acr,
// which is in the ID token when the client asks for one (`acr_values`). FORCE_ACR is for
// the citizens' clients; the mischief below (`/__mischief/<mode>`) applies to every client.
//
// Listens on 127.0.0.1 only and prints one line `listening http://127.0.0.1:<port>` when
// ready. When stdin is a pipe (started by a test), exits when it closes or after an hour.

import { createServer } from 'node:http';
import { createHmac, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { fstatSync } from 'node:fs';

import Provider, { interactionPolicy } from 'oidc-provider';

const ACR_VALUES = ['STORK-QAA-Level-1', 'STORK-QAA-Level-3', 'STORK-QAA-Level-4'];
const CITIZEN = {
  sub: 'buerger-4711',
  given_name: 'Erika',
  family_name: 'Mustermann',
  email: 'erika@example.org',
  email_verified: true,
  address: {
    street_address: 'Heidestraße 17',
    postal_code: '51147',
    locality: 'Köln',
    country: 'DE',
  },
};

function staff(username, sub, givenName, familyName, offices) {
  return {
    sub,
    name: `${givenName} ${familyName}`,
    given_name: givenName,
    family_name: familyName,
    preferred_username: username,
    email: `${username}@stadt.example`,
    email_verified: true,
    ...(offices === undefined ? {} : { lotse_offices: offices }),
  };
}

const STAFF = [
  staff('petra.schulte', 'ma-1001', 'Petra', 'Schulte', ['bottrop/buergerbuero']),
  staff('murat.yilmaz', 'ma-1002', 'Murat', 'Yilmaz', ['gelsenkirchen/buergerbuero']),
  staff('jana.kowalski', 'ma-1003', 'Jana', 'Kowalski', ['bottrop/buergerbuero', 'bottrop/standesamt']),
  staff('lena.berg', 'ma-1004', 'Lena', 'Berg', 'gelsenkirchen/standesamt kein-amt'),
  staff('ohne.amt', 'ma-1005', 'Olaf', 'Ohneamt', undefined),
  staff('falsch.amt', 'ma-1006', 'Frieda', 'Falsch', ['buergerbuero', 'bottrop/']),
];
const DEFAULT_STAFF = 'petra.schulte';

// The staff account a login_hint names: by username, sub or email; none without a hint
// is Petra Schulte.
function staffByHint(hint) {
  const wanted = String(hint ?? '').trim() || DEFAULT_STAFF;
  return STAFF.find((a) => [a.preferred_username, a.sub, a.email].includes(wanted));
}

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const clientId = process.env.CLIENT_ID ?? 'lotse-test';
const clientSecret = process.env.CLIENT_SECRET ?? 'lotse-test-secret-0123456789abcdef';
const redirectUri = process.env.REDIRECT_URI ?? 'http://127.0.0.1:9/api/callback';
const forceAcr = process.env.FORCE_ACR || undefined;
const staffClientId = process.env.STAFF_CLIENT_ID ?? 'lotse-arbeitsplatz';
const staffClientSecret = process.env.STAFF_CLIENT_SECRET ?? 'lotse-arbeitsplatz-secret-0123456789abcdef';
const staffRedirectUri = process.env.STAFF_REDIRECT_URI ?? 'http://127.0.0.1:9/api/amt/callback';
const secretOf = (id) => (id === staffClientId ? staffClientSecret : clientSecret);

// Which account a client's login is for: the staff account of its login_hint for the
// workspace's client (undefined for an unknown hint), the citizen for every other.
function accountFor(clientId, loginHint) {
  return clientId === staffClientId ? staffByHint(loginHint) : CITIZEN;
}

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    .export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    .export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: 'rsa-1', use: 'sig', alg: 'RS256' },
      { ...ec, kid: 'ec-1', use: 'sig', alg: 'ES256' },
    ],
  };
}

async function findAccount(_ctx, sub) {
  const account = [CITIZEN, ...STAFF].find((a) => a.sub === sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return structuredClone(account);
    },
  };
}

// The provider's login prompt, plus one check: a provider session of an account other
// than the one this login is for (another staff member, or the citizen at the staff
// client) asks for a login again, so that login_hint always decides.
function policy() {
  const prompts = interactionPolicy.base();
  prompts.get('login').checks.add(new interactionPolicy.Check(
    'other_account',
    'the session belongs to another account than the login is for',
    (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const wanted = accountFor(oidc.client.clientId, oidc.params.login_hint);
      return wanted?.sub === oidc.session.accountId
        ? interactionPolicy.Check.NO_NEED_TO_PROMPT
        : interactionPolicy.Check.REQUEST_PROMPT;
    },
  ));
  return prompts;
}

// Mischief for refusal tests: `GET /__mischief/<mode>` makes the token endpoint hand out
// a bad ID token until `GET /__mischief/off`. The relying party must refuse every one.
const MISCHIEF = ['none', 'hs256', 'expired', 'audience', 'issuer', 'nonce'];
let mischief = null;
const keys = signingKeys();

const b64url = (data) => Buffer.from(data).toString('base64url');
const parse = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

function tamper(idToken, secret) {
  const [, body] = idToken.split('.');
  const claims = parse(body);
  const now = Math.floor(Date.now() / 1000);
  const rsa = createPrivateKey({ key: keys.keys[0], format: 'jwk' });
  let header = { alg: 'RS256', typ: 'JWT', kid: 'rsa-1' };
  if (mischief === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (mischief === 'audience') claims.aud = 'someone-else';
  if (mischief === 'issuer') claims.iss = 'http://127.0.0.1:1';
  if (mischief === 'nonce') claims.nonce = 'not-the-nonce';
  if (mischief === 'none') header = { alg: 'none', typ: 'JWT' };
  if (mischief === 'hs256') header = { alg: 'HS256', typ: 'JWT', kid: 'rsa-1' };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  if (mischief === 'none') return `${input}.`;
  if (mischief === 'hs256') return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), rsa).toString('base64url')}`;
}

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const client = {
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  };
  const provider = new Provider(issuer, {
    clients: [
      client,
      { ...client, client_id: `${clientId}-es256`, id_token_signed_response_alg: 'ES256' },
      {
        ...client,
        client_id: staffClientId,
        client_secret: staffClientSecret,
        redirect_uris: [staffRedirectUri],
      },
    ],
    jwks: keys,
    findAccount,
    acrValues: ACR_VALUES,
    extraParams: ['test_acr'],
    claims: {
      openid: ['sub'],
      // name, preferred_username and lotse_offices only staff accounts have.
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'lotse_offices'],
      email: ['email', 'email_verified'],
      address: ['address'],
      acr: null,
      auth_time: null,
      sid: null,
    },
    scopes: ['openid', 'profile', 'email', 'address'],
    // Names and address in the ID token (brokers such as Keycloak do the same).
    conformIdTokenClaims: false,
    pkce: { methods: ['S256'], required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: {
      policy: policy(),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    cookies: { keys: ['lotse-test-cookie-key-not-secret'] },
    ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  provider.use(async (ctx, next) => {
    await next();
    if (mischief && ctx.path === '/token' && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token, secretOf(ctx.oidc?.client?.clientId)) };
    }
  });

  // The automatic login: log the citizen in at the requested level (or the staff member
  // the login_hint names), grant everything asked for, and send the browser straight
  // back to the authorization endpoint.
  async function interaction(req, res) {
    try {
      const details = await provider.interactionDetails(req, res);
      const { prompt, params } = details;
      if (prompt.name === 'login') {
        const requested = String(params.acr_values ?? '').split(' ').filter(Boolean);
        if (params.client_id === staffClientId) {
          const account = staffByHint(params.login_hint);
          const result = account
            ? {
              login: { accountId: account.sub, acr: params.test_acr ?? requested[0] ?? ACR_VALUES[0], amr: ['pwd'] },
            }
            : { error: 'access_denied', error_description: 'unknown login_hint' };
          await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
          return;
        }
        const acr = forceAcr ?? params.test_acr ?? requested[0] ?? ACR_VALUES[0];
        await provider.interactionFinished(req, res, {
          login: { accountId: CITIZEN.sub, acr, amr: ['pwd'] },
        }, { mergeWithLastSubmission: false });
        return;
      }
      if (prompt.name === 'consent') {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
        if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
        if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
        if (prompt.details.missingResourceScopes) {
          for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) {
            grant.addResourceScope(indicator, scopes.join(' '));
          }
        }
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return;
      }
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`unexpected prompt ${prompt.name}`);
    } catch (err) {
      console.error('interaction failed', err);
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url.startsWith('/__mischief/')) {
      const mode = req.url.slice('/__mischief/'.length);
      mischief = MISCHIEF.includes(mode) ? mode : null;
      res.writeHead(204).end();
    } else if (req.url.startsWith('/interaction/')) {
      interaction(req, res);
    } else {
      callback(req, res);
    }
  });
  console.log(`listening ${issuer}`);
});

// Started by a test with a pipe on stdin: leave when the test process is gone (its end
// of the pipe closes), and after an hour at the latest. Started from a terminal or in the
// background, run until stopped.
function stdinIsPipe() {
  try {
    return fstatSync(0).isFIFO();
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
