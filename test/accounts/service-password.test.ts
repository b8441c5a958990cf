import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

const MINE = `{ me { id servicePassword } }`;
const SET = `mutation($p: String!) { updateProfile(input: { servicePassword: $p }) { servicePassword } }`;

describe('service password', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let bob: GraphQLTestClient;
  let bobId: string;
  const bobsPassword = async () => (await bob.data<{ me: { servicePassword: string } }>(MINE)).me.servicePassword;

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await setupAdmin(server)).client;
    ({ client: bob, userId: bobId } = await createUser(server, admin, 'bob'));
  });
  afterAll(() => server.stop());

  it('is generated at random, 16+ characters, when the user is created', async () => {
    const bobs = await bobsPassword();
    const admins = (await admin.data<{ me: { servicePassword: string } }>(MINE)).me.servicePassword;
    for (const p of [bobs, admins]) expect(p).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(bobs).not.toBe(admins);
  });

  it('can be set by its owner', async () => {
    const res = await bob.data<{ updateProfile: { servicePassword: string } }>(SET, { p: 'my own service pw' });
    expect(res.updateProfile.servicePassword).toBe('my own service pw');
    expect(await bobsPassword()).toBe('my own service pw');
  });

  it('is generated anew when cleared', async () => {
    const res = await bob.data<{ updateProfile: { servicePassword: string } }>(SET, { p: '' });
    expect(res.updateProfile.servicePassword).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(await bobsPassword()).toBe(res.updateProfile.servicePassword);
    const again = await bob.data<{ updateProfile: { servicePassword: string } }>(SET, { p: '' });
    expect(again.updateProfile.servicePassword).not.toBe(res.updateProfile.servicePassword);
  });

  it('refuses line breaks and over-long values, keeping the old one', async () => {
    const before = await bobsPassword();
    expect(await bob.errorCode(SET, { p: 'two\nlines' })).toBe('BAD_USER_INPUT');
    expect(await bob.errorCode(SET, { p: 'x'.repeat(10_000) })).toBe('BAD_USER_INPUT');
    expect(await bobsPassword()).toBe(before);
  });

  it('is never shown to an admin, in the user list or anywhere else', async () => {
    const secret = await bobsPassword();
    const list = await admin.request<{ users: { id: string; username: string; servicePassword: string | null }[] }>(
      `{ users { id username servicePassword } }`,
    );
    expect(list.errors).toBeUndefined();
    const bobRow = list.data!.users.find((u) => u.id === bobId)!;
    expect(bobRow.servicePassword).toBeNull();
    // Not even the admin's own password appears in the list: lists never carry it.
    const adminRow = list.data!.users.find((u) => u.username === 'admin')!;
    expect(adminRow.servicePassword).toBeNull();
    expect(JSON.stringify(list)).not.toContain(secret);

    const updated = await admin.request(`mutation($id: ID!) { updateUser(id: $id, input: { timezone: "UTC" }) { servicePassword } }`, { id: bobId });
    expect(JSON.stringify(updated)).not.toContain(secret);
    const log = await admin.request(`{ auditLog(first: 500) { entries { details } } }`);
    expect(JSON.stringify(log)).not.toContain(secret);
  });

  it('can be reset (not read) by an admin', async () => {
    const before = await bobsPassword();
    const res = await admin.data<{ updateUser: { servicePassword: string | null } }>(
      `mutation($id: ID!) { updateUser(id: $id, input: { resetServicePassword: true }) { servicePassword } }`,
      { id: bobId },
    );
    expect(res.updateUser.servicePassword).toBeNull();
    const after = await bobsPassword();
    expect(after).not.toBe(before);
    expect(after).toMatch(/^[A-Za-z0-9]{16,}$/);
  });
});
