import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser } from '../helpers/server.js';
import { busyboxJob, GET_SPACE, START_SPACE, startSpacesHarness, type SpacesHarness, type SpaceView } from './fixture.js';

/**
 * Sharing combined with groups, transfer and deleting users, on a real server, Postgres and
 * Docker: none of them reaches a space through the back door. The space is the owner's, so it is
 * the owner's template access that a shared user's start needs; a share dies with its user and
 * with a transfer.
 */
const SHARE = `mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id } }`;
const TRANSFER = `mutation($id: ID!, $u: ID!) { transferSpace(id: $id, userId: $u) { id } }`;
const SHARED_WITH = `query($id: ID!) { space(id: $id) { owner { username } sharedWith { username } } }`;
const SET_GROUPS = `mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`;

type User = { client: GraphQLTestClient; userId: string; token: string };

describe('sharing combined with groups, transfer and deleted users', () => {
  let h: SpacesHarness;
  let alice: User;
  let bob: User;
  let carol: User;
  let groupId: string;
  let templateId: string;

  beforeAll(async () => {
    h = await startSpacesHarness();
    [alice, bob, carol] = (await Promise.all(['alice', 'bob', 'carol'].map((name) => createUser(h.server, h.admin.client, name)))) as [User, User, User];
    groupId = (await h.admin.client.data<{ createGroup: { id: string } }>(`mutation { createGroup(name: "pairing") { id } }`)).createGroup.id;
    for (const user of [alice, bob, carol]) await h.admin.client.data(SET_GROUPS, { id: user.userId, g: [groupId] });
    templateId = (await h.createTemplate({ name: 'pairing only', job: busyboxJob(), groupIds: [groupId] })).id;
  }, 120_000);

  afterAll(async () => {
    await h?.dispose();
  });

  const statusOf = async (id: string) => (await h.admin.client.data<{ space: SpaceView }>(GET_SPACE, { id })).space.status;

  it("refuses a shared user's start once the owner lost the template, though the shared user still has it; nothing starts", async () => {
    const space = await h.createSpace({ templateId, name: 'lost-template' }, alice.client);
    await alice.client.data(SHARE, { id: space.id, u: bob.userId });
    await h.admin.client.data(SET_GROUPS, { id: alice.userId, g: [] });
    try {
      const refused = await bob.client.request(START_SPACE, { id: space.id });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'templateId' });
      expect(refused.errors?.[0]?.message).toMatch(/alice is in none of them/);
      expect(await statusOf(space.id)).toBe('STOPPED');
      expect(await h.server.app.services.runtime.listContainers({ 'knot.space': space.id })).toEqual([]);
    } finally {
      await h.admin.client.data(SET_GROUPS, { id: alice.userId, g: [groupId] });
    }
    // The owner back in the group: the shared user's start goes through, as the owner's space.
    expect((await h.startAndWait(space.id, bob.client)).status).toBe('RUNNING');
    await h.stopAndWait(space.id, bob.client);
  });

  it('takes a share away with its user: a deleted user is gone from sharedWith, and a new account never inherits it', async () => {
    const space = await h.createSpace({ templateId, name: 'share-then-delete' }, alice.client);
    const dora = await createUser(h.server, h.admin.client, 'dora');
    await alice.client.data(SHARE, { id: space.id, u: dora.userId });
    await h.admin.client.data(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: dora.userId });
    expect((await alice.client.data<{ space: { sharedWith: unknown[] } }>(SHARED_WITH, { id: space.id })).space.sharedWith).toEqual([]);
    expect(await dora.client.errorCode(`query($id: ID!) { space(id: $id) { id } }`, { id: space.id })).toBe('UNAUTHENTICATED');
    // Someone signing up under the same name is someone else.
    const again = await createUser(h.server, h.admin.client, 'dora');
    expect(await again.client.errorCode(`query($id: ID!) { space(id: $id) { id } }`, { id: space.id })).toBe('NOT_FOUND');
  });

  it('clears shares on a transfer, also to the user it was shared with: the old owner and the other shared users lose it', async () => {
    const space = await h.createSpace({ templateId, name: 'share-then-transfer' }, alice.client);
    await alice.client.data(SHARE, { id: space.id, u: bob.userId });
    await alice.client.data(SHARE, { id: space.id, u: carol.userId });
    await alice.client.data(TRANSFER, { id: space.id, u: bob.userId });
    expect((await bob.client.data<{ space: { owner: { username: string }; sharedWith: unknown[] } }>(SHARED_WITH, { id: space.id })).space).toEqual({
      owner: { username: 'bob' },
      sharedWith: [],
    });
    for (const user of [alice, carol]) {
      expect(await user.client.errorCode(START_SPACE, { id: space.id })).toBe('NOT_FOUND');
      expect(await user.client.errorCode(SHARE, { id: space.id, u: user.userId })).toBe('NOT_FOUND');
    }
    expect(await statusOf(space.id)).toBe('STOPPED');
  });
});
