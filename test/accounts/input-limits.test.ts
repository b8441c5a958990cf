import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { GraphQLTestClient } from '../helpers/graphql.js';

const LONG_NAME = 'a'.repeat(1000);
const LONG_PASSWORD = 'p'.repeat(10_000);
const LONG_TEXT = 'x'.repeat(10_000);
const HUGE_KEY = `ssh-ed25519 ${'A'.repeat(100 * 1024)} me@host`;

/** Over-long fields get BAD_USER_INPUT and change nothing (checked in the tables themselves). */
describe('over-long input', () => {
  let server: TestServer;
  let sql: ReturnType<typeof openSql>;
  let admin: GraphQLTestClient;
  /** Every table a refused mutation might have touched, as one comparable snapshot. */
  const snapshot = async () => ({
    users: await sql`select id, username, email, password_hash, preferred_shell, timezone, ssh_public_key, service_password, failed_logins from users order by id`,
    tokens: await sql`select id, name from api_tokens order by id`,
    roles: await sql`select id, name, permissions from roles order by id`,
    sessions: await sql`select count(*)::int as n from sessions`,
    audit: await sql`select max(id) as last from audit_log`,
  });
  const refused = async (client: GraphQLTestClient, query: string, variables: Record<string, unknown>) => {
    const res = await client.request(query, variables);
    expect(res.status).toBeLessThan(500);
    expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res.errors).slice(0, 300)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message.length).toBeLessThan(200);
  };

  beforeAll(async () => {
    server = await startTestServer();
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql.end();
    await server.stop();
  });

  it('refuses an over-long setup and stays un-set-up', async () => {
    const SETUP = `mutation($input: SetupInput!) { setup(input: $input) { id } }`;
    await refused(server.anonymous, SETUP, { input: { username: LONG_NAME, email: 'a@example.com', password: 'correct-horse' } });
    await refused(server.anonymous, SETUP, { input: { username: 'admin', email: 'a@example.com', password: LONG_PASSWORD } });
    await refused(server.anonymous, SETUP, { input: { username: 'admin', email: `${LONG_TEXT}@example.com`, password: 'correct-horse' } });
    expect((await sql`select count(*)::int as n from users`)[0]!.n).toBe(0);

    await server.anonymous.data(SETUP, { input: { username: 'admin', email: 'admin@example.com', password: 'correct-horse' } });
    const session = await server.anonymous.login('admin', 'correct-horse');
    admin = server.client(await session.createToken('limits'));
  });

  it('refuses over-long users, tokens and roles', async () => {
    const before = await snapshot();
    const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`;
    await refused(admin, CREATE_USER, { input: { username: LONG_NAME, email: 'b@example.com', password: 'correct-horse' } });
    await refused(admin, CREATE_USER, { input: { username: 'bob', email: 'b@example.com', password: LONG_PASSWORD } });
    await refused(admin, CREATE_USER, { input: { username: 'bob', email: 'b@example.com', password: 'correct-horse', timezone: LONG_TEXT } });
    await refused(admin, `mutation($n: String!) { createApiToken(name: $n) { token } }`, { n: LONG_TEXT });
    await refused(admin, `mutation($n: String!) { createRole(name: $n, permissions: []) { id } }`, { n: LONG_TEXT });
    const role = await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "Short", permissions: []) { id } }`);
    const afterRole = await snapshot();
    await refused(admin, `mutation($id: ID!, $n: String!) { updateRole(id: $id, name: $n) { id } }`, { id: role.createRole.id, n: LONG_TEXT });
    expect(await snapshot()).toEqual(afterRole);
    expect(afterRole.users).toEqual(before.users);
    expect(afterRole.tokens).toEqual(before.tokens);
  });

  it('refuses an over-long profile change', async () => {
    const before = await snapshot();
    const UPDATE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }`;
    await refused(admin, UPDATE, { input: { sshPublicKey: HUGE_KEY } });
    await refused(admin, UPDATE, { input: { currentPassword: 'correct-horse', newPassword: LONG_PASSWORD } });
    await refused(admin, UPDATE, { input: { servicePassword: LONG_TEXT } });
    await refused(admin, UPDATE, { input: { timezone: LONG_TEXT } });
    await refused(admin, UPDATE, { input: { email: `${LONG_TEXT}@example.com` } });
    // One bad field spoils the whole change: the good ones are not applied either.
    await refused(admin, UPDATE, { input: { preferredShell: 'zsh', sshPublicKey: HUGE_KEY } });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an over-long login without counting it as a failed attempt', async () => {
    const before = await snapshot();
    const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { id } }`;
    await refused(server.anonymous, LOGIN, { u: LONG_NAME, p: 'correct-horse' });
    await refused(server.anonymous, LOGIN, { u: 'admin', p: LONG_PASSWORD });
    expect(await snapshot()).toEqual(before);
  });
});
