import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser } from '../helpers/server.js';
import { busyboxJob, GET_SPACE, SPACES_CHANGED, startSpacesHarness, type SpaceChange, type SpacesHarness, type SpaceView } from './fixture.js';

/**
 * Handing a space over, on a real server and Docker: refusals leave it as it was, and a handed
 * space keeps its volume and the data in it for its new owner.
 */
const TRANSFER = `mutation($id: ID!, $u: ID!) { transferSpace(id: $id, userId: $u) { id owner { username } sharedWith { username } } }`;
const SHARE = `mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id } }`;

type User = { client: GraphQLTestClient; userId: string; token: string };

describe('handing a space to another user', () => {
  let h: SpacesHarness;
  let alice: User;
  let bob: User;
  let carol: User;
  let dave: User;
  let erin: User;
  let templateId: string;
  let spaceId: string;

  beforeAll(async () => {
    h = await startSpacesHarness();
    [alice, bob, carol, dave, erin] = (await Promise.all(['alice', 'bob', 'carol', 'dave', 'erin'].map((name) => createUser(h.server, h.admin.client, name)))) as [User, User, User, User, User];
    // A group for everyone but erin, and the template only for it: erin has no access to it.
    const group = await h.admin.client.data<{ createGroup: { id: string } }>(`mutation { createGroup(name: "builders") { id } }`);
    const members = [alice, bob, carol, dave];
    for (const user of members) {
      await h.admin.client.data(`mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`, { id: user.userId, g: [group.createGroup.id] });
    }
    templateId = (
      await h.createTemplate({
        name: 'with-home',
        job: busyboxJob('volumes:\n  - home_${{ .space.id }}:/home/work\n'),
        volumes: 'volumes:\n  home_${{ .space.id }}:\n',
        groupIds: [group.createGroup.id],
      })
    ).id;
    // Dave already has a space by that name.
    await h.createSpace({ templateId, name: 'notes' }, dave.client);
    spaceId = (await h.createSpace({ templateId, name: 'notes' }, alice.client)).id;
  }, 120_000);

  afterAll(async () => {
    await h?.dispose();
  });

  const ownerOf = async () => (await h.admin.client.data<{ space: SpaceView }>(GET_SPACE, { id: spaceId })).space.owner.username;
  const refusal = async (client: GraphQLTestClient, userId: string) => (await client.request(TRANSFER, { id: spaceId, u: userId })).errors?.[0]?.extensions;

  it('refuses a running space, a taken name, a user without the template and an unknown user, and changes nothing', async () => {
    await h.startAndWait(spaceId, alice.client);
    await h.exec(spaceId, ['sh', '-c', 'echo kept-through-the-handover > /home/work/note.txt']);
    expect(await refusal(alice.client, bob.userId)).toMatchObject({ code: 'SPACE_NOT_STOPPED', status: 'RUNNING' });
    await h.stopAndWait(spaceId, alice.client);

    expect(await refusal(alice.client, dave.userId)).toMatchObject({ code: 'NAME_TAKEN' });
    expect(await refusal(alice.client, erin.userId)).toMatchObject({ code: 'FORBIDDEN', field: 'templateId' });
    expect(await refusal(alice.client, '00000000-0000-4000-8000-000000000000')).toMatchObject({ code: 'NOT_FOUND', field: 'userId' });
    expect(await refusal(alice.client, alice.userId)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'userId' });
    // A user with no room for one more space.
    await h.admin.client.data(`mutation($id: ID!) { updateUser(id: $id, input: { quotaOverride: { maxSpaces: 0 } }) { id } }`, { id: carol.userId });
    expect(await refusal(alice.client, carol.userId)).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    await h.admin.client.data(`mutation($id: ID!) { updateUser(id: $id, input: { quotaOverride: null }) { id } }`, { id: carol.userId });

    expect(await ownerOf()).toBe('alice');
    const audit = await h.admin.client.data<{ auditLog: { entries: { action: string }[] } }>(`{ auditLog(first: 500) { entries { action } } }`);
    expect(audit.auditLog.entries.some((e) => e.action === 'transferSpace')).toBe(false);
  });

  it("lets no manager take someone's space for themselves: that would hand them its files, which MANAGE_SPACES does not give", async () => {
    const role = await h.admin.client.data<{ createRole: { id: string } }>(`mutation { createRole(name: "space managers", permissions: [MANAGE_SPACES]) { id } }`);
    const mona = await createUser(h.server, h.admin.client, 'mona', [role.createRole.id]);
    const group = (await h.admin.client.data<{ groups: { id: string }[] }>(`{ groups { id } }`)).groups.map((g) => g.id);
    await h.admin.client.data(`mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`, { id: mona.userId, g: group });
    const refused = await mona.client.request(TRANSFER, { id: spaceId, u: mona.userId });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'userId' });
    expect(refused.errors?.[0]?.message).toMatch(/only alice can hand "notes" to you/i);
    expect(await ownerOf()).toBe('alice');
    // Mona's own space, though, is hers to give.
    const own = await h.createSpace({ templateId, name: 'monas' }, mona.client);
    const given = await mona.client.data<{ transferSpace: { owner: { username: string } } }>(TRANSFER, { id: own.id, u: bob.userId });
    expect(given.transferSpace.owner.username).toBe('bob');
    await mona.client.close();
  });

  it('hands a stopped space over with its volume and data, clears its shares, and moves it between the two lists live', async () => {
    await alice.client.data(SHARE, { id: spaceId, u: carol.userId });
    const alicesList = alice.client.subscribe<{ spacesChanged: SpaceChange }>(SPACES_CHANGED, {});
    // A space of bob's own, so his list's snapshot says when it listens.
    const scratch = await h.createSpace({ templateId, name: 'scratch' }, bob.client);
    const bobsList = bob.client.subscribe<{ spacesChanged: SpaceChange }>(SPACES_CHANGED, {});
    await alicesList.next((e) => e.spacesChanged.spaceId === spaceId);
    await bobsList.next((e) => e.spacesChanged.spaceId === scratch.id);

    const moved = await alice.client.data<{ transferSpace: { id: string } | null }>(TRANSFER, { id: spaceId, u: bob.userId });
    // Alice no longer sees it.
    expect(moved.transferSpace).toBeNull();
    const left = await alicesList.next((e) => e.spacesChanged.spaceId === spaceId && e.spacesChanged.kind === 'TRANSFERRED');
    expect(left.spacesChanged.space).toBeNull();
    const arrived = await bobsList.next((e) => e.spacesChanged.spaceId === spaceId);
    expect(arrived.spacesChanged.space?.owner.username).toBe('bob');
    alicesList.close();
    bobsList.close();

    expect(await alice.client.errorCode(GET_SPACE, { id: spaceId })).toBe('NOT_FOUND');
    expect(await carol.client.errorCode(GET_SPACE, { id: spaceId })).toBe('NOT_FOUND');
    const now = await bob.client.data<{ space: { owner: { username: string }; sharedWith: unknown[] } }>(`query($id: ID!) { space(id: $id) { owner { username } sharedWith { username } } }`, { id: spaceId });
    expect(now.space).toEqual({ owner: { username: 'bob' }, sharedWith: [] });

    // The same volume, with what alice wrote, for bob's start.
    expect(await h.runtime.listVolumes({ 'knot.space': spaceId })).toEqual([`home_${spaceId}`]);
    await h.startAndWait(spaceId, bob.client);
    expect((await h.exec(spaceId, ['cat', '/home/work/note.txt'])).trim()).toBe('kept-through-the-handover');

    const audit = await h.admin.client.data<{ auditLog: { entries: { action: string; actorName: string; details: Record<string, unknown> }[] } }>(
      `{ auditLog(first: 100) { entries { action actorName details } } }`,
    );
    const entry = audit.auditLog.entries.find((e) => e.action === 'transferSpace');
    expect(entry).toMatchObject({ actorName: 'alice', details: { toUsername: 'bob' } });
    await h.stopAndWait(spaceId, bob.client);
  });

  it('lets MANAGE_SPACES hand over anyone\'s space, and the space keeps its name for the new owner', async () => {
    const moved = await h.admin.client.data<{ transferSpace: { owner: { username: string } } }>(TRANSFER, { id: spaceId, u: carol.userId });
    expect(moved.transferSpace.owner.username).toBe('carol');
    expect((await carol.client.data<{ spaces: { name: string }[] }>(`{ spaces { name } }`)).spaces.map((s) => s.name)).toEqual(['notes']);
  });
});
