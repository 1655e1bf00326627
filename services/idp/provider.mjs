// The OpenID Connect provider of `invoke idp` (hubimages/services/idp.py starts it): panva's
// oidc-provider (npm, OpenID Certified), configured for a test site, with a login form of its
// own. Run with the host's node:  node provider.mjs SETTINGS.json
//
// SETTINGS (mode 600, written by hubimages/services/idp/) holds: issuer, address, port, tls
// {cert, key}, signing_key (a PEM file of the RSA key), cookie_keys, access_token_seconds,
// refresh_token_seconds, resource {indicator, audience, scope}, registration_token, clients
// [{client_id, client_secret, redirect_uris}], users [{sub, username, password, name, email,
// groups}].
//
// Clients are the fixed ones of SETTINGS (Rucio's) and those that register themselves with
// the registration token (OpenID Connect Dynamic Client Registration): a hub registers its
// callback at each start, wherever it listens.
//
// What clients get: authorization code with PKCE (S256, required), refresh tokens (rotated),
// ID tokens with the profile, email and groups claims, and access tokens for one resource
// server (Rucio and its storages): JWTs signed with the site's RS256 key, `aud` the resource's
// audience, `scope` what the resource accepts of the scopes granted, plus `preferred_username`
// and `groups`. Clients of the site are first-party: no consent page.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createPrivateKey, timingSafeEqual } from 'node:crypto';
import Provider from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const users = new Map(settings.users.map((user) => [user.sub, user]));
const resource = settings.resource;
const signingKey = {
  ...createPrivateKey(readFileSync(settings.signing_key)).export({ format: 'jwk' }),
  kid: settings.signing_kid,
  use: 'sig',
  alg: 'RS256',
};

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sameText(given, expected) {
  const a = Buffer.from(String(given));
  const b = Buffer.from(String(expected));
  return a.length === b.length && timingSafeEqual(a, b);
}

function claimsOf(user) {
  return {
    sub: user.sub,
    preferred_username: user.username,
    name: user.name,
    email: user.email,
    email_verified: true,
    groups: user.groups,
  };
}

const configuration = {
  clients: settings.clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: settings.cookie_keys },
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    registration: { enabled: true, initialAccessToken: settings.registration_token },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource.indicator,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== resource.indicator) {
          throw new Provider.errors.InvalidTarget();
        }
        return {
          scope: resource.scope,
          audience: resource.audience,
          accessTokenTTL: settings.access_token_seconds,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Who a token speaks for, for the storages and for the hub's groups.
  extraTokenClaims: (ctx, token) => {
    const user = users.get(token.accountId);
    return user ? { preferred_username: user.username, groups: user.groups } : undefined;
  },
  findAccount: (ctx, sub) => {
    const user = users.get(sub);
    return user && { accountId: sub, claims: () => claimsOf(user) };
  },
  // A refresh token for every client allowed the grant (the hub keeps sessions' tokens fresh),
  // not only after an offline_access consent: the site's clients are its own.
  issueRefreshToken: (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // First-party clients: the grant covers what they ask, no consent page.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    const asked = (ctx.oidc.params.scope || 'openid').split(' ');
    grant.addOIDCScope(asked.join(' '));
    grant.addResourceScope(resource.indicator, resource.scope);
    await grant.save();
    return grant;
  },
  ttl: {
    AccessToken: settings.access_token_seconds,
    IdToken: settings.access_token_seconds,
    AuthorizationCode: 60,
    Interaction: 600,
    Session: settings.refresh_token_seconds,
    Grant: settings.refresh_token_seconds,
    RefreshToken: settings.refresh_token_seconds,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<p id="error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description || '')}</p>`);
  },
};

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>`
    + '<style>body{font-family:sans-serif;max-width:24em;margin:4em auto}'
    + 'input{display:block;width:100%;margin:.3em 0 1em}</style></head>'
    + `<body><h1>${title}</h1>${body}</body></html>`;
}

function loginForm(uid, clientId, problem) {
  return page('Test site login', `<p>Sign in to continue to <b>${escapeHtml(clientId)}</b>.</p>`
    + (problem ? `<p id="login-error" role="alert">${escapeHtml(problem)}</p>` : '')
    + `<form method="post" action="/interaction/${uid}/login" autocomplete="off">`
    + '<label for="username">User name</label><input id="username" name="username" required autofocus>'
    + '<label for="password">Password</label><input id="password" name="password" type="password" required>'
    + '<button id="login" type="submit">Sign in</button></form>');
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

const provider = new Provider(settings.issuer, configuration);
const callback = provider.callback();

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (details.prompt.name !== 'login') {
    // Anything but a login (consent is covered by loadExistingGrant) goes on as is.
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    return;
  }
  if (action !== 'login' || req.method !== 'POST') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(loginForm(uid, details.params.client_id));
    return;
  }
  const form = await readForm(req);
  const user = [...users.values()].find((u) => u.username === form.get('username'));
  if (!user || !sameText(form.get('password') || '', user.password)) {
    res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(loginForm(uid, details.params.client_id, 'Wrong user name or password.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, {
    mergeWithLastSubmission: false,
  });
}

const server = https.createServer({
  cert: readFileSync(settings.tls.cert),
  key: readFileSync(settings.tls.key),
}, (req, res) => {
  const match = /^\/interaction\/([\w-]+)(?:\/(login))?$/.exec(req.url.split('?')[0]);
  if (!match) {
    callback(req, res);
    return;
  }
  interaction(req, res, match[1], match[2]).catch((error) => {
    res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page('Login failed', `<p id="error">${escapeHtml(error.message)}</p>`));
  });
});

server.listen(settings.port, settings.address, () => {
  console.log(`oidc-provider: issuer ${settings.issuer} listening on ${settings.address}:${settings.port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
