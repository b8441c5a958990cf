/**
 * Groups and template access through the API, on a real server and database: who sees which
 * templates, Create Space For checking the owner's groups, membership through updateUser, and
 * the refusals for bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser } from '../helpers/server.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

let h: SpacesHarness;
let admin: GraphQLTestClient;
const users: Record<'alice' | 'bob', { client: GraphQLTestClient; userId: string }> = {} as never;
const ids = { red: '', blue: '', redTemplate: '', blueTemplate: '', openTemplate: '' };

const CREATE_GROUP = `mutation($n: String!, $d: String, $s: Int, $c: Int, $st: Int) {
  createGroup(name: $n, description: $d, maxSpaces: $s, computeUnits: $c, storageUnits: $st) { id name maxSpaces computeUnits storageUnits }
}`;
const SET_GROUPS = `mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id groupIds } }`;
const TEMPLATES = `{ templates { id name } }`;
const CREATE_SPACE = `mutation($i: CreateSpaceInput!) { createSpace(input: $i) { id owner { username } } }`;

async function refusal(client: GraphQLTestClient, query: string, variables?: Record<string, unknown>) {
  const res = await client.request(query, variables);
  expect(res.errors, JSON.stringify(res.data)).toBeTruthy();
  return { code: String(res.errors![0]!.extensions?.code), message: res.errors![0]!.message, extensions: res.errors![0]!.extensions ?? {} };
}

beforeAll(async () => {
  h = await startSpacesHarness();
  admin = h.admin.client;
  for (const name of ['alice', 'bob'] as const) users[name] = await createUser(h.server, admin, name);
  ids.red = (await admin.data<{ createGroup: { id: string } }>(CREATE_GROUP, { n: 'Red team', d: 'reds' })).createGroup.id;
  ids.blue = (await admin.data<{ createGroup: { id: string } }>(CREATE_GROUP, { n: 'Blue team' })).createGroup.id;
  await admin.data(SET_GROUPS, { id: users.alice.userId, g: [ids.red] });
  await admin.data(SET_GROUPS, { id: users.bob.userId, g: [ids.blue] });
  ids.redTemplate = (await h.createTemplate({ name: 'red only', groupIds: [ids.red] })).id;
  ids.blueTemplate = (await h.createTemplate({ name: 'blue only', groupIds: [ids.blue] })).id;
  ids.openTemplate = (await h.createTemplate({ name: 'for everyone' })).id;
}, 60_000);

afterAll(async () => {
  await h?.dispose();
});

describe('groups and template access', () => {
  it('shows each user the templates open to them, and template managers all of them', async () => {
    const names = async (client: GraphQLTestClient) => (await client.data<{ templates: { name: string }[] }>(TEMPLATES)).templates.map((t) => t.name).sort();
    expect(await names(users.alice.client)).toEqual(['for everyone', 'red only']);
    expect(await names(users.bob.client)).toEqual(['blue only', 'for everyone']);
    expect(await names(admin)).toEqual(['blue only', 'for everyone', 'red only']);
    // One template by id, the same rule: another group's is NOT_FOUND.
    expect((await refusal(users.alice.client, `query($id: ID!) { template(id: $id) { id } }`, { id: ids.blueTemplate })).code).toBe('NOT_FOUND');
    const t = await users.alice.client.data<{ template: { groupIds: string[] } }>(`query($id: ID!) { template(id: $id) { groupIds } }`, { id: ids.redTemplate });
    expect(t.template.groupIds).toEqual([ids.red]);
  });

  it('lists members on the group and groups on the user', async () => {
    const g = await admin.data<{ group: { name: string; description: string; users: { username: string }[] } }>(
      `query($id: ID!) { group(id: $id) { name description users { username } } }`,
      { id: ids.red },
    );
    expect(g.group).toEqual({ name: 'Red team', description: 'reds', users: [{ username: 'alice' }] });
    const me = await users.bob.client.data<{ me: { groupIds: string[] } }>(`{ me { groupIds } }`);
    expect(me.me.groupIds).toEqual([ids.blue]);
  });

  it('lets a user create spaces only from templates open to them', async () => {
    const refused = await refusal(users.alice.client, CREATE_SPACE, { i: { templateId: ids.blueTemplate, name: 'nope' } });
    expect(refused.code).toBe('FORBIDDEN');
    expect(refused.message).toContain('blue only');
    const made = await users.alice.client.data<{ createSpace: { id: string } }>(CREATE_SPACE, { i: { templateId: ids.redTemplate, name: 'mine' } });
    h.spaceIds.add(made.createSpace.id);
  });

  it("checks the owner's groups on Create Space For, not the admin's", async () => {
    const refused = await refusal(admin, CREATE_SPACE, { i: { templateId: ids.redTemplate, name: 'for-bob', userId: users.bob.userId } });
    expect(refused.code).toBe('FORBIDDEN');
    expect(refused.message).toContain('bob is in none of them');
    const spaces = await admin.data<{ spaces: unknown[] }>(`query($u: ID) { spaces(userId: $u) { id } }`, { u: users.bob.userId });
    expect(spaces.spaces).toEqual([]);
    const made = await admin.data<{ createSpace: { id: string; owner: { username: string } } }>(CREATE_SPACE, {
      i: { templateId: ids.blueTemplate, name: 'for-bob', userId: users.bob.userId },
    });
    h.spaceIds.add(made.createSpace.id);
    expect(made.createSpace.owner.username).toBe('bob');
  });
});

describe('bad input changes nothing', () => {
  const groupNames = async () => (await admin.data<{ groups: { name: string }[] }>(`{ groups { name } }`)).groups.map((g) => g.name);

  it('refuses negative and absurd limits with BAD_USER_INPUT', async () => {
    const before = await groupNames();
    for (const vars of [{ s: -1 }, { c: 1_000_001 }, { st: -5 }]) {
      const refused = await refusal(admin, CREATE_GROUP, { n: 'Absurd', ...vars });
      expect(refused.code).toBe('BAD_USER_INPUT');
      expect(refused.message).toMatch(/whole number from 0 to 1,000,000/);
    }
    expect((await refusal(admin, `mutation($id: ID!) { updateGroup(id: $id, computeUnits: -3) { id } }`, { id: ids.red })).code).toBe('BAD_USER_INPUT');
    expect((await refusal(admin, `mutation($id: ID!) { updateUser(id: $id, input: { quotaOverride: { maxSpaces: -1 } }) { id } }`, { id: users.alice.userId })).code).toBe(
      'BAD_USER_INPUT',
    );
    expect((await refusal(admin, `mutation { createTemplate(input: { name: "huge", job: "image: x", computeUnits: 2000000 }) { id } }`)).code).toBe('BAD_USER_INPUT');
    expect(await groupNames()).toEqual(before);
    const red = await admin.data<{ group: { computeUnits: number | null } }>(`query($id: ID!) { group(id: $id) { computeUnits } }`, { id: ids.red });
    expect(red.group.computeUnits).toBeNull();
  });

  it('refuses unknown group ids and a taken name', async () => {
    const unknown = '00000000-0000-4000-8000-00000000dead';
    const onUser = await refusal(admin, SET_GROUPS, { id: users.alice.userId, g: [ids.red, unknown] });
    expect(onUser).toMatchObject({ code: 'NOT_FOUND', extensions: { field: 'groupIds' } });
    const me = await users.alice.client.data<{ me: { groupIds: string[] } }>(`{ me { groupIds } }`);
    expect(me.me.groupIds).toEqual([ids.red]);
    const onTemplate = await refusal(admin, `mutation($id: ID!, $g: [ID!]) { updateTemplate(id: $id, input: { groupIds: $g }) { id } }`, { id: ids.redTemplate, g: ['not-an-id'] });
    expect(onTemplate).toMatchObject({ code: 'NOT_FOUND', extensions: { field: 'groupIds' } });
    expect((await refusal(admin, `query($id: ID!) { group(id: $id) { id } }`, { id: unknown })).code).toBe('NOT_FOUND');
    expect((await refusal(admin, CREATE_GROUP, { n: 'red TEAM' })).code).toBe('NAME_TAKEN');
  });

  it('refuses to delete a group that templates use, naming them; a group without templates goes and its members leave it', async () => {
    const refused = await refusal(admin, `mutation($id: ID!) { deleteGroup(id: $id) }`, { id: ids.red });
    expect(refused.code).toBe('GROUP_IN_USE');
    expect(refused.message).toContain('"red only"');
    expect(refused.extensions.templates).toEqual([{ id: ids.redTemplate, name: 'red only' }]);
    expect(await groupNames()).toContain('Red team');
    // Still closed to bob: the template kept its group.
    expect((await refusal(users.bob.client, `query($id: ID!) { template(id: $id) { id } }`, { id: ids.redTemplate })).code).toBe('NOT_FOUND');

    const temp = (await admin.data<{ createGroup: { id: string } }>(CREATE_GROUP, { n: 'Temporary' })).createGroup.id;
    await admin.data(SET_GROUPS, { id: users.bob.userId, g: [ids.blue, temp] });
    expect(await admin.data(`mutation($id: ID!) { deleteGroup(id: $id) }`, { id: temp })).toEqual({ deleteGroup: true });
    const bob = await users.bob.client.data<{ me: { groupIds: string[] } }>(`{ me { groupIds } }`);
    expect(bob.me.groupIds).toEqual([ids.blue]);
  });

  it('warns, but saves, a template larger than its groups allow', async () => {
    await admin.data(`mutation($id: ID!) { updateGroup(id: $id, computeUnits: 2, storageUnits: 10) { id } }`, { id: ids.blue });
    const saved = await admin.data<{ updateTemplate: { computeUnits: number; storageUnits: number; warnings: string[] } }>(
      `mutation($id: ID!) { updateTemplate(id: $id, input: { computeUnits: 4, storageUnits: 5 }) { computeUnits storageUnits warnings } }`,
      { id: ids.blueTemplate },
    );
    expect(saved.updateTemplate.computeUnits).toBe(4);
    expect(saved.updateTemplate.storageUnits).toBe(5);
    expect(saved.updateTemplate.warnings).toEqual([expect.stringMatching(/^It needs 4 compute units, but its groups allow at most 2/)]);
    // Ordinary users see the sizes, not the warnings.
    const seen = await users.bob.client.data<{ template: { computeUnits: number; warnings: string[] } }>(`query($id: ID!) { template(id: $id) { computeUnits warnings } }`, {
      id: ids.blueTemplate,
    });
    expect(seen.template).toEqual({ computeUnits: 4, warnings: [] });
  });

  it('lets only an admin change their own groups or quota', async () => {
    const role = (await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "group managers", permissions: [MANAGE_GROUPS, MANAGE_USERS]) { id } }`)).createRole.id;
    const carol = await createUser(h.server, admin, 'carol', [role]);
    const own = await refusal(carol.client, SET_GROUPS, { id: carol.userId, g: [ids.red] });
    expect(own.code).toBe('FORBIDDEN');
    expect((await refusal(carol.client, `mutation($id: ID!) { updateUser(id: $id, input: { quotaOverride: { computeUnits: 99 } }) { id } }`, { id: carol.userId })).code).toBe('FORBIDDEN');
    // Another user's membership is theirs to manage.
    await carol.client.data(SET_GROUPS, { id: users.alice.userId, g: [ids.red] });
    // A group they belong to: its limits are an admin's to change.
    await admin.data(SET_GROUPS, { id: carol.userId, g: [ids.blue] });
    expect((await refusal(carol.client, `mutation($id: ID!) { updateGroup(id: $id, computeUnits: 50) { id } }`, { id: ids.blue })).code).toBe('FORBIDDEN');
    await carol.client.close();
  });
});
