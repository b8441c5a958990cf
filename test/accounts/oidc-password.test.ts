import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithOidc } from '../../server/src/oidc/sign-in.js';
import { testOidcConfig } from '../helpers/oidc-provider.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { GraphQLTestClient } from '../helpers/graphql.js';

interface SignInView {
  username: string;
  hasPassword: boolean | null;
  singleSignOn: { issuer: string; name: string } | null;
}

/**
 * An account made by single sign-on has no password in Knot: `hasPassword` and `singleSignOn`
 * say so (to the user and to those who manage users, nobody else), and a password change is
 * refused with NO_LOCAL_PASSWORD instead of "the current password is wrong". The sign-in is the
 * real domain function on a real database, given verified claims.
 */
describe('accounts of single sign-on and passwords', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let local: GraphQLTestClient;
  let sso: GraphQLTestClient;
  const settings = testOidcConfig('https://id.example.com/realms/corp');

  beforeAll(async () => {
    server = await startTestServer();
    // The provider's name comes from the configuration; no discovery is needed for that.
    server.app.services.config.oidc = settings;
    admin = (await setupAdmin(server)).client;
    local = (await createUser(server, admin, 'local-user')).client;
    const { token } = await signInWithOidc(server.app.services, settings, { iss: settings.issuer, sub: 'sso-1', preferred_username: 'sso-user' }, 'id.token.unused');
    sso = new GraphQLTestClient(server.url);
    sso.cookie = `knot_session=${token}`;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const FIELDS = 'username hasPassword singleSignOn { issuer name }';

  it('tells a user how they sign in: the provider for an account of single sign-on, a password for a local one', async () => {
    expect((await sso.data<{ me: SignInView }>(`{ me { ${FIELDS} } }`)).me).toEqual({
      username: 'sso-user',
      hasPassword: false,
      singleSignOn: { issuer: settings.issuer, name: 'Test IdP' },
    });
    expect((await local.data<{ me: SignInView }>(`{ me { ${FIELDS} } }`)).me).toEqual({ username: 'local-user', hasPassword: true, singleSignOn: null });
  });

  it('refuses a password change for an account of single sign-on with NO_LOCAL_PASSWORD, naming the provider, and changes nothing', async () => {
    const res = await sso.request(`mutation { updateProfile(input: { currentPassword: "anything", newPassword: "a-new-password" }) { id } }`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'NO_LOCAL_PASSWORD', field: 'newPassword' });
    expect(res.errors?.[0]?.message).toBe('Your account signs in with Test IdP and has no password in Knot to change. Change your password at Test IdP.');
    // Nothing changed: the session still works, and no password now logs the account in.
    expect((await sso.data<{ me: SignInView }>(`{ me { hasPassword } }`)).me.hasPassword).toBe(false);
    expect((await server.anonymous.request(`mutation { login(username: "sso-user", password: "a-new-password") { id } }`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // A local account still changes its password as before.
    const changed = await local.request(`mutation { updateProfile(input: { currentPassword: "correct-horse", newPassword: "another-horse" }) { id } }`);
    expect(changed.errors).toBeUndefined();
  });

  it('shows how users sign in to those who manage users, and to nobody else', async () => {
    const list = (await admin.data<{ users: SignInView[] }>(`{ users { ${FIELDS} } }`)).users;
    expect(list.find((u) => u.username === 'sso-user')).toMatchObject({ hasPassword: false, singleSignOn: { name: 'Test IdP' } });
    expect(list.find((u) => u.username === 'local-user')).toMatchObject({ hasPassword: true, singleSignOn: null });

    // MANAGE_SPACES lists users (to pick an owner) without learning how they sign in.
    const role = await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "space-keepers", permissions: [MANAGE_SPACES]) { id } }`);
    const keeper = await createUser(server, admin, 'space-keeper', [role.createRole.id]);
    const seen = (await keeper.client.data<{ users: SignInView[] }>(`{ users { ${FIELDS} } }`)).users;
    expect(seen.find((u) => u.username === 'sso-user')).toMatchObject({ hasPassword: null, singleSignOn: null });
  });
});
