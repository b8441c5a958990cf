import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverSettings } from '../../schema/db/index.js';
import { signInWithOidc } from '../../server/src/oidc/sign-in.js';
import { testOidcConfig } from '../helpers/oidc-provider.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { GraphQLTestClient } from '../helpers/graphql.js';

/**
 * "Require two-factor sign-in for everyone" holds back local accounts without an authenticator;
 * an account of single sign-on is not held back (its second factor is the provider's).
 * The sign-in itself is the real domain function on a real database, given verified claims.
 */
describe('single sign-on accounts and required two-factor sign-in', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('holds back a local account without TOTP but not an account made by single sign-on', async () => {
    const admin = await setupAdmin(server);
    const local = await createUser(server, admin.client, 'local-user');
    const settings = testOidcConfig('https://id.example.com');
    const { token } = await signInWithOidc(server.app.services, settings, { iss: settings.issuer, sub: 'sso-1', preferred_username: 'sso-user' }, 'id.token.unused');
    const sso = new GraphQLTestClient(server.url);
    sso.cookie = `knot_session=${token}`;

    await server.app.services.db.insert(serverSettings).values({ requireTwoFactor: true }).onConflictDoUpdate({ target: serverSettings.singleton, set: { requireTwoFactor: true } });
    server.app.services.viewers.invalidateAll();

    const codeOf = async (client: GraphQLTestClient) => (await client.request(`{ spaces { id } }`)).errors?.[0]?.extensions?.code ?? 'ok';
    expect(await codeOf(local.client)).toBe('TOTP_SETUP_REQUIRED');
    expect(await codeOf(sso)).toBe('ok');
  });
});
