/**
 * Nobody grants a permission they lack or acts on a user who holds one they lack, and
 * the job keys that make a template root on the Docker host are saved by an Admin only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

type Client = Awaited<ReturnType<typeof setupAdmin>>['client'];

const CREATE_ROLE = `mutation($name: String!, $p: [Permission!]!) { createRole(name: $name, permissions: $p) { id permissions } }`;
const UPDATE_ROLE = `mutation($id: ID!, $p: [Permission!]) { updateRole(id: $id, permissions: $p) { id permissions } }`;
const UPDATE_USER = `mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }`;
const CREATE_TEMPLATE = `mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`;
const UPDATE_TEMPLATE = `mutation($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id } }`;

async function refusal(client: Client, query: string, variables: Record<string, unknown>) {
  const res = await client.request(query, variables);
  expect(res.errors, `expected a refusal, got ${JSON.stringify(res.data)}`).toBeDefined();
  return { code: res.errors![0]!.extensions?.code, message: res.errors![0]!.message, extensions: res.errors![0]!.extensions };
}

describe('no role grows itself', () => {
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof setupAdmin>>;
  const roleIds: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer();
    admin = await setupAdmin(server);
    for (const [name, permissions] of Object.entries({
      roles: ['MANAGE_ROLES'],
      users: ['MANAGE_USERS'],
      templates: ['MANAGE_TEMPLATES'],
    })) {
      roleIds[name] = (await admin.client.data<{ createRole: { id: string } }>(CREATE_ROLE, { name, p: permissions })).createRole.id;
    }
  });
  afterAll(() => server?.stop());

  it('MANAGE_ROLES cannot add a permission it lacks to its own role, nor create or edit a role with one', async () => {
    const roleManager = await createUser(server, admin.client, 'rolf', [roleIds.roles!]);
    const grow = await refusal(roleManager.client, UPDATE_ROLE, { id: roleIds.roles, p: ['MANAGE_ROLES', 'MANAGE_USERS', 'MANAGE_TEMPLATES'] });
    expect(grow.code).toBe('FORBIDDEN');
    expect(grow.message).toMatch(/MANAGE_USERS, MANAGE_TEMPLATES/);
    const me = await roleManager.client.data<{ me: { roles: { permissions: string[] }[] } }>(`{ me { roles { permissions } } }`);
    expect(me.me.roles.flatMap((r) => r.permissions)).toEqual(['MANAGE_ROLES']);

    expect((await refusal(roleManager.client, CREATE_ROLE, { name: 'escalate', p: ['VIEW_AUDIT_LOG'] })).code).toBe('FORBIDDEN');
    // A role holding more than the manager is out of reach, even to take permissions away.
    expect((await refusal(roleManager.client, UPDATE_ROLE, { id: roleIds.users, p: [] })).code).toBe('FORBIDDEN');
    expect((await refusal(roleManager.client, `mutation($id: ID!) { deleteRole(id: $id) }`, { id: roleIds.users })).code).toBe('FORBIDDEN');
    // Within its own permissions it still works.
    await roleManager.client.data(CREATE_ROLE, { name: 'role helpers', p: ['MANAGE_ROLES'] });
  });

  it('MANAGE_USERS cannot act on a user who holds a permission it lacks, nor grant one', async () => {
    const userManager = await createUser(server, admin.client, 'ursula', [roleIds.users!]);
    const templater = await createUser(server, admin.client, 'tess', [roleIds.templates!]);
    const plain = await createUser(server, admin.client, 'paul');

    const takeover = await refusal(userManager.client, UPDATE_USER, { id: templater.userId, input: { password: 'attacker-chosen' } });
    expect(takeover.code).toBe('FORBIDDEN');
    expect(takeover.message).toMatch(/MANAGE_TEMPLATES/);
    const login = await server.anonymous.request(`mutation { login(username: "tess", password: "attacker-chosen") { id } }`);
    expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    for (const input of [{ active: false }, { email: 'mine@example.com' }, { roleIds: [] }]) {
      expect((await refusal(userManager.client, UPDATE_USER, { id: templater.userId, input })).code).toBe('FORBIDDEN');
    }
    expect((await refusal(userManager.client, `mutation($id: ID!) { deleteUser(id: $id) }`, { id: templater.userId })).code).toBe('FORBIDDEN');
    expect((await refusal(userManager.client, UPDATE_USER, { id: admin.userId, input: { password: 'attacker-chosen' } })).code).toBe('FORBIDDEN');
    expect((await refusal(userManager.client, UPDATE_USER, { id: plain.userId, input: { roleIds: [roleIds.templates] } })).code).toBe('FORBIDDEN');

    // A user who holds nothing beyond the manager is still theirs to manage.
    await userManager.client.data(UPDATE_USER, { id: plain.userId, input: { password: 'new-password-1' } });
    await server.anonymous.login('paul', 'new-password-1');
  });

  describe('MANAGE_TEMPLATES cannot save a root-equivalent template', () => {
    let templater: Client;
    beforeAll(async () => {
      templater = (await createUser(server, admin.client, 'tom', [roleIds.templates!])).client;
    });

    const cases: [string, string, number][] = [
      ['privileged', 'image: x\nprivileged: true\n', 2],
      ['volumes', 'image: x\nvolumes:\n  - home:/home\n  - /:/host\n', 4],
      ['volumes', 'image: x\nvolumes:\n  - ${{ .user.username }}:/x\n', 3],
      ['devices', 'image: x\ndevices:\n  - /dev/kmsg\n', 2],
      ['cap_add', 'image: x\ncap_add: [SYS_ADMIN]\n', 2],
      ['network', 'image: x\nnetwork: host\n', 2],
      ['network', 'image: x\nnetwork: container:knot-space-other\n', 2],
      ['network', 'image: x\nnetwork: some-bridge\n', 2],
    ];
    for (const [key, job, line] of cases) {
      it(`refuses "${key}" in ${JSON.stringify(job)} with FORBIDDEN naming the key and line ${line}`, async () => {
        const res = await refusal(templater, CREATE_TEMPLATE, { input: { name: `root ${key} ${line}`, job } });
        expect(res.code).toBe('FORBIDDEN');
        expect(res.message).toContain(`job line ${line}:`);
        expect(res.message).toContain(`"${key}"`);
        expect(res.extensions).toMatchObject({ line, key });
      });
    }

    it('lets an Admin save them, and a template manager cannot re-save that template, even unchanged', async () => {
      const created = await admin.client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, {
        input: { name: 'docker in docker', job: 'image: x\nprivileged: true\n' },
      });
      const res = await refusal(templater, UPDATE_TEMPLATE, { id: created.createTemplate.id, input: { name: 'renamed' } });
      expect(res.code).toBe('FORBIDDEN');
      expect(res.message).toMatch(/"privileged"/);
    });

    it('still saves an ordinary template with named volumes and privileged: false', async () => {
      await templater.data(CREATE_TEMPLATE, {
        input: { name: 'ordinary', job: 'image: x\nprivileged: false\ncap_drop: [NET_RAW]\nvolumes:\n  - home_${{ .space.id }}:/home\n' },
      });
    });
  });
});
