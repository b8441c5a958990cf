/**
 * A group manager (MANAGE_GROUPS, not Admin) cannot lift their own limits or reach another
 * group's templates by acting on groups instead of on their own membership: deleting or renaming
 * the group they are in, or (with single sign-on group sync, where membership follows names)
 * giving a group the name of one of their own provider groups. Real server and database; the
 * single sign-on is the real domain function given verified claims, as the provider's callback calls it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInWithOidc } from '../../server/src/oidc/sign-in.js';
import { GraphQLTestClient } from '../helpers/graphql.js';
import { testOidcConfig } from '../helpers/oidc-provider.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

const CREATE_GROUP = `mutation($n: String!, $s: Int) { createGroup(name: $n, maxSpaces: $s) { id name } }`;
const RENAME_GROUP = `mutation($id: ID!, $n: String!) { updateGroup(id: $id, name: $n) { id name } }`;
const DELETE_GROUP = `mutation($id: ID!) { deleteGroup(id: $id) }`;
const SET_ROLES = `mutation($id: ID!, $r: [ID!]) { updateUser(id: $id, input: { roleIds: $r }) { id } }`;
const SET_GROUPS = `mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`;
const MY_LIMIT = `{ me { groupIds usage { maxSpaces } } }`;

let server: TestServer;
let admin: GraphQLTestClient;
let managerRole = '';

async function refusal(client: GraphQLTestClient, query: string, variables: Record<string, unknown>) {
  const res = await client.request(query, variables);
  expect(res.errors, `expected a refusal, got ${JSON.stringify(res.data)}`).toBeTruthy();
  return { code: String(res.errors![0]!.extensions?.code), message: res.errors![0]!.message };
}

const groupNames = async () => (await admin.data<{ groups: { name: string }[] }>(`{ groups { name } }`)).groups.map((g) => g.name).sort();

beforeAll(async () => {
  server = await startTestServer();
  admin = (await setupAdmin(server)).client;
  managerRole = (await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "group managers", permissions: [MANAGE_GROUPS]) { id } }`)).createRole.id;
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('a group manager and the group they are in', () => {
  it('cannot delete or rename it (that would leave its limits behind), while another group stays theirs to manage', async () => {
    const interns = (await admin.data<{ createGroup: { id: string } }>(CREATE_GROUP, { n: 'Interns', s: 1 })).createGroup.id;
    const other = (await admin.data<{ createGroup: { id: string } }>(CREATE_GROUP, { n: 'Contractors', s: 2 })).createGroup.id;
    const dana = await createUser(server, admin, 'dana', [managerRole]);
    await admin.data(SET_GROUPS, { id: dana.userId, g: [interns] });

    const deleted = await refusal(dana.client, DELETE_GROUP, { id: interns });
    expect(deleted.code).toBe('FORBIDDEN');
    expect(deleted.message).toMatch(/only an admin can delete a group they belong to/i);
    expect((await refusal(dana.client, RENAME_GROUP, { id: interns, n: 'Former interns' })).code).toBe('FORBIDDEN');
    // Nothing changed: still in the group, still limited.
    expect(await groupNames()).toEqual(['Contractors', 'Interns']);
    expect((await dana.client.data<{ me: { groupIds: string[]; usage: { maxSpaces: number | null } } }>(MY_LIMIT)).me).toEqual({ groupIds: [interns], usage: { maxSpaces: 1 } });

    // A group they are not in is theirs to rename and delete.
    await dana.client.data(RENAME_GROUP, { id: other, n: 'Vendors' });
    await dana.client.data(DELETE_GROUP, { id: other });
    expect(await groupNames()).toEqual(['Interns']);
    // An admin may do either to a group they belong to.
    await admin.data(DELETE_GROUP, { id: interns });
    await dana.client.close();
  });
});

describe('a group manager signing in with single sign-on group sync', () => {
  const settings = testOidcConfig('https://id.example.com', { groupsClaim: 'groups' });
  const signIn = async (groups: string[]) => {
    const { token, user } = await signInWithOidc(server.app.services, settings, { iss: settings.issuer, sub: 'gil-1', preferred_username: 'gil', groups }, 'id.token.unused');
    const client = new GraphQLTestClient(server.url);
    client.cookie = `knot_session=${token}`;
    return { client, userId: user.id };
  };

  it('cannot name a group after one of their provider groups, so the next sign-in cannot put them in it', async () => {
    const interns = (await admin.data<{ createGroup: { id: string } }>(CREATE_GROUP, { n: 'sso-interns', s: 1 })).createGroup.id;
    const builders = (await admin.data<{ createGroup: { id: string } }>(CREATE_GROUP, { n: 'builders', s: 50 })).createGroup.id;
    const first = await signIn(['sso-interns', 'sso-guests']);
    await admin.data(SET_ROLES, { id: first.userId, r: [managerRole] });
    await first.client.close();
    const gil = await signIn(['sso-interns', 'sso-guests']);
    expect((await gil.client.data<{ me: { groupIds: string[] } }>(MY_LIMIT)).me.groupIds).toEqual([interns]);

    // A stronger group renamed after a provider group of theirs (one that has no Knot group yet).
    const renamed = await refusal(gil.client, RENAME_GROUP, { id: builders, n: 'SSO-Guests' });
    expect(renamed.code).toBe('FORBIDDEN');
    expect(renamed.message).toMatch(/sign-in provider puts you in a group of that name/);
    // A new group, unlimited, with that name.
    expect((await refusal(gil.client, `mutation { createGroup(name: "sso-guests") { id } }`, {})).code).toBe('FORBIDDEN');
    expect(await groupNames()).toEqual(['builders', 'sso-interns']);

    // The next sign-in leaves them where they were, limits included.
    await gil.client.close();
    const again = await signIn(['sso-interns', 'sso-guests']);
    expect((await again.client.data<{ me: { groupIds: string[]; usage: { maxSpaces: number | null } } }>(MY_LIMIT)).me).toEqual({
      groupIds: [interns],
      usage: { maxSpaces: 1 },
    });
    // Names that are not theirs stay free to use.
    await again.client.data(RENAME_GROUP, { id: builders, n: 'platform builders' });
    await again.client.close();
  });
});
