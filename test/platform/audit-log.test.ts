import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

interface Entry {
  id: string;
  at: string;
  actorId: string | null;
  actorName: string;
  action: string;
  objectType: string;
  objectId: string | null;
  details: Record<string, unknown>;
}
const LOG = `query($first: Int, $before: String) {
  auditLog(first: $first, before: $before) { nextCursor entries { id at actorId actorName action objectType objectId details } }
}`;
type Page = { auditLog: { nextCursor: string | null; entries: Entry[] } };

describe('audit log', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let adminId: string;
  const page = async (first?: number, before?: string | null) => (await admin.data<Page>(LOG, { first, before })).auditLog;
  const latest = async () => (await page(1)).entries[0]!;

  beforeAll(async () => {
    server = await startTestServer();
    ({ client: admin, userId: adminId } = await setupAdmin(server));
  });
  afterAll(() => server.stop());

  it('records setup, logins and token creation, newest first', async () => {
    const { entries } = await page(50);
    // setup logs the new admin in; setupAdmin then logs in again to create its token.
    expect(entries.map((e) => e.action)).toEqual(['createApiToken', 'login', 'login', 'setup']);
    const setup = entries[3]!;
    expect(setup).toMatchObject({ actorId: adminId, actorName: 'admin', objectType: 'user', objectId: adminId });
    expect(Math.abs(Date.now() - new Date(setup.at).getTime())).toBeLessThan(60_000);
  });

  it('writes who, what, when and which object for every state-changing mutation', async () => {
    const started = Date.now() - 1000;
    const expectLatest = async (action: string, objectType: string, objectId: string | null, actorName = 'admin') => {
      const entry = await latest();
      expect(entry).toMatchObject({ action, objectType, actorName });
      if (objectId) expect(entry.objectId).toBe(objectId);
      expect(new Date(entry.at).getTime()).toBeGreaterThanOrEqual(started);
      return entry;
    };

    const token = await admin.data<{ createApiToken: { apiToken: { id: string } } }>(`mutation { createApiToken(name: "audited") { apiToken { id } } }`);
    const tokenId = token.createApiToken.apiToken.id;
    expect((await expectLatest('createApiToken', 'apiToken', tokenId)).details).toEqual({ name: 'audited' });
    await admin.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: tokenId });
    await expectLatest('revokeApiToken', 'apiToken', tokenId);

    await admin.data(`mutation { updateProfile(input: { timezone: "Europe/Paris" }) { id } }`);
    expect((await expectLatest('updateProfile', 'user', adminId)).details).toEqual({ changed: ['timezone'] });

    const role = await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "Audited", permissions: [MANAGE_SPACES]) { id } }`);
    const roleId = role.createRole.id;
    await expectLatest('createRole', 'role', roleId);
    await admin.data(`mutation($id: ID!) { updateRole(id: $id, name: "Audited 2") { id } }`, { id: roleId });
    await expectLatest('updateRole', 'role', roleId);

    const user = await admin.data<{ createUser: { id: string } }>(
      `mutation { createUser(input: { username: "audited", email: "audited@example.com", password: "correct-horse" }) { id } }`,
    );
    const userId = user.createUser.id;
    await expectLatest('createUser', 'user', userId);
    await admin.data(`mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { id } }`, { id: userId });
    expect((await expectLatest('updateUser', 'user', userId)).details).toEqual({ changed: ['active'] });
    await admin.data(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: userId });
    expect((await expectLatest('deleteUser', 'user', userId)).details).toEqual({ username: 'audited' });
    await admin.data(`mutation($id: ID!) { deleteRole(id: $id) }`, { id: roleId });
    await expectLatest('deleteRole', 'role', roleId);

    const session = await server.anonymous.login('admin', 'correct-horse');
    await expectLatest('login', 'user', adminId);
    await session.data(`mutation { logout }`);
    await expectLatest('logout', 'user', adminId);
  });

  it('never records secrets: passwords and tokens stay out of the details', async () => {
    await admin.data(`mutation { updateProfile(input: { currentPassword: "correct-horse", newPassword: "battery-staple", servicePassword: "svc-secret-123" }) { id } }`);
    const created = await admin.data<{ createApiToken: { token: string } }>(`mutation { createApiToken(name: "secret") { token } }`);
    const text = JSON.stringify(await page(500));
    for (const secret of ['battery-staple', 'svc-secret-123', 'correct-horse', created.createApiToken.token]) expect(text).not.toContain(secret);
  });

  it('writes nothing for a refused mutation', async () => {
    const before = (await latest()).id;
    expect(await admin.errorCode(`mutation { createRole(name: "", permissions: []) { id } }`)).toBe('BAD_USER_INPUT');
    expect(await admin.errorCode(`mutation { updateProfile(input: { timezone: "Not/AZone" }) { id } }`)).toBe('BAD_USER_INPUT');
    expect((await latest()).id).toBe(before);
  });

  it('pages with first/before, newest first, without gaps or repeats', async () => {
    const all = (await page(500)).entries;
    expect(all.length).toBeGreaterThan(10);
    const ids = all.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const p = await page(3, cursor);
      expect(p.entries.length).toBeLessThanOrEqual(3);
      seen.push(...p.entries.map((e) => e.id));
      cursor = p.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(all.map((e) => e.id));
    expect(pages).toBe(Math.ceil(all.length / 3));
  });

  it('refuses bad paging arguments with BAD_USER_INPUT', async () => {
    expect(await admin.errorCode(LOG, { first: 0 })).toBe('BAD_USER_INPUT');
    expect(await admin.errorCode(LOG, { first: 100_000 })).toBe('BAD_USER_INPUT');
    expect(await admin.errorCode(LOG, { before: 'x'.repeat(10_000) })).toBe('BAD_USER_INPUT');
  });

  it('is for admins only', async () => {
    const { client: bob } = await createUser(server, admin, 'bob');
    expect(await bob.errorCode(LOG)).toBe('FORBIDDEN');
    expect(await server.anonymous.errorCode(LOG)).toBe('UNAUTHENTICATED');
  });
});
