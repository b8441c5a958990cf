/**
 * Quotas on a real server, database and Docker engine: each limit at its edge (the last allowed
 * create or start succeeds, the next is refused with the figures and changes nothing), racing
 * starts against a compute quota, a restart over quota, and usage followed live.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { CREATE_AGENT_TOKEN, RawAgent } from '../agent/fixture.js';
import { START_SPACE, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

let h: SpacesHarness;
let admin: GraphQLTestClient;
const templates = { one: '', two: '', storage3: '', manual2: '' };

const USAGE = `{ me { usage { spaces maxSpaces computeUnits maxComputeUnits storageUnits maxStorageUnits } } }`;
const CREATE = `mutation($i: CreateSpaceInput!) { createSpace(input: $i) { id } }`;

interface Refusal {
  code: string;
  message: string;
  extensions: Record<string, unknown>;
}

async function refusal(client: GraphQLTestClient, query: string, variables?: Record<string, unknown>): Promise<Refusal> {
  const res = await client.request(query, variables);
  expect(res.errors, JSON.stringify(res.data)).toBeTruthy();
  return { code: String(res.errors![0]!.extensions?.code), message: res.errors![0]!.message, extensions: res.errors![0]!.extensions ?? {} };
}

/** A user alone in a new group with these limits. */
async function userWithLimits(name: string, limits: { maxSpaces?: number; computeUnits?: number; storageUnits?: number }) {
  const group = await admin.data<{ createGroup: { id: string } }>(
    `mutation($n: String!, $s: Int, $c: Int, $st: Int) { createGroup(name: $n, maxSpaces: $s, computeUnits: $c, storageUnits: $st) { id } }`,
    { n: `${name}'s group`, s: limits.maxSpaces ?? null, c: limits.computeUnits ?? null, st: limits.storageUnits ?? null },
  );
  const user = await createUser(h.server, admin, name);
  await admin.data(`mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`, { id: user.userId, g: [group.createGroup.id] });
  return { ...user, groupId: group.createGroup.id };
}

async function create(client: GraphQLTestClient, templateId: string, name: string): Promise<string> {
  const { createSpace } = await client.data<{ createSpace: { id: string } }>(CREATE, { i: { templateId, name } });
  h.spaceIds.add(createSpace.id);
  return createSpace.id;
}

const usage = async (client: GraphQLTestClient) => (await client.data<{ me: { usage: Record<string, number | null> } }>(USAGE)).me.usage;
const statuses = async (client: GraphQLTestClient) =>
  (await client.data<{ spaces: { name: string; status: string }[] }>(`{ spaces { name status } }`)).spaces;

beforeAll(async () => {
  h = await startSpacesHarness();
  admin = h.admin.client;
  templates.one = (await h.createTemplate({ name: 'one unit', computeUnits: 1 })).id;
  templates.two = (await h.createTemplate({ name: 'two units', computeUnits: 2 })).id;
  templates.storage3 = (await h.createTemplate({ name: 'three storage units', storageUnits: 3 })).id;
  templates.manual2 = (await h.createTemplate({ name: 'laptop', platform: 'MANUAL', job: '', computeUnits: 2 })).id;
}, 60_000);

afterAll(async () => {
  await h?.dispose();
}, 60_000);

describe('quotas', () => {
  it('allows the last space under maxSpaces and refuses the next with the figures', async () => {
    const u = await userWithLimits('sam', { maxSpaces: 2 });
    await create(u.client, templates.one, 'first');
    await create(u.client, templates.one, 'second');
    const refused = await refusal(u.client, CREATE, { i: { templateId: templates.one, name: 'third' } });
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', extensions: { quota: 'spaces', used: 2, max: 2, needed: 1 } });
    expect(refused.message).toBe('2 of 2 spaces in use; delete one before creating another.');
    expect((await statuses(u.client)).map((s) => s.name)).toEqual(['first', 'second']);
    // Create Space For counts against the owner, not the admin.
    expect((await refusal(admin, CREATE, { i: { templateId: templates.one, name: 'for-sam', userId: u.userId } })).code).toBe('QUOTA_EXCEEDED');
    // A per-user override replaces what the groups give.
    await admin.data(`mutation($id: ID!) { updateUser(id: $id, input: { quotaOverride: { maxSpaces: 3 } }) { id } }`, { id: u.userId });
    await create(u.client, templates.one, 'third');
    expect(await usage(u.client)).toMatchObject({ spaces: 3, maxSpaces: 3, maxComputeUnits: null, maxStorageUnits: null });
    await u.client.close();
  });

  it('allows the last storage units and refuses the next create with the figures', async () => {
    const u = await userWithLimits('stella', { storageUnits: 7 });
    await create(u.client, templates.storage3, 'a');
    await create(u.client, templates.storage3, 'b');
    const refused = await refusal(u.client, CREATE, { i: { templateId: templates.storage3, name: 'c' } });
    expect(refused.code).toBe('QUOTA_EXCEEDED');
    expect(refused.message).toBe('6 of 7 storage units in use; this template needs 3.');
    // A template of no storage still fits.
    await create(u.client, templates.one, 'small');
    expect(await usage(u.client)).toMatchObject({ spaces: 3, storageUnits: 6, maxStorageUnits: 7 });
    await u.client.close();
  });

  it('allows the last compute units and refuses the next start with the figures; a restart over quota stops nothing', async () => {
    const u = await userWithLimits('carl', { computeUnits: 4 });
    const one = await create(u.client, templates.one, 'one');
    const two = await create(u.client, templates.two, 'two');
    const twoMore = await create(u.client, templates.two, 'two-more');
    const oneMore = await create(u.client, templates.one, 'one-more');
    await h.startAndWait(one, u.client);
    await h.startAndWait(two, u.client);
    const refused = await refusal(u.client, START_SPACE, { id: twoMore });
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', extensions: { quota: 'computeUnits', used: 3, max: 4, needed: 2 } });
    expect(refused.message).toBe('3 of 4 compute units in use; this template needs 2.');
    expect((await h.space(twoMore, u.client)).status).toBe('STOPPED');
    // The last unit: 4 of 4.
    await h.startAndWait(oneMore, u.client);
    expect(await usage(u.client)).toMatchObject({ computeUnits: 4, maxComputeUnits: 4 });

    // The group's limit goes down: nothing stops, but a restart (which would start again) is refused first.
    await admin.data(`mutation($id: ID!) { updateGroup(id: $id, computeUnits: 3) { id } }`, { id: u.groupId });
    const restart = await refusal(u.client, `mutation($id: ID!) { restartSpace(id: $id) { id } }`, { id: two });
    expect(restart.code).toBe('QUOTA_EXCEEDED');
    expect(restart.message).toBe('2 of 3 compute units in use; this template needs 2.');
    expect((await statuses(u.client)).filter((s) => s.status === 'RUNNING').map((s) => s.name)).toEqual(['one', 'one-more', 'two']);
    await u.client.close();
  }, 120_000);

  it('lets ten racing starts against a quota of three start exactly three', async () => {
    const u = await userWithLimits('rita', { computeUnits: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await create(u.client, templates.one, `race-${i}`));
    const answers = await Promise.all(ids.map((id) => u.client.request(START_SPACE, { id })));
    const started = answers.filter((a) => !a.errors);
    const refused = answers.filter((a) => a.errors);
    expect(started).toHaveLength(3);
    expect(refused.map((a) => a.errors![0]!.extensions?.code)).toEqual(Array(7).fill('QUOTA_EXCEEDED'));
    // And the database agrees, after the three have come up.
    await waitFor(async () => (await statuses(u.client)).filter((s) => s.status === 'RUNNING').length === 3 || null, { what: 'three running spaces' });
    const now = await statuses(u.client);
    expect(now.filter((s) => s.status === 'STOPPED')).toHaveLength(7);
    expect(await usage(u.client)).toMatchObject({ computeUnits: 3, maxComputeUnits: 3 });
  }, 120_000);

  it('stops nothing when a user leaves the group a template is for; the next start is refused', async () => {
    const u = await userWithLimits('lea', {});
    const only = (await h.createTemplate({ name: "lea's group only", groupIds: [u.groupId] })).id;
    const id = await create(u.client, only, 'kept');
    await h.startAndWait(id, u.client);
    await admin.data(`mutation($id: ID!) { updateUser(id: $id, input: { groupIds: [] }) { id } }`, { id: u.userId });
    expect((await h.space(id, u.client)).status).toBe('RUNNING');
    await h.stopAndWait(id, u.client);
    const refused = await refusal(u.client, START_SPACE, { id });
    expect(refused.code).toBe('FORBIDDEN');
    expect(refused.message).toContain(`"lea's group only" is only for its groups`);
    expect((await h.space(id, u.client)).status).toBe('STOPPED');
    await u.client.close();
  }, 60_000);

  it("refuses the agent of a manual space over the owner's compute quota, with the reason", async () => {
    const u = await userWithLimits('mia', { computeUnits: 3 });
    const agentFor = async (name: string) => {
      const id = await create(u.client, templates.manual2, name);
      const { createAgentToken } = await u.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id });
      return { id, agent: new RawAgent(h.server.url, id, createAgentToken.token) };
    };
    const first = await agentFor('desk');
    await first.agent.opened;
    await waitFor(async () => (await h.space(first.id, u.client)).status === 'RUNNING' || null, { what: 'the first manual space running' });
    const second = await agentFor('couch');
    const closed = await second.agent.closed;
    expect(closed).toEqual({ code: 4403, reason: '2 of 3 compute units in use; this template needs 2.' });
    expect((await h.space(second.id, u.client)).status).toBe('STOPPED');
    expect(await usage(u.client)).toMatchObject({ computeUnits: 2, maxComputeUnits: 3 });
    first.agent.close();
    await u.client.close();
  });

  it("pushes the owner's usage with every change on spacesChanged", async () => {
    const u = await userWithLimits('uma', { computeUnits: 5, maxSpaces: 5 });
    const sub = u.client.subscribe<{ spacesChanged: { kind: string; spaceId: string; usage: { spaces: number; computeUnits: number; maxComputeUnits: number } } }>(
      `subscription { spacesChanged { kind spaceId space { status } usage { spaces computeUnits maxComputeUnits } } }`,
    );
    const id = await create(u.client, templates.two, 'watched');
    const created = await sub.next((e) => e.spacesChanged.kind === 'CREATED');
    expect(created.spacesChanged.usage).toEqual({ spaces: 1, computeUnits: 0, maxComputeUnits: 5 });
    await u.client.data(START_SPACE, { id });
    const starting = await sub.next((e) => e.spacesChanged.kind === 'STATUS');
    expect(starting.spacesChanged.usage.computeUnits).toBe(2);
    await sub.next((e) => (e.spacesChanged as { space?: { status: string } }).space?.status === 'RUNNING');
    await u.client.data(`mutation($id: ID!) { stopSpace(id: $id) { id } }`, { id });
    const stopped = await sub.next((e) => (e.spacesChanged as { space?: { status: string } }).space?.status === 'STOPPED');
    expect(stopped.spacesChanged.usage.computeUnits).toBe(0);
    sub.close();
    await u.client.close();
  }, 120_000);
});
