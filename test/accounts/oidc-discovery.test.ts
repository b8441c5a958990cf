import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestOidcProvider, testOidcConfig, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { httpGet } from '../proxy/fixture.js';

/** A provider that is down when Knot starts: Knot starts anyway, says so, and signs in once the provider answers. */
describe('single sign-on discovery', () => {
  let provider: TestOidcProvider;
  let server: TestServer;

  beforeAll(async () => {
    // Answers 503 to everything until register(): discovery fails and is retried.
    provider = await startTestOidcProvider();
    server = await startTestServer({ config: { oidc: testOidcConfig(provider.issuer) } });
    server.app.services.config.url = server.url;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await provider?.stop();
  });

  const beginSignIn = () => httpGet(`${server.url}/auth/oidc/login`);

  it('starts without the provider, refuses sign-in as unavailable, and signs in once the provider answers', async () => {
    // Knot is up: password login, the API and the public sign-in methods answer.
    const methods = await server.anonymous.request<{ signInMethods: { password: boolean; sso: { name: string; loginUrl: string } } }>(
      `{ signInMethods { password sso { name loginUrl } } }`,
    );
    expect(methods.data!.signInMethods).toEqual({ password: true, sso: { name: 'Test IdP', loginUrl: '/auth/oidc/login' } });
    expect(server.app.services.oidc?.lastError).toBeTruthy();

    const refused = await beginSignIn();
    expect(refused.status).toBe(303);
    expect(refused.headers.location).toBe('/login?error=OIDC_UNAVAILABLE');

    provider.register(server.url);
    const begun = await waitFor(
      async () => {
        const res = await beginSignIn();
        return String(res.headers.location).startsWith(`${provider.issuer}/auth?`) ? res : null;
      },
      { timeout: 45_000, what: 'discovery to succeed on a retry' },
    );
    const url = new URL(String(begun.headers.location));
    expect(Object.fromEntries(['client_id', 'response_type', 'code_challenge_method', 'redirect_uri'].map((k) => [k, url.searchParams.get(k)]))).toEqual({
      client_id: 'knot-test',
      response_type: 'code',
      code_challenge_method: 'S256',
      redirect_uri: `${server.url}/auth/oidc/callback`,
    });
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(server.app.services.oidc?.lastError).toBeUndefined();
  }, 90_000);

  it('answers 404 on both routes when single sign-on is not configured', async () => {
    const plain = await startTestServer();
    try {
      expect((await httpGet(`${plain.url}/auth/oidc/login`)).status).toBe(404);
      expect((await httpGet(`${plain.url}/auth/oidc/callback?state=x&code=y`)).status).toBe(404);
      const methods = await plain.anonymous.request<{ signInMethods: unknown }>(`{ signInMethods { password sso { name } } }`);
      expect(methods.data!.signInMethods).toEqual({ password: true, sso: null });
    } finally {
      await plain.stop();
    }
  });
});
