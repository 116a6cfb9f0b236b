// panva's certified oidc-provider as a loopback OP for the interop tests and
// for `make demo`.  Nobody types a password: the interaction route logs in a
// demo user straight away (login_hint picks which), grants are given
// without a consent screen, and the logout page submits itself, so a
// programmatic client with a cookie jar can do a whole login and logout.
//
// Configured by environment (t/idp/op.py sets it):
//   OP_PORT                   port on 127.0.0.1 (or the first argument)
//   OP_CLIENT_ID, OP_CLIENT_SECRET          client_secret_basic client
//   OP_POST_CLIENT_ID, OP_POST_CLIENT_SECRET client_secret_post client
//   OP_REDIRECT_URIS          space-separated, for both clients
//   OP_POST_LOGOUT_REDIRECT_URIS  space-separated
//   OP_BACKCHANNEL_LOGOUT_URI optional, for both clients
//   OP_USERS                  optional JSON {id: {email, name, groups, ...}}
//   OP_DEFAULT_USER           user logged in without a login_hint
//   OP_TTL                    optional JSON merged over the short TTLs
//
// Run from the directory that holds node_modules (op.py copies it there).

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const port = Number(process.argv[2] || env.OP_PORT || 0);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('server.mjs: OP_PORT (or argv[2]) must be a port number');
  process.exit(2);
}

const issuer = `http://127.0.0.1:${port}`;
const words = (s) => (s || '').split(/\s+/).filter(Boolean);

const redirectUris = words(env.OP_REDIRECT_URIS || 'http://127.0.0.1/cb');
const postLogoutRedirectUris = words(env.OP_POST_LOGOUT_REDIRECT_URIS);
const backchannelLogoutUri = env.OP_BACKCHANNEL_LOGOUT_URI || '';

const users = env.OP_USERS ? JSON.parse(env.OP_USERS) : {
  alice: {
    email: 'alice@example.com',
    name: 'Alice Admin',
    preferred_username: 'alice',
    groups: ['airflow-admins', 'data-eng'],
  },
  bob: {
    email: 'bob@example.com',
    name: 'Bob Viewer',
    preferred_username: 'bob',
    groups: ['data-viewers'],
  },
  nobody: {
    email: 'nobody@example.com',
    name: 'No Groups',
    preferred_username: 'nobody',
    groups: [],
  },
};
const defaultUser = env.OP_DEFAULT_USER || Object.keys(users)[0];

function client(id, secret, method) {
  const c = {
    client_id: id,
    client_secret: secret,
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogoutRedirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: method,
    id_token_signed_response_alg: env.OP_ID_TOKEN_ALG || 'RS256',
  };
  if (backchannelLogoutUri) {
    c.backchannel_logout_uri = backchannelLogoutUri;
    c.backchannel_logout_session_required = true;
  }
  return c;
}

// Fresh keys per run: tests fetch them from jwks_uri like any RP would.
function key(type, options, alg) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${crypto.randomBytes(4).toString('hex')}` };
}

const ttl = {
  AccessToken: 600,
  AuthorizationCode: 60,
  IdToken: 600,
  Interaction: 600,
  Session: 3600,
  Grant: 3600,
  ...(env.OP_TTL ? JSON.parse(env.OP_TTL) : {}),
};

// The logout confirmation submits itself: a browser runs the script, a
// programmatic client posts the one form it finds (hidden logout=yes).
async function logoutSource(ctx, form) {
  const script = 'document.forms[0].submit();';
  const digest = crypto.createHash('sha256').update(script).digest('base64');
  const csp = ctx.response.get('content-security-policy');
  if (csp && /script-src/.test(csp)) {
    ctx.set('content-security-policy',
      csp.replace(/script-src/, `script-src 'sha256-${digest}'`));
  }
  const confirmed = form.replace('</form>',
    '<input type="hidden" name="logout" value="yes"/></form>');
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Signing out</title></head><body>${confirmed}
<script>${script}</script></body></html>`;
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8">'
    + '<title>Signed out</title></head><body><p>Signed out.</p></body></html>';
}

const configuration = {
  clients: [
    client(env.OP_CLIENT_ID || 'airflow', env.OP_CLIENT_SECRET || 'airflow-secret',
      'client_secret_basic'),
    client(env.OP_POST_CLIENT_ID || 'airflow-post',
      env.OP_POST_CLIENT_SECRET || 'airflow-post-secret', 'client_secret_post'),
  ],
  jwks: {
    keys: [
      key('rsa', { modulusLength: 2048 }, 'RS256'),
      key('ec', { namedCurve: 'P-256' }, 'ES256'),
    ],
  },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // The ID token from the token endpoint carries the scope's claims too,
  // as Okta's custom authorization servers do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  ttl,
  features: {
    devInteractions: { enabled: false },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    claimsParameter: { enabled: true },
  },
  async findAccount(ctx, id) {
    const u = users[id];
    if (!u) {
      return undefined;
    }
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...u };
      },
    };
  },
  // First-party clients: every requested scope and claim is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) {
        return found;
      }
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes
      ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    if (ctx.oidc.requestParamClaims) {
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims]);
    }
    await grant.save();
    return grant;
  },
  // oidc-provider will not fetch from special-use addresses (its SSRF
  // guard); this OP and the RPs it calls back both live on loopback.
  fetch(url, options) {
    const host = new URL(url).hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') {
      delete options.dispatcher;
    }
    return globalThis.fetch(url, options);
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('backchannel.error', (ctx, err, c, accountId, sid) => {
  console.error('backchannel.error', c.clientId, sid, err.message);
});
provider.on('backchannel.success', (ctx, c, accountId, sid) => {
  console.log('backchannel.success', c.clientId, accountId, sid);
});

const callback = provider.callback();

// /interaction/UID: log the hinted (or default) user in, no page.
async function interaction(req, res) {
  try {
    const details = await provider.interactionDetails(req, res);
    const hint = details.params.login_hint;
    const accountId = hint && users[hint] ? hint : defaultUser;
    let result;
    if (details.prompt.name === 'login') {
      result = { login: { accountId } };
    } else {
      const grant = new provider.Grant({
        clientId: details.params.client_id,
        accountId: details.session.accountId,
      });
      grant.addOIDCScope(details.params.scope || 'openid');
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(req, res, result,
      { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 400;
    res.setHeader('content-type', 'text/plain');
    res.end(`interaction failed: ${err.message}\n`);
  }
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res);
    return;
  }
  callback(req, res);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => process.exit(0));
}
