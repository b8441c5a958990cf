import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import {
  DELETE_SPACE,
  RESTART_SPACE,
  START_SPACE,
  STOP_SPACE,
  busyboxJob,
  containerOf,
  startSpacesHarness,
  type SpacesHarness,
} from './fixture.js';

/** Start, stop, restart and delete, each checked against what Docker itself reports. */
describe('the space lifecycle on a real Docker engine', () => {
  let h: SpacesHarness;
  let templateId: string;
  beforeAll(async () => {
    h = await startSpacesHarness();
    templateId = (
      await h.createTemplate({
        name: 'busybox',
        job: busyboxJob(`volumes:\n  - home_\${{ .space.id }}:/home/data\n`),
        volumes: `volumes:\n  cache_\${{ .space.id }}:\n`,
      })
    ).id;
  });
  afterAll(() => h.dispose());

  it('starts STOPPED → STARTING → RUNNING live, with a labelled container, the agent env and its volumes', async () => {
    const space = await h.createSpace({ templateId, name: 'life' });
    const sub = await h.watch(space.id);
    const started = await h.admin.client.data<{ startSpace: { status: string } }>(START_SPACE, { id: space.id });
    expect(started.startSpace.status).toBe('STARTING');

    const starting = await sub.next((e) => e.spaceChanged.kind === 'STATUS');
    expect(starting.spaceChanged.space!.status).toBe('STARTING');
    const running = await sub.next((e) => e.spaceChanged.kind === 'STATUS');
    expect(running.spaceChanged.space!.status).toBe('RUNNING');
    expect(running.spaceChanged.space!.error).toBeNull();
    sub.close();

    const container = await h.runtime.inspectContainer(containerOf(space.id));
    expect(container?.running).toBe(true);
    expect(container!.labels).toMatchObject({
      'knot.managed': 'true',
      'knot.space': space.id,
      'knot.owner': h.admin.userId,
      'knot.template': templateId,
    });
    expect(container!.env.KNOT_SPACE_ID).toBe(space.id);
    expect(container!.env.KNOT_SERVER).toMatch(/^http:\/\/host\.docker\.internal:\d+/);
    expect(container!.env.KNOT_AGENT_TOKEN).toMatch(/^knota_/);
    expect((await h.runtime.listVolumes({ 'knot.space': space.id })).sort()).toEqual([`cache_${space.id}`, `home_${space.id}`]);
  });

  it('stops RUNNING → STOPPING → STOPPED live: the container is gone, the volumes stay', async () => {
    const [space] = await spacesNamed('life');
    const sub = await h.watch(space!.id);
    const stopped = await h.admin.client.data<{ stopSpace: { status: string } }>(STOP_SPACE, { id: space!.id });
    expect(stopped.stopSpace.status).toBe('STOPPING');
    expect((await sub.next((e) => e.spaceChanged.kind === 'STATUS')).spaceChanged.space!.status).toBe('STOPPING');
    expect((await sub.next((e) => e.spaceChanged.kind === 'STATUS')).spaceChanged.space!.status).toBe('STOPPED');
    sub.close();

    expect(await h.runtime.inspectContainer(containerOf(space!.id))).toBeNull();
    expect((await h.runtime.listVolumes({ 'knot.space': space!.id })).sort()).toEqual([`cache_${space!.id}`, `home_${space!.id}`]);
  });

  it('keeps what was written to a volume across stop and start', async () => {
    const space = await h.createSpace({ templateId, name: 'keeper' });
    await h.startAndWait(space.id);
    await h.exec(space.id, ['sh', '-c', 'echo "written before the stop" > /home/data/note.txt; echo lost > /tmp/scratch.txt']);
    await h.stopAndWait(space.id);
    await h.startAndWait(space.id);
    expect(await h.exec(space.id, ['cat', '/home/data/note.txt'])).toBe('written before the stop\n');
    // Outside a volume nothing survives: the stop removed the container.
    const scratch = await h.runtime.execCollect(containerOf(space.id), ['cat', '/tmp/scratch.txt']);
    expect(scratch.exitCode).not.toBe(0);
  });

  it('refuses to stop a stopped space and to start a running one, changing nothing', async () => {
    const [keeper] = await spacesNamed('keeper');
    const before = await h.runtime.inspectContainer(containerOf(keeper!.id));
    const start = await h.admin.client.request(START_SPACE, { id: keeper!.id });
    expect(start.errors![0]!.extensions!.code).toBe('INVALID_TRANSITION');
    expect(start.errors![0]!.message).toMatch(/running/);
    expect((await h.runtime.inspectContainer(containerOf(keeper!.id)))!.id).toBe(before!.id);

    const [life] = await spacesNamed('life');
    const stop = await h.admin.client.request(STOP_SPACE, { id: life!.id });
    expect(stop.errors![0]!.extensions!.code).toBe('INVALID_TRANSITION');
    expect((await h.space(life!.id)).status).toBe('STOPPED');
  });

  it('restarts as one server-side operation, even when the client goes away right after asking', async () => {
    const [keeper] = await spacesNamed('keeper');
    const before = await h.runtime.inspectContainer(containerOf(keeper!.id));
    const sub = await h.watch(keeper!.id);

    // Send the mutation on a socket of its own and drop the connection without reading the answer.
    const ws = h.admin.client.ws();
    await new Promise<void>((resolve, reject) => {
      ws.subscribe({ query: RESTART_SPACE, variables: { id: keeper!.id } }, { next: () => resolve(), error: reject, complete: () => resolve() });
    });
    await ws.dispose();

    const statuses: string[] = [];
    for (;;) {
      const event = await sub.next((e) => e.spaceChanged.kind === 'STATUS');
      statuses.push(event.spaceChanged.space!.status);
      if (event.spaceChanged.space!.status === 'RUNNING') break;
    }
    sub.close();
    expect(statuses).toEqual(['STOPPING', 'STARTING', 'RUNNING']);
    const after = await h.runtime.inspectContainer(containerOf(keeper!.id));
    expect(after?.running).toBe(true);
    expect(after!.id).not.toBe(before!.id);
    expect(await h.exec(keeper!.id, ['cat', '/home/data/note.txt'])).toBe('written before the stop\n');
  });

  it('refuses to delete a running space (SPACE_NOT_STOPPED) and leaves it running', async () => {
    const [keeper] = await spacesNamed('keeper');
    const res = await h.admin.client.request(DELETE_SPACE, { id: keeper!.id });
    expect(res.errors![0]!.extensions!.code).toBe('SPACE_NOT_STOPPED');
    expect(res.errors![0]!.message).toMatch(/stop it before deleting/);
    expect((await h.space(keeper!.id)).status).toBe('RUNNING');
    expect((await h.runtime.inspectContainer(containerOf(keeper!.id)))?.running).toBe(true);
  });

  it('deletes a stopped space: DELETING, then the row, the container and every volume are gone', async () => {
    const [keeper] = await spacesNamed('keeper');
    await h.stopAndWait(keeper!.id);
    const sub = await h.watch(keeper!.id);
    expect((await h.admin.client.data<{ deleteSpace: boolean }>(DELETE_SPACE, { id: keeper!.id })).deleteSpace).toBe(true);
    const deleting = await sub.next();
    expect(deleting.spaceChanged.kind).toBe('STATUS');
    expect(deleting.spaceChanged.space!.status).toBe('DELETING');
    const deleted = await sub.next();
    expect(deleted.spaceChanged).toMatchObject({ kind: 'DELETED', spaceId: keeper!.id, space: null });
    await waitFor(() => sub.completed, { what: 'the subscription to end after DELETED' });

    expect(await h.runtime.inspectContainer(containerOf(keeper!.id))).toBeNull();
    expect(await h.runtime.listVolumes({ 'knot.space': keeper!.id })).toEqual([]);
    const gone = await h.admin.client.request(`query($id: ID!) { space(id: $id) { id } }`, { id: keeper!.id });
    expect(gone.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('fails a space whose command cannot run, saying why, and deletes it', async () => {
    const broken = await h.createTemplate({ name: 'no-such-command', job: `image: knot-test/busybox:latest\ncommand: [/nope]\n` });
    const space = await h.createSpace({ templateId: broken.id, name: 'broken' });
    const sub = await h.watch(space.id);
    await h.admin.client.data(START_SPACE, { id: space.id });
    const failed = await sub.next((e) => e.spaceChanged.space?.status === 'FAILED');
    sub.close();
    // The engine refuses the start outright, or its init runs and reports exit code 127: either
    // way the person reads which command could not run.
    expect(failed.spaceChanged.space!.error).toMatch(/could not be started: .*\/nope|exit code 127\. Its last output: .*\/nope/);
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();

    await h.admin.client.data(DELETE_SPACE, { id: space.id });
    expect(await h.runtime.listVolumes({ 'knot.space': space.id })).toEqual([]);
  });

  async function spacesNamed(name: string) {
    const data = await h.admin.client.data<{ spaces: { id: string; name: string }[] }>(`{ spaces { id name } }`);
    return data.spaces.filter((s) => s.name === name);
  }
});
