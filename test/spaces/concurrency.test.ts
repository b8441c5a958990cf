import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import {
  CREATE_SPACE,
  DELETE_SPACE,
  GET_SPACE,
  RESTART_SPACE,
  START_SPACE,
  STOP_SPACE,
  UPDATE_SPACE,
  containerOf,
  startSpacesHarness,
  type SpacesHarness,
  type SpaceView,
} from './fixture.js';

/** Transitions are compare-and-set: racing clients get one winner and never a second container. */
describe('racing operations on one space', () => {
  let h: SpacesHarness;
  let templateId: string;
  beforeAll(async () => {
    h = await startSpacesHarness();
    templateId = (await h.createTemplate({ name: 'busybox', volumes: `volumes:\n  data_\${{ .space.id }}:\n` })).id;
  });
  afterAll(() => h.dispose());

  const codes = (results: { errors?: { extensions?: Record<string, unknown> }[] }[]) =>
    results.map((r) => (r.errors ? String(r.errors[0]!.extensions!.code) : 'OK')).sort();

  /** Settled: no space of this test is in a transitional state any more. */
  async function settled(id: string): Promise<SpaceView | null> {
    return waitFor(
      async () => {
        const res = await h.admin.client.request<{ space: SpaceView }>(GET_SPACE, { id });
        if (res.errors?.[0]?.extensions?.code === 'NOT_FOUND') return { gone: true as const };
        const space = res.data!.space;
        return ['STOPPED', 'RUNNING', 'FAILED'].includes(space.status) ? { space } : null;
      },
      { what: 'the space to settle' },
    ).then((r) => ('gone' in r ? null : r.space));
  }

  it('gives one of several simultaneous startSpace calls the start, the rest INVALID_TRANSITION, and runs one container', async () => {
    const space = await h.createSpace({ templateId, name: 'contested' });
    const results = await Promise.all([1, 2, 3, 4].map(() => h.admin.client.request(START_SPACE, { id: space.id })));
    expect(codes(results)).toEqual(['INVALID_TRANSITION', 'INVALID_TRANSITION', 'INVALID_TRANSITION', 'OK']);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0]!.message).toMatch(/is (starting|running); only a stopped or failed space can be started/);
    expect((await settled(space.id))!.status).toBe('RUNNING');
    expect(await h.runtime.listContainers({ 'knot.space': space.id })).toHaveLength(1);
  });

  it('gives one of two simultaneous stopSpace calls the stop', async () => {
    const [space] = await named('contested');
    const results = await Promise.all([1, 2].map(() => h.admin.client.request(STOP_SPACE, { id: space!.id })));
    expect(codes(results)).toEqual(['INVALID_TRANSITION', 'OK']);
    expect((await settled(space!.id))!.status).toBe('STOPPED');
    expect(await h.runtime.listContainers({ 'knot.space': space!.id })).toEqual([]);
  });

  it('refuses start and delete of a space that is still STARTING', async () => {
    const [space] = await named('contested');
    const start = await h.admin.client.data<{ startSpace: SpaceView }>(START_SPACE, { id: space!.id });
    expect(start.startSpace.status).toBe('STARTING');
    // The answers below can only be refusals whether or not the start has finished meanwhile.
    const [again, del] = await Promise.all([
      h.admin.client.request(START_SPACE, { id: space!.id }),
      h.admin.client.request(DELETE_SPACE, { id: space!.id }),
    ]);
    expect(again.errors![0]!.extensions!.code).toBe('INVALID_TRANSITION');
    expect(del.errors![0]!.extensions!.code).toBe('SPACE_NOT_STOPPED');
    expect((await settled(space!.id))!.status).toBe('RUNNING');
    expect(await h.runtime.listContainers({ 'knot.space': space!.id })).toHaveLength(1);
  });

  it('never leaves a container or a volume without a space when start races delete', async () => {
    const spaces = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => h.createSpace({ templateId, name: `racer-${i}` })));
    // Odd ones have run before (volumes exist, then stopped); even ones never ran.
    for (const s of spaces.filter((_, i) => i % 2)) {
      await h.startAndWait(s.id);
      await h.stopAndWait(s.id);
    }
    const outcomes = await Promise.all(
      spaces.map(async (s, i) => {
        const pair = [h.admin.client.request(START_SPACE, { id: s.id }), h.admin.client.request(DELETE_SPACE, { id: s.id })];
        const [start, del] = await Promise.all(i % 3 ? pair : pair.reverse()).then((r) => (i % 3 ? r : r.reverse()));
        return { id: s.id, start: start!, del: del! };
      }),
    );
    for (const { id, start, del } of outcomes) {
      const space = await settled(id);
      const containers = await h.runtime.listContainers({ 'knot.space': id });
      const volumes = await h.runtime.listVolumes({ 'knot.space': id });
      if (space === null) {
        // Delete won: the start was refused (the space was DELETING, or already gone) and nothing of the space is left.
        expect(del.errors).toBeUndefined();
        expect(['INVALID_TRANSITION', 'NOT_FOUND']).toContain(start.errors![0]!.extensions!.code);
        expect(containers).toEqual([]);
        expect(volumes).toEqual([]);
      } else {
        // Start won: the delete was refused and the space runs with its one container.
        expect(start.errors).toBeUndefined();
        expect(del.errors![0]!.extensions!.code).toBe('SPACE_NOT_STOPPED');
        expect(space.status).toBe('RUNNING');
        expect(containers).toHaveLength(1);
        expect(volumes).toEqual([`data_${id}`]);
      }
    }
  });

  it('gives a stop racing a restart one winner, and ends with the space settled and consistent with Docker', async () => {
    const space = await h.createSpace({ templateId, name: 'restart-race' });
    await h.startAndWait(space.id);
    const [stop, restart] = await Promise.all([
      h.admin.client.request(STOP_SPACE, { id: space.id }),
      h.admin.client.request(RESTART_SPACE, { id: space.id }),
    ]);
    expect(codes([stop, restart])).toEqual(['INVALID_TRANSITION', 'OK']);
    const final = (await settled(space.id))!;
    expect(final.status).toBe(stop.errors ? 'RUNNING' : 'STOPPED');
    const container = await h.runtime.inspectContainer(containerOf(space.id));
    expect(container?.running ?? false).toBe(final.status === 'RUNNING');
  });

  /** What a refused racing call may answer; anything else (an internal error above all) fails. */
  const REFUSALS = ['INVALID_TRANSITION', 'SPACE_NOT_STOPPED', 'NOT_FOUND'];
  const refusedClearly = (results: { errors?: { message: string; extensions?: Record<string, unknown> }[] }[]) => {
    for (const r of results) if (r.errors) expect(REFUSALS, r.errors[0]!.message).toContain(r.errors[0]!.extensions?.code);
  };

  it('answers every command racing on one space with success or a clear refusal, and leaves Docker matching the outcome', async () => {
    const spaces = await Promise.all([0, 1, 2, 3].map((i) => h.createSpace({ templateId, name: `melee-${i}` })));
    // Two of them run, so stop and restart have something to race for.
    for (const s of spaces.slice(0, 2)) await h.startAndWait(s.id);
    await Promise.all(
      spaces.map(async (s, i) => {
        const calls = [
          () => h.admin.client.request(START_SPACE, { id: s.id }),
          () => h.admin.client.request(STOP_SPACE, { id: s.id }),
          () => h.admin.client.request(RESTART_SPACE, { id: s.id }),
          () => h.admin.client.request(DELETE_SPACE, { id: s.id }),
          () => h.admin.client.request(DELETE_SPACE, { id: s.id }),
          () => h.admin.client.request(UPDATE_SPACE, { id: s.id, input: { name: `melee-${i}-renamed` } }),
        ];
        // A different order for each space, so each command is sometimes first.
        const ordered = calls.map((_, k) => calls[(k + i) % calls.length]!);
        refusedClearly(await Promise.all(ordered.map((call) => call())));
      }),
    );
    // Whatever is left may be asked again (e.g. a delete once the start settled): still no internal error.
    for (const s of spaces) {
      const space = await settled(s.id);
      if (space?.status === 'RUNNING') refusedClearly([await h.admin.client.request(DELETE_SPACE, { id: s.id })]);
      const after = await settled(s.id);
      const containers = await h.runtime.listContainers({ 'knot.space': s.id });
      if (after === null) {
        expect(containers).toEqual([]);
        expect(await h.runtime.listVolumes({ 'knot.space': s.id })).toEqual([]);
      } else {
        expect(containers).toHaveLength(after.status === 'RUNNING' ? 1 : 0);
      }
    }
  });

  it('gives createSpace racing deleteTemplate one consistent outcome: the template stays with its spaces, or goes with none', async () => {
    for (const round of [0, 1, 2]) {
      const template = await h.createTemplate({ name: `short-lived-${round}` });
      const creates = [0, 1].map((i) =>
        h.admin.client.request<{ createSpace: SpaceView }>(CREATE_SPACE, { input: { templateId: template.id, name: `orphan-${round}-${i}` } }),
      );
      const del = h.admin.client.request(`mutation($id: ID!) { deleteTemplate(id: $id) }`, { id: template.id });
      const [results, deleted] = [await Promise.all(creates), await del];
      for (const r of results) if (r.data) h.spaceIds.add(r.data.createSpace.id);
      if (deleted.errors) {
        expect(deleted.errors[0]!.extensions!.code).toBe('TEMPLATE_IN_USE');
        expect(results.some((r) => !r.errors)).toBe(true);
      } else {
        for (const r of results) expect(r.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      }
      for (const r of results) if (r.errors) expect(r.errors[0]!.extensions!.code).toBe('NOT_FOUND');
    }
  });

  it('gives createSpace racing deleteUser one consistent outcome: the user stays with the space, or goes with none', async () => {
    for (const round of [0, 1, 2]) {
      const user = await createUser(h.server, h.admin.client, `leaver${round}`);
      const create = h.admin.client.request<{ createSpace: SpaceView }>(CREATE_SPACE, {
        input: { templateId, name: `left-behind-${round}`, userId: user.userId },
      });
      const del = h.admin.client.request(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: user.userId });
      const [created, deleted] = [await create, await del];
      if (created.data) h.spaceIds.add(created.data.createSpace.id);
      if (deleted.errors) {
        expect(deleted.errors[0]!.extensions!.code).toBe('USER_HAS_SPACES');
        expect(created.errors).toBeUndefined();
        // The acknowledged space exists, and is not lost to a cascade.
        expect((await h.admin.client.request(GET_SPACE, { id: created.data!.createSpace.id })).errors).toBeUndefined();
      } else {
        expect(created.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      }
    }
  });

  async function named(name: string) {
    const data = await h.admin.client.data<{ spaces: SpaceView[] }>(`{ spaces { id name status } }`);
    return data.spaces.filter((s) => s.name === name);
  }
});
