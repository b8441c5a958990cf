import type { IncomingMessage, ServerResponse } from 'node:http';
import * as client from 'openid-client';
import { sessionCookieHeader } from '../auth/session-cookie.js';
import type { Feature } from '../feature.js';
import { KnotError } from '../errors.js';
import type { Services } from '../services.js';
import { clearFlowCookie, openFlow, safeNext, sealFlow } from './flow-cookie.js';
import { OidcProvider } from './provider.js';
import { signInWithOidc, type VerifiedClaims } from './sign-in.js';

export const OIDC_LOGIN_PATH = '/auth/oidc/login';
export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';
/** How long a sign-in waits for a provider still being discovered before it says the provider is unavailable. */
const DISCOVERY_WAIT_MS = 5_000;

/**
 * Why a sign-in failed, as the login page shows it (`/login?error=<code>`). Only the code travels
 * in the URL, never text from the request, so a crafted link cannot put words on Knot's page.
 */
export type OidcFailure =
  | 'OIDC_STATE_INVALID'
  | 'OIDC_NONCE_INVALID'
  | 'OIDC_CODE_INVALID'
  | 'OIDC_DENIED'
  | 'OIDC_UNAVAILABLE'
  | 'OIDC_FAILED'
  | 'FORBIDDEN'
  | 'NAME_TAKEN';

/** Single sign-on's two routes; without KNOT_OIDC_ISSUER they answer 404. */
export const oidcFeature: Feature = (services, router) => {
  const settings = services.config.oidc;
  const provider = settings ? new OidcProvider(settings, services.log) : null;
  services.oidc = provider;
  provider?.start();
  router
    .route(OIDC_LOGIN_PATH, { http: (req, res) => (provider ? beginSignIn(services, provider, req, res) : notConfigured(res)) })
    .route(OIDC_CALLBACK_PATH, { http: (req, res) => (provider ? finishSignIn(services, provider, req, res) : notConfigured(res)) });
  return { dispose: async () => provider?.stop() };
};

function notConfigured(res: ServerResponse) {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('Single sign-on is not configured on this Knot (KNOT_OIDC_ISSUER).\n');
}

function redirect(res: ServerResponse, location: string, cookies: string[] = []) {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...(cookies.length ? { 'set-cookie': cookies } : {}) }).end();
}

function failed(services: Services, res: ServerResponse, code: OidcFailure, detail?: string) {
  services.log.warn({ code, detail }, 'single sign-on refused');
  redirect(res, `/login?error=${code}`, [clearFlowCookie(services.config.secureCookies)]);
}

function callbackUrl(services: Services): string {
  return `${services.config.url}${OIDC_CALLBACK_PATH}`;
}

async function beginSignIn(services: Services, provider: OidcProvider, req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return res.writeHead(405, { allow: 'GET' }).end();
  const configuration = await provider.ready(DISCOVERY_WAIT_MS);
  if (!configuration) return failed(services, res, 'OIDC_UNAVAILABLE', provider.lastError);
  const next = safeNext(new URL(req.url ?? '/', 'http://knot').searchParams.get('next'));
  const codeVerifier = client.randomPKCECodeVerifier();
  const { flow, cookie } = sealFlow(
    services.box,
    { state: client.randomState(), nonce: client.randomNonce(), codeVerifier, next },
    services.config.secureCookies,
  );
  const url = client.buildAuthorizationUrl(configuration, {
    redirect_uri: callbackUrl(services),
    scope: provider.settings.scopes,
    state: flow.state,
    nonce: flow.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  redirect(res, url.href, [cookie]);
}

async function finishSignIn(services: Services, provider: OidcProvider, req: IncomingMessage, res: ServerResponse) {
  if (req.method !== 'GET') return res.writeHead(405, { allow: 'GET' }).end();
  const secure = services.config.secureCookies;
  const current = new URL(`${callbackUrl(services)}${new URL(req.url ?? '/', 'http://knot').search}`);
  const params = current.searchParams;
  const flow = openFlow(services.box, req.headers.cookie, secure);
  // The state ties this answer to a sign-in this browser began: anything else is a forged or replayed link.
  if (!flow || !params.get('state') || params.get('state') !== flow.state) {
    return failed(services, res, 'OIDC_STATE_INVALID', flow ? 'state differs from the one sent' : 'no sign-in in progress in this browser');
  }
  if (params.get('error')) return failed(services, res, 'OIDC_DENIED', `${params.get('error')}: ${params.get('error_description') ?? ''}`);
  if (!params.get('code')) return failed(services, res, 'OIDC_CODE_INVALID', 'no code');
  const configuration = await provider.ready(DISCOVERY_WAIT_MS);
  if (!configuration) return failed(services, res, 'OIDC_UNAVAILABLE', provider.lastError);

  let claims: VerifiedClaims;
  let idToken: string;
  try {
    const tokens = await client.authorizationCodeGrant(configuration, current, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    idToken = tokens.id_token!;
    // Many providers put profile and group claims in the userinfo answer only; the ID token's own claims win.
    const userinfo = configuration.serverMetadata().userinfo_endpoint
      ? await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub)
      : {};
    claims = { ...userinfo, ...idClaims } as VerifiedClaims;
  } catch (err) {
    return failed(services, res, failureOf(err), err instanceof Error ? err.message : String(err));
  }

  try {
    const { token } = await signInWithOidc(services, provider.settings, claims, idToken);
    redirect(res, flow.next, [clearFlowCookie(secure), sessionCookieHeader(services.config, token)]);
  } catch (err) {
    if (err instanceof KnotError && (err.extensions.code === 'FORBIDDEN' || err.extensions.code === 'NAME_TAKEN')) {
      return failed(services, res, err.extensions.code, err.message);
    }
    services.log.error({ err }, 'single sign-on: could not sign the user in');
    return failed(services, res, 'OIDC_FAILED');
  }
}

function failureOf(err: unknown): OidcFailure {
  type Coded = { code?: string; error?: string; claim?: string; cause?: Coded };
  const e = err as Coded;
  // openid-client wraps the failed comparison; the claim it compared is on the cause (or the cause's).
  const claim = e.cause?.claim ?? e.cause?.cause?.claim;
  if (e.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' && claim === 'nonce') return 'OIDC_NONCE_INVALID';
  if (e.error === 'invalid_grant') return 'OIDC_CODE_INVALID';
  return 'OIDC_FAILED';
}
