import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import type { GraphQLTestClient, Subscription } from '../helpers/graphql.js';
import {
  SPACES_CHANGED,
  SPACE_CHANGED,
  UPDATE_SPACE,
  startSpacesHarness,
  type SpaceChange,
  type SpacesHarness,
  type SpaceView,
} from './fixture.js';

type SpacesChanged = { spacesChanged: SpaceChange };

/** Who hears about a space: its owner and MANAGE_SPACES users, and nobody else. */
describe('live status of spaces', () => {
  let h: SpacesHarness;
  let templateId: string;
  let gina: { client: GraphQLTestClient; userId: string };
  let hank: { client: GraphQLTestClient; userId: string };
  let manager: { client: GraphQLTestClient; userId: string };
  let ginaSpace: SpaceView;
  beforeAll(async () => {
    h = await startSpacesHarness();
    templateId = (await h.createTemplate({ name: 'busybox' })).id;
    gina = await createUser(h.server, h.admin.client, 'gina');
    hank = await createUser(h.server, h.admin.client, 'hank');
    const role = await h.admin.client.data<{ createRole: { id: string } }>(
      `mutation { createRole(name: "Space managers", permissions: [MANAGE_SPACES]) { id } }`,
    );
    manager = await createUser(h.server, h.admin.client, 'manager', [role.createRole.id]);
    ginaSpace = await h.createSpace({ templateId, name: 'ginas' }, gina.client);
  });
  afterAll(async () => {
    for (const c of [gina, hank, manager]) await c.client.close();
    await h.dispose();
  });

  it("refuses another user's space on spaceChanged (NOT_FOUND) and another user's list on spacesChanged (FORBIDDEN)", async () => {
    const one = hank.client.subscribe(SPACE_CHANGED, { id: ginaSpace.id });
    await expect(one.next()).rejects.toThrow(/NOT_FOUND/);
    const all = hank.client.subscribe(SPACES_CHANGED, { userId: gina.userId });
    await expect(all.next()).rejects.toThrow(/FORBIDDEN/);
    const anonymous = h.server.anonymous.subscribe(SPACE_CHANGED, { id: ginaSpace.id });
    await expect(anonymous.next()).rejects.toThrow();
    expect(anonymous.events).toEqual([]);
  });

  it('starts every subscription with a SNAPSHOT of the current state', async () => {
    const sub = gina.client.subscribe<SpacesChanged>(SPACES_CHANGED);
    const first = await sub.next();
    expect(first.spacesChanged).toMatchObject({ kind: 'SNAPSHOT', spaceId: ginaSpace.id, space: { name: 'ginas', status: 'STOPPED' } });
    sub.close();
  });

  it('delivers each change to the owner and to MANAGE_SPACES users, and never to anyone else', async () => {
    const ownerOne = await h.watch(ginaSpace.id, gina.client);
    const managerOne = await h.watch(ginaSpace.id, manager.client);
    const ownerAll = await snapshotted(gina.client.subscribe<SpacesChanged>(SPACES_CHANGED), 1);
    const managerAll = await snapshotted(manager.client.subscribe<SpacesChanged>(SPACES_CHANGED, { userId: gina.userId }), 1);
    // Hank watches his own list (and the manager their own): neither may hear of Gina's space.
    const hankAll = hank.client.subscribe<SpacesChanged>(SPACES_CHANGED);
    const managerOwn = manager.client.subscribe<SpacesChanged>(SPACES_CHANGED);
    const hankSpace = await h.createSpace({ templateId, name: 'hanks' }, hank.client);
    await hankAll.next((e) => e.spacesChanged.kind === 'CREATED');

    await gina.client.data(UPDATE_SPACE, { id: ginaSpace.id, input: { altNames: ['alias'] } });
    await h.startAndWait(ginaSpace.id, gina.client);
    await h.stopAndWait(ginaSpace.id, manager.client);

    const expected = ['RENAMED', 'STATUS:STARTING', 'STATUS:RUNNING', 'STATUS:STOPPING', 'STATUS:STOPPED'];
    const seen = (events: SpaceChange[]) =>
      events.filter((c) => c.kind !== 'SNAPSHOT').map((c) => (c.kind === 'STATUS' ? `STATUS:${c.space!.status}` : c.kind));
    // The STATUS event of the stop: the RENAMED event before the start also shows a stopped space.
    const stopped = (c: SpaceChange) => c.kind === 'STATUS' && c.space?.status === 'STOPPED';
    await ownerOne.next((e) => stopped(e.spaceChanged));
    await managerOne.next((e) => stopped(e.spaceChanged));
    await ownerAll.next((e) => stopped(e.spacesChanged));
    await managerAll.next((e) => stopped(e.spacesChanged));
    expect(seen(ownerOne.events.map((e) => e.spaceChanged))).toEqual(expected);
    expect(seen(managerOne.events.map((e) => e.spaceChanged))).toEqual(expected);
    expect(seen(ownerAll.events.map((e) => e.spacesChanged))).toEqual(expected);
    expect(seen(managerAll.events.map((e) => e.spacesChanged))).toEqual(expected);

    // A change to Hank's space after Gina's reaches Hank: by then anything about Gina would have too.
    await hank.client.data(UPDATE_SPACE, { id: hankSpace.id, input: { altNames: ['marker'] } });
    await hankAll.next((e) => e.spacesChanged.kind === 'RENAMED');
    expect(hankAll.events.map((e) => e.spacesChanged.spaceId).every((id) => id === hankSpace.id)).toBe(true);
    expect(managerOwn.events.every((e) => e.spacesChanged.space?.owner.id === manager.userId)).toBe(true);
    expect(managerOwn.events).toEqual([]);
    // Gina's list never carried Hank's space either.
    expect(ownerAll.events.map((e) => e.spacesChanged.spaceId).every((id) => id === ginaSpace.id)).toBe(true);
    for (const s of [ownerOne, managerOne, ownerAll, managerAll, hankAll, managerOwn]) s.close();
  });

  it('answers each subscriber its own question when many share one event', async () => {
    const byName = `subscription($id: ID!) { spaceChanged(id: $id) { kind space { name } } }`;
    const byAlt = `subscription($id: ID!) { spaceChanged(id: $id) { kind space { altNames owner { username } } } }`;
    const subs = [
      gina.client.subscribe(byName, { id: ginaSpace.id }),
      gina.client.subscribe(byAlt, { id: ginaSpace.id }),
      manager.client.subscribe(byName, { id: ginaSpace.id }),
      manager.client.subscribe(byAlt, { id: ginaSpace.id }),
    ];
    for (const sub of subs) await sub.next();
    await gina.client.data(UPDATE_SPACE, { id: ginaSpace.id, input: { altNames: ['shared-event'] } });
    const [a, b, c, d] = await Promise.all(subs.map((sub) => sub.next()));
    expect(a).toEqual({ spaceChanged: { kind: 'RENAMED', space: { name: 'ginas' } } });
    expect(b).toEqual({ spaceChanged: { kind: 'RENAMED', space: { altNames: ['shared-event'], owner: { username: 'gina' } } } });
    expect(c).toEqual(a);
    expect(d).toEqual(b);
    for (const sub of subs) sub.close();
  });

  it('tells spacesChanged subscribers about creation and deletion', async () => {
    const sub = await snapshotted(gina.client.subscribe<SpacesChanged>(SPACES_CHANGED), 1);
    const made = await h.createSpace({ templateId, name: 'short-lived' }, gina.client);
    expect((await sub.next()).spacesChanged).toMatchObject({ kind: 'CREATED', spaceId: made.id, space: { name: 'short-lived' } });
    await gina.client.data(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: made.id });
    expect((await sub.next()).spacesChanged).toMatchObject({ kind: 'STATUS', space: { status: 'DELETING' } });
    expect((await sub.next()).spacesChanged).toEqual({ kind: 'DELETED', spaceId: made.id, space: null });
    sub.close();
  });

  /** Waits for the `count` SNAPSHOT events a list subscription opens with. */
  async function snapshotted<T extends SpacesChanged>(sub: Subscription<T>, count: number) {
    for (let i = 0; i < count; i++) expect((await sub.next()).spacesChanged.kind).toBe('SNAPSHOT');
    return sub;
  }
});
