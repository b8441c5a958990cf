import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SETUP = `mutation($input: SetupInput!) { setup(input: $input) { id username roles { name } } }`;
const ME = `{ me { id username email servicePassword } }`;

describe('first run, login and sessions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('asks for setup on an empty Knot, and the first user becomes admin', async () => {
    const info = await server.anonymous.data<{ serverInfo: { setupRequired: boolean } }>(`{ serverInfo { setupRequired } }`);
    expect(info.serverInfo.setupRequired).toBe(true);

    const res = await server.anonymous.request<{ setup: { username: string; roles: { name: string }[] } }>(SETUP, {
      input: { username: 'alice', email: 'alice@example.com', password: 'correct-horse' },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.setup.roles.map((r) => r.name)).toEqual(['Admin']);
    const after = await server.anonymous.data<{ serverInfo: { setupRequired: boolean } }>(`{ serverInfo { setupRequired } }`);
    expect(after.serverInfo.setupRequired).toBe(false);
  });

  it('refuses a second setup with ALREADY_SET_UP and creates nobody', async () => {
    const code = await server.anonymous.errorCode(SETUP, { input: { username: 'mallory', email: 'm@example.com', password: 'correct-horse' } });
    expect(code).toBe('ALREADY_SET_UP');
    const failed = await server.anonymous.request(`mutation { login(username: "mallory", password: "correct-horse") { id } }`);
    expect(failed.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('logs in with an HttpOnly SameSite session cookie that authenticates later requests', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { login(username: "alice", password: "correct-horse") { username } }` }),
    });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^knot_session=knots_[\w-]+;/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);

    const session = await server.anonymous.login('alice', 'correct-horse');
    const me = await session.data<{ me: { username: string; servicePassword: string } }>(ME);
    expect(me.me.username).toBe('alice');
    expect(me.me.servicePassword.length).toBeGreaterThanOrEqual(16);
  });

  it('says the password is wrong without saying whether the user exists', async () => {
    const wrong = await server.anonymous.request(`mutation { login(username: "alice", password: "nope-nope") { id } }`);
    const unknown = await server.anonymous.request(`mutation { login(username: "nobody", password: "nope-nope") { id } }`);
    expect(wrong.errors![0]!.message).toBe('The username or password is wrong.');
    expect(unknown.errors![0]!.message).toBe(wrong.errors![0]!.message);
    expect(wrong.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('slows down repeated failed logins, even with the right password afterwards', async () => {
    const anonymousCreate = await server.anonymous.request(
      `mutation { createUser(input: {username: "bob", email: "bob@example.com", password: "correct-horse"}) { id } }`,
    );
    expect(anonymousCreate.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    const alice = await server.anonymous.login('alice', 'correct-horse');
    await alice.data(`mutation { createUser(input: {username: "bob", email: "bob@example.com", password: "correct-horse"}) { id } }`);
    for (let i = 0; i < 5; i++) {
      const res = await server.anonymous.request(`mutation { login(username: "bob", password: "wrong-${i}") { id } }`);
      expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    }
    // The sixth wrong try is what arms the wait; then even the right password must wait.
    await server.anonymous.request(`mutation { login(username: "bob", password: "wrong-6") { id } }`);
    const blocked = await server.anonymous.request(`mutation { login(username: "bob", password: "correct-horse") { id } }`);
    expect(blocked.errors![0]!.extensions!.code).toBe('TOO_MANY_ATTEMPTS');
    expect(blocked.errors![0]!.message).toMatch(/Try again in \d+ seconds/);
  });

  it('logout ends the session', async () => {
    const session = await server.anonymous.login('alice', 'correct-horse');
    await session.data(`mutation { logout }`);
    const cookieBefore = session.cookie;
    expect(cookieBefore).toBe('knot_session=');
    // The old cookie value must be dead too, not just cleared in this client.
    const again = await server.anonymous.login('alice', 'correct-horse');
    const oldCookie = again.cookie!;
    await again.data(`mutation { logout }`);
    again.cookie = oldCookie;
    const me = await again.data<{ me: unknown }>(ME);
    expect(me.me).toBeNull();
  });
});
