// A local OpenID provider for the Lotse login tests, built on the certified
// `oidc-provider` package. It logs in one fixed test citizen automatically, at the trust
// level (acr) the client asks for, so a plain HTTP client that follows redirects and
// keeps cookies can run the whole authorization code flow.
//
//   node server.mjs [port]        (port also from PORT; 0 or unset = any free port)
//
// Environment:
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI   the one confidential client (defaults below);
//                                            a second client `<CLIENT_ID>-es256` with the
//                                            same secret and redirect URI gets ES256 ID
//                                            tokens instead of RS256
//   FORCE_ACR                                log in at this acr whatever is asked for
//
// Per request (tests only): the authorization parameter `test_acr` overrides the acr.
//
// Listens on 127.0.0.1 only and prints one line `listening http://127.0.0.1:<port>` when
// ready. When stdin is a pipe (started by a test), exits when it closes or after an hour.

import { createServer } from 'node:http';
import { createHmac, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { fstatSync } from 'node:fs';

import Provider from 'oidc-provider';

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

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const clientId = process.env.CLIENT_ID ?? 'lotse-test';
const clientSecret = process.env.CLIENT_SECRET ?? 'lotse-test-secret-0123456789abcdef';
const redirectUri = process.env.REDIRECT_URI ?? 'http://127.0.0.1:9/api/callback';
const forceAcr = process.env.FORCE_ACR || undefined;

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
  if (sub !== CITIZEN.sub) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { ...CITIZEN };
    },
  };
}

// Mischief for refusal tests: `GET /__mischief/<mode>` makes the token endpoint hand out
// a bad ID token until `GET /__mischief/off`. The relying party must refuse every one.
const MISCHIEF = ['none', 'hs256', 'expired', 'audience', 'issuer', 'nonce'];
let mischief = null;
const keys = signingKeys();

const b64url = (data) => Buffer.from(data).toString('base64url');
const parse = (part) => JSON.parse(Buffer.from(part, 'base64url').toString());

function tamper(idToken) {
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
  if (mischief === 'hs256') return `${input}.${createHmac('sha256', clientSecret).update(input).digest('base64url')}`;
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
    ],
    jwks: keys,
    findAccount,
    acrValues: ACR_VALUES,
    extraParams: ['test_acr'],
    claims: {
      openid: ['sub'],
      profile: ['given_name', 'family_name'],
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
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['lotse-test-cookie-key-not-secret'] },
    ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));
  provider.use(async (ctx, next) => {
    await next();
    if (mischief && ctx.path === '/token' && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: tamper(ctx.body.id_token) };
    }
  });

  // The automatic login: log the citizen in at the requested level, grant everything
  // asked for, and send the browser straight back to the authorization endpoint.
  async function interaction(req, res) {
    try {
      const details = await provider.interactionDetails(req, res);
      const { prompt, params } = details;
      if (prompt.name === 'login') {
        const requested = String(params.acr_values ?? '').split(' ').filter(Boolean);
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
