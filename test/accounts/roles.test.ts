import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

const ROLES = `{ roles { id name builtIn permissions } }`;
type Role = { id: string; name: string; builtIn: boolean; permissions: string[] };
const CREATE_ROLE = `mutation($name: String!, $permissions: [Permission!]!) {
  createRole(name: $name, permissions: $permissions) { id name permissions builtIn }
}`;

describe('roles and permissions', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let adminRoleId: string;
  const roles = async () => (await admin.data<{ roles: Role[] }>(ROLES)).roles;

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await setupAdmin(server)).client;
    adminRoleId = (await roles()).find((r) => r.builtIn)!.id;
  });
  afterAll(() => server.stop());

  it('has a built-in Admin role that implies every permission', async () => {
    const admin = (await roles()).find((r) => r.id === adminRoleId)!;
    expect(admin.name).toBe('Admin');
    expect(admin.permissions).toEqual(
      expect.arrayContaining(['MANAGE_USERS', 'MANAGE_TEMPLATES', 'MANAGE_SPACES', 'MANAGE_VARIABLES', 'MANAGE_ROLES']),
    );
  });

  it('refuses to edit or delete the Admin role, even for an admin', async () => {
    const rename = await admin.request(`mutation($id: ID!) { updateRole(id: $id, name: "Root") { id } }`, { id: adminRoleId });
    expect(rename.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const strip = await admin.request(`mutation($id: ID!) { updateRole(id: $id, permissions: []) { id } }`, { id: adminRoleId });
    expect(strip.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const remove = await admin.request(`mutation($id: ID!) { deleteRole(id: $id) }`, { id: adminRoleId });
    expect(remove.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await roles()).find((r) => r.id === adminRoleId)!.name).toBe('Admin');
    // The admin is still an admin.
    expect((await admin.request(`{ auditLog(first: 1) { entries { id } } }`)).errors).toBeUndefined();
  });

  it('creates custom roles with permissions, and refuses a second role with the same name', async () => {
    const created = await admin.data<{ createRole: Role }>(CREATE_ROLE, { name: 'Template editors', permissions: ['MANAGE_TEMPLATES', 'MANAGE_VARIABLES'] });
    expect(created.createRole).toMatchObject({ name: 'Template editors', builtIn: false, permissions: ['MANAGE_TEMPLATES', 'MANAGE_VARIABLES'] });
    const again = await admin.request(CREATE_ROLE, { name: 'template EDITORS', permissions: [] });
    expect(again.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
    expect((await roles()).filter((r) => r.name.toLowerCase() === 'template editors')).toHaveLength(1);
    const clash = await admin.request(CREATE_ROLE, { name: 'admin', permissions: [] });
    expect(clash.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
  });

  it('refuses a rename onto an existing name, and an unknown permission', async () => {
    const other = (await admin.data<{ createRole: Role }>(CREATE_ROLE, { name: 'Space managers', permissions: ['MANAGE_SPACES'] })).createRole;
    const rename = await admin.request(`mutation($id: ID!) { updateRole(id: $id, name: "Template Editors") { id } }`, { id: other.id });
    expect(rename.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
    const unknown = await admin.request(CREATE_ROLE, { name: 'Gods', permissions: ['EVERYTHING'] });
    expect(unknown.errors).toBeDefined();
    expect(unknown.status).toBeLessThan(500);
    expect((await roles()).map((r) => r.name)).not.toContain('Gods');
  });

  it('grants and takes away permissions at once when a role is edited or deleted', async () => {
    const role = (await admin.data<{ createRole: Role }>(CREATE_ROLE, { name: 'Auditors', permissions: [] })).createRole;
    const { client: carol } = await createUser(server, admin, 'carol', [role.id]);
    const readLog = `{ auditLog(first: 1) { entries { id } } }`;
    expect(await carol.errorCode(readLog)).toBe('FORBIDDEN');

    await admin.data(`mutation($id: ID!) { updateRole(id: $id, permissions: [VIEW_AUDIT_LOG]) { id } }`, { id: role.id });
    expect((await carol.request(readLog)).errors).toBeUndefined();

    await admin.data(`mutation($id: ID!) { deleteRole(id: $id) }`, { id: role.id });
    expect(await carol.errorCode(readLog)).toBe('FORBIDDEN');
    expect((await roles()).map((r) => r.id)).not.toContain(role.id);
  });

  it('lets only MANAGE_ROLES holders (or admins) change roles', async () => {
    const { client: dave } = await createUser(server, admin, 'dave');
    expect(await dave.errorCode(CREATE_ROLE, { name: 'Mine', permissions: ['MANAGE_USERS'] })).toBe('FORBIDDEN');
    const target = (await roles()).find((r) => r.name === 'Space managers')!;
    expect(await dave.errorCode(`mutation($id: ID!) { deleteRole(id: $id) }`, { id: target.id })).toBe('FORBIDDEN');
    expect(await dave.errorCode(`mutation($id: ID!) { updateRole(id: $id, name: "x") { id } }`, { id: target.id })).toBe('FORBIDDEN');
    expect((await roles()).map((r) => r.name)).not.toContain('Mine');

    const managers = (await admin.data<{ createRole: Role }>(CREATE_ROLE, { name: 'Role managers', permissions: ['MANAGE_ROLES'] })).createRole;
    const { client: erin } = await createUser(server, admin, 'erin', [managers.id]);
    const made = await erin.data<{ createRole: Role }>(CREATE_ROLE, { name: 'Made by erin', permissions: ['MANAGE_ROLES'] });
    expect(made.createRole.name).toBe('Made by erin');
    // …but only within what erin holds herself (test/security/no-role-grows-itself.test.ts).
    expect(await erin.errorCode(CREATE_ROLE, { name: 'Beyond erin', permissions: ['MANAGE_SPACES'] })).toBe('FORBIDDEN');
  });

  it('answers NOT_FOUND for a role that does not exist', async () => {
    expect(await admin.errorCode(`mutation { deleteRole(id: "00000000-0000-4000-8000-00000000ffff") }`)).toBe('NOT_FOUND');
    expect(await admin.errorCode(`mutation { deleteRole(id: "nope") }`)).toBe('NOT_FOUND');
  });
});
