import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { waitFor } from '../helpers/wait.js';

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { id username roles { name } } }`;
const UPDATE_USER = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id active email roles { name } } }`;
const DELETE_USER = `mutation($id: ID!) { deleteUser(id: $id) }`;
const CREATE_ROLE = `mutation($name: String!, $permissions: [Permission!]!) { createRole(name: $name, permissions: $permissions) { id } }`;
const ME = `{ me { username } }`;

describe('managing users', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let adminId: string;
  let adminRoleId: string;
  const usernames = async () => (await admin.data<{ users: { username: string }[] }>(`{ users { username } }`)).users.map((u) => u.username);
  const newUser = (username: string, roleIds: string[] = []) => ({
    input: { username, email: `${username}@example.com`, password: 'correct-horse', roleIds },
  });
  const role = async (name: string, permissions: string[]) => (await admin.data<{ createRole: { id: string } }>(CREATE_ROLE, { name, permissions })).createRole.id;

  beforeAll(async () => {
    server = await startTestServer();
    ({ client: admin, userId: adminId } = await setupAdmin(server));
    adminRoleId = (await admin.data<{ roles: { id: string; builtIn: boolean }[] }>(`{ roles { id builtIn } }`)).roles.find((r) => r.builtIn)!.id;
  });
  afterAll(() => server.stop());

  it('refuses createUser, updateUser and deleteUser without MANAGE_USERS, changing nothing', async () => {
    const { client: plain, userId: plainId } = await createUser(server, admin, 'plain');
    const { userId: otherId } = await createUser(server, admin, 'other');
    expect(await plain.errorCode(CREATE_USER, newUser('sneaky'))).toBe('FORBIDDEN');
    expect(await plain.errorCode(UPDATE_USER, { id: otherId, input: { email: 'hijacked@example.com' } })).toBe('FORBIDDEN');
    expect(await plain.errorCode(UPDATE_USER, { id: plainId, input: { roleIds: [adminRoleId] } })).toBe('FORBIDDEN');
    expect(await plain.errorCode(DELETE_USER, { id: otherId })).toBe('FORBIDDEN');
    expect(await plain.errorCode(`{ users { id } }`)).toBe('FORBIDDEN');
    expect(await usernames()).toEqual(['admin', 'other', 'plain']);
    const other = await admin.data<{ users: { id: string; email: string }[] }>(`{ users { id email } }`);
    expect(other.users.find((u) => u.id === otherId)!.email).toBe('other@example.com');
  });

  it('allows them with a custom role holding MANAGE_USERS', async () => {
    const managers = await role('User managers', ['MANAGE_USERS']);
    const { client: manager } = await createUser(server, admin, 'manager', [managers]);
    const created = await manager.data<{ createUser: { id: string } }>(CREATE_USER, newUser('newbie'));
    const updated = await manager.data<{ updateUser: { email: string } }>(UPDATE_USER, {
      id: created.createUser.id,
      input: { email: 'newbie@corp.example.com' },
    });
    expect(updated.updateUser.email).toBe('newbie@corp.example.com');
    expect(await manager.data(DELETE_USER, { id: created.createUser.id })).toEqual({ deleteUser: true });
    expect(await usernames()).not.toContain('newbie');
  });

  it('does not let a user manager make admins, edit admins, or grant permissions they lack', async () => {
    const managers = await role('Junior managers', ['MANAGE_USERS']);
    const powerful = await role('Template owners', ['MANAGE_TEMPLATES']);
    const { client: manager, userId: managerId } = await createUser(server, admin, 'junior', [managers]);
    expect(await manager.errorCode(CREATE_USER, newUser('fakeadmin', [adminRoleId]))).toBe('FORBIDDEN');
    expect(await manager.errorCode(CREATE_USER, newUser('templater', [powerful]))).toBe('FORBIDDEN');
    expect(await manager.errorCode(UPDATE_USER, { id: managerId, input: { roleIds: [managers, powerful] } })).toBe('FORBIDDEN');
    expect(await manager.errorCode(UPDATE_USER, { id: adminId, input: { active: false } })).toBe('FORBIDDEN');
    expect(await manager.errorCode(DELETE_USER, { id: adminId })).toBe('FORBIDDEN');
    expect(await usernames()).not.toContain('fakeadmin');
    expect(await usernames()).not.toContain('templater');
    // A role within their own permissions is fine.
    const created = await manager.data<{ createUser: { roles: { name: string }[] } }>(CREATE_USER, newUser('peer', [managers]));
    expect(created.createUser.roles.map((r) => r.name)).toEqual(['Junior managers']);
  });

  it('does not let anyone deactivate or delete themselves', async () => {
    expect(await admin.errorCode(UPDATE_USER, { id: adminId, input: { active: false } })).toBe('FORBIDDEN');
    expect(await admin.errorCode(DELETE_USER, { id: adminId })).toBe('FORBIDDEN');
    expect(await admin.errorCode(UPDATE_USER, { id: adminId, input: { roleIds: [] } })).toBe('FORBIDDEN');
    expect((await admin.data<{ me: { username: string } }>(ME)).me.username).toBe('admin');
  });

  it('ends a deactivated user\'s token and session at once, and lets them back in when reactivated', async () => {
    const { client: bob, userId: bobId } = await createUser(server, admin, 'bob');
    const session = await server.anonymous.login('bob', 'correct-horse');
    // Warm the viewer cache for both credentials.
    expect((await bob.data<{ me: { username: string } }>(ME)).me.username).toBe('bob');
    expect((await session.data<{ me: { username: string } }>(ME)).me.username).toBe('bob');

    const res = await admin.data<{ updateUser: { active: boolean } }>(UPDATE_USER, { id: bobId, input: { active: false } });
    expect(res.updateUser.active).toBe(false);
    expect(await bob.errorCode(ME)).toBe('UNAUTHENTICATED');
    expect((await session.data<{ me: unknown }>(ME)).me).toBeNull();
    const login = await server.anonymous.request(`mutation { login(username: "bob", password: "correct-horse") { id } }`);
    expect(login.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(login.errors![0]!.message).toMatch(/deactivated/);

    await admin.data(UPDATE_USER, { id: bobId, input: { active: true } });
    expect((await bob.data<{ me: { username: string } }>(ME)).me.username).toBe('bob');
  });

  it('ends a deleted user\'s token at once', async () => {
    const { client: gone, userId } = await createUser(server, admin, 'gone');
    expect((await gone.data<{ me: { username: string } }>(ME)).me.username).toBe('gone');
    await admin.data(DELETE_USER, { id: userId });
    expect(await gone.errorCode(ME)).toBe('UNAUTHENTICATED');
    expect(await admin.errorCode(DELETE_USER, { id: userId })).toBe('NOT_FOUND');
    expect(await admin.errorCode(UPDATE_USER, { id: userId, input: { active: true } })).toBe('NOT_FOUND');
  });

  it('refuses a taken username or email with NAME_TAKEN, ignoring case', async () => {
    const before = await usernames();
    const sameName = await admin.request(CREATE_USER, { input: { username: 'BOB', email: 'another@example.com', password: 'correct-horse' } });
    expect(sameName.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
    const sameEmail = await admin.request(CREATE_USER, { input: { username: 'robert', email: 'Bob@Example.com', password: 'correct-horse' } });
    expect(sameEmail.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
    expect(await usernames()).toEqual(before);
  });

  it('refuses bad user input with BAD_USER_INPUT', async () => {
    const before = await usernames();
    for (const input of [
      { username: '1starts-with-digit', email: 'a@example.com', password: 'correct-horse' },
      { username: 'ok-name', email: 'not-an-email', password: 'correct-horse' },
      { username: 'ok-name', email: 'ok@example.com', password: 'short' },
      { username: 'ok-name', email: 'ok@example.com', password: 'correct-horse', timezone: 'Nowhere/Land' },
    ]) {
      expect(await admin.errorCode(CREATE_USER, { input })).toBe('BAD_USER_INPUT');
    }
    expect(await admin.errorCode(CREATE_USER, newUser('ok-name', ['not-a-uuid']))).toBe('BAD_USER_INPUT');
    expect(await usernames()).toEqual(before);
  });

  it('refuses to delete a user who still has spaces (USER_HAS_SPACES), then deletes them once the spaces are gone', async () => {
    const template = await admin.data<{ createTemplate: { id: string } }>(
      `mutation { createTemplate(input: { name: "busybox", platform: DOCKER, job: "image: knot-test/busybox:latest\\ncommand: [sleep, '3600']" }) { id } }`,
    );
    const { userId } = await createUser(server, admin, 'owner');
    const space = await admin.data<{ createSpace: { id: string } }>(
      `mutation($t: ID!, $u: ID) { createSpace(input: { templateId: $t, name: "kept", userId: $u }) { id } }`,
      { t: template.createTemplate.id, u: userId },
    );
    const refused = await admin.request(DELETE_USER, { id: userId });
    expect(refused.errors![0]!.extensions!.code).toBe('USER_HAS_SPACES');
    expect(refused.errors![0]!.message).toMatch(/1 space\b/);
    expect(await usernames()).toContain('owner');

    await admin.data(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: space.createSpace.id });
    await waitFor(async () => (await admin.data<{ spaces: unknown[] }>(`query($u: ID) { spaces(userId: $u) { id } }`, { u: userId })).spaces.length === 0, {
      what: 'the space to be deleted',
    });
    expect(await admin.data(DELETE_USER, { id: userId })).toEqual({ deleteUser: true });
  });
});
