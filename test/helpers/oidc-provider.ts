import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { OidcConfig } from '../../server/src/config.js';

export const OIDC_CLIENT_ID = 'knot-test';
export const OIDC_CLIENT_SECRET = 'knot-test-secret-that-is-long-enough-for-hs256';

/** An account at the test provider: the claims its ID token and userinfo carry (sub is the login). */
export type TestClaims = Record<string, unknown>;

export interface TestOidcProvider {
  issuer: string;
  /** Claims by login; change them between sign-ins to change what the next token says. */
  accounts: Map<string, TestClaims>;
  /**
   * Changes one parameter of the next authorization request as it reaches the provider, as a
   * man in the middle or a crafted link would (the provider then answers with the changed value).
   */
  tamperNextAuthorization(param: string, value: string): void;
  /** Registers Knot as the client, once Knot's URLs (and so its redirect URIs) are known. */
  register(...knotUrls: string[]): void;
  stop(): Promise<void>;
}

/**
 * A real OpenID Connect provider (the `oidc-provider` package) on an ephemeral port, with its dev
 * login and consent pages: any login and password sign in, as the account of that login. It
 * answers 503 until register() gives it Knot's URL, which Knot's discovery retries through.
 */
export async function startTestOidcProvider(): Promise<TestOidcProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end('not ready')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, TestClaims>();
  let tamper: { param: string; value: string } | null = null;
  return {
    issuer,
    accounts,
    tamperNextAuthorization(param, value) {
      tamper = { param, value };
    },
    register(...knotUrls) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: OIDC_CLIENT_ID,
            client_secret: OIDC_CLIENT_SECRET,
            redirect_uris: knotUrls.map((url) => `${url}/auth/oidc/callback`),
            post_logout_redirect_uris: knotUrls.map((url) => `${url}/login`),
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        async findAccount(_ctx, id) {
          if (!accounts.has(id)) accounts.set(id, {});
          return { accountId: id, claims: async () => ({ sub: id, ...accounts.get(id) }) };
        },
        claims: {
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['preferred_username', 'name'],
          groups: ['groups'],
        },
        features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
        pkce: { required: () => true },
        cookies: { keys: ['knot-test-provider-cookie-key'] },
      });
      provider.use(async (ctx, next) => {
        if (tamper && ctx.method === 'GET' && ctx.path === '/auth') {
          const query = new URLSearchParams(ctx.querystring);
          query.set(tamper.param, tamper.value);
          ctx.querystring = query.toString();
          tamper = null;
        }
        await next();
      });
      handler = provider.callback();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Knot's single sign-on settings for the test provider. */
export function testOidcConfig(issuer: string, overrides: Partial<OidcConfig> = {}): OidcConfig {
  return {
    issuer,
    clientId: OIDC_CLIENT_ID,
    clientSecret: OIDC_CLIENT_SECRET,
    groupsClaim: undefined,
    usernameClaim: 'preferred_username',
    name: 'Test IdP',
    scopes: 'openid profile email groups',
    ...overrides,
  };
}
