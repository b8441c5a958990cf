import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime } from '../../server/src/runtime/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { setupAdmin, startTestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import {
  CREATE_SPACE,
  CREATE_TEMPLATE,
  DELETE_SPACE,
  GET_SPACE,
  START_SPACE,
  STOP_SPACE,
  busyboxJob,
  containerOf,
  startSpacesHarness,
  type SpacesHarness,
  type SpaceView,
} from './fixture.js';

const run = promisify(execFile);

/** Docker is the truth: what happens to containers outside Knot, and what a restarted Knot finds. */
describe('a container that dies outside Knot', () => {
  let h: SpacesHarness;
  let templateId: string;
  beforeAll(async () => {
    h = await startSpacesHarness();
    templateId = (await h.createTemplate({ name: 'busybox', volumes: `volumes:\n  data_\${{ .space.id }}:\n` })).id;
  });
  afterAll(() => h.dispose());

  it('fails the space with the exit code when the container is killed (docker kill), and removes the container', async () => {
    const space = await h.createSpace({ templateId, name: 'victim' });
    await h.startAndWait(space.id);
    const sub = await h.watch(space.id);
    await run('docker', ['kill', containerOf(space.id)]);
    const failed = await sub.next((e) => e.spaceChanged.space?.status !== 'RUNNING');
    sub.close();
    expect(failed.spaceChanged.space!.status).toBe('FAILED');
    expect(failed.spaceChanged.space!.error).toMatch(/exited unexpectedly with exit code 137/);
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();
    // The server acted on its own: the audit log names it, with no user behind it.
    const audit = await h.admin.client.data<{ auditLog: { entries: { actorId: string | null; actorName: string; action: string; objectId: string }[] } }>(
      `{ auditLog(first: 20) { entries { actorId actorName action objectId } } }`,
    );
    expect(audit.auditLog.entries.find((e) => e.objectId === space.id && e.action === 'failSpace')).toMatchObject({ actorId: null, actorName: 'reconciler' });
    // Its data is kept: a failed space can be started again.
    expect(await h.runtime.listVolumes({ 'knot.space': space.id })).toEqual([`data_${space.id}`]);
    expect((await h.startAndWait(space.id)).status).toBe('RUNNING');
  });

  it('fails the space when its container is removed outside Knot', async () => {
    const space = await h.createSpace({ templateId, name: 'removed' });
    await h.startAndWait(space.id);
    const sub = await h.watch(space.id);
    await run('docker', ['rm', '-f', containerOf(space.id)]);
    const failed = await sub.next((e) => e.spaceChanged.space?.status !== 'RUNNING');
    sub.close();
    expect(failed.spaceChanged.space!.status).toBe('FAILED');
    expect(failed.spaceChanged.space!.error).toMatch(/exit code|removed outside Knot/);
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();
  });

  it('replaces a leftover container holding the space name (left by a crash) when the space starts', async () => {
    const space = await h.createSpace({ templateId, name: 'haunted' });
    const leftover = await h.runtime.runContainer({
      name: containerOf(space.id),
      image: BUSYBOX_IMAGE,
      cmd: ['sleep', '3600'],
      labels: { 'knot.managed': 'true', 'knot.space': space.id, 'knot.test': 'leftover' },
    });
    const running = await h.startAndWait(space.id);
    expect(running.status).toBe('RUNNING');
    const container = await h.runtime.inspectContainer(containerOf(space.id));
    expect(container!.id).not.toBe(leftover);
    expect(container!.labels['knot.test']).toBeUndefined();
    expect(await h.runtime.listContainers({ 'knot.space': space.id })).toHaveLength(1);
  });

  it('leaves a space RUNNING when only a command inside it exits', async () => {
    const [space] = (await h.admin.client.data<{ spaces: SpaceView[] }>(`{ spaces { id name status } }`)).spaces.filter((s) => s.name === 'victim');
    expect(await h.exec(space!.id, ['sh', '-c', 'exit 0'])).toBe('');
    await h.runtime.execCollect(containerOf(space!.id), ['sh', '-c', 'exit 3']);
    expect((await h.space(space!.id)).status).toBe('RUNNING');
  });
});

describe('a Knot server restarted while spaces were in flight', () => {
  const runtime = createDockerRuntime();
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: postgres.Sql;
  const spaceIds: string[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    sql = postgres(database.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    for (const id of spaceIds) {
      await runtime.stopAndRemoveContainer(containerOf(id), { timeoutSeconds: 0 }).catch(() => {});
      for (const v of await runtime.listVolumes({ 'knot.space': id })) await runtime.removeVolume(v).catch(() => {});
    }
    runtime.close();
    await sql.end();
    await database.drop();
  });

  it('settles every transitional space with what Docker has, and leaves healthy running ones alone', async () => {
    // First server: four spaces, two of them running.
    const first = await startTestServer({ databaseUrl: database.url });
    const admin = await setupAdmin(first);
    const template = await admin.client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, {
      input: { name: 'busybox', job: busyboxJob(), volumes: `volumes:\n  data_\${{ .space.id }}:\n` },
    });
    const make = async (name: string) => {
      const made = await admin.client.data<{ createSpace: SpaceView }>(CREATE_SPACE, { input: { templateId: template.createTemplate.id, name } });
      spaceIds.push(made.createSpace.id);
      return made.createSpace.id;
    };
    const [cutOff, stopping, healthy, vanished, deleting] = [await make('cut-off'), await make('stopping'), await make('healthy'), await make('vanished'), await make('deleting')];
    for (const id of [stopping, healthy, vanished]) {
      await admin.client.data(START_SPACE, { id });
      await waitFor(async () => (await admin.client.data<{ space: SpaceView }>(GET_SPACE, { id })).space.status === 'RUNNING', { what: 'RUNNING' });
    }
    const healthyContainer = await runtime.inspectContainer(containerOf(healthy));
    await admin.client.close();
    await first.stop();

    // While no Knot runs: a start cut off halfway (its container made, its row still STARTING), a
    // stop cut off, a container removed by hand, a delete cut off (its container and volume still there).
    await sql`update spaces set status = 'STARTING' where id = ${cutOff}`;
    await runtime.runContainer({
      name: containerOf(cutOff),
      image: BUSYBOX_IMAGE,
      cmd: ['sleep', '3600'],
      labels: { 'knot.managed': 'true', 'knot.space': cutOff, 'knot.test': 'leftover' },
    });
    await sql`update spaces set status = 'STOPPING' where id = ${stopping}`;
    await runtime.stopAndRemoveContainer(containerOf(vanished), { timeoutSeconds: 0 });
    await runtime.createVolume(`data_${deleting}`, { 'knot.managed': 'true', 'knot.space': deleting });
    // The delete was cut off before its first step: its container still runs.
    await runtime.runContainer({
      name: containerOf(deleting),
      image: BUSYBOX_IMAGE,
      cmd: ['sleep', '3600'],
      labels: { 'knot.managed': 'true', 'knot.space': deleting },
    });
    await sql`update spaces set status = 'DELETING' where id = ${deleting}`;

    const second = await startTestServer({ databaseUrl: database.url });
    try {
      const client = second.client(admin.token);
      const status = async (id: string) => (await client.request<{ space: SpaceView }>(GET_SPACE, { id })).data?.space ?? null;
      const settled = await waitFor(async () => {
        const [a, b, c, d, e] = await Promise.all([cutOff, stopping, healthy, vanished, deleting].map(status));
        return a?.status === 'FAILED' && b?.status === 'STOPPED' && d?.status === 'FAILED' && e === null ? { a: a!, c: c!, d: d! } : null;
      }, { what: 'the boot reconciliation' });

      expect(settled.a.error).toMatch(/Knot restarted while the space was starting/);
      expect(await runtime.inspectContainer(containerOf(cutOff))).toBeNull();
      expect(await runtime.inspectContainer(containerOf(stopping))).toBeNull();
      expect(settled.d.error).toMatch(/removed outside Knot/);
      expect(await runtime.listVolumes({ 'knot.space': deleting })).toEqual([]);
      expect(await runtime.inspectContainer(containerOf(deleting))).toBeNull();
      // A server restart never touches a space that is fine.
      expect(settled.c.status).toBe('RUNNING');
      expect((await runtime.inspectContainer(containerOf(healthy)))!.id).toBe(healthyContainer!.id);

      // And the cut-off space starts again normally.
      await client.data(START_SPACE, { id: cutOff });
      await waitFor(async () => (await status(cutOff))?.status === 'RUNNING', { what: 'a fresh start' });
      expect((await runtime.inspectContainer(containerOf(cutOff)))!.labels['knot.test']).toBeUndefined();
      await client.close();
    } finally {
      await second.stop();
    }
  });
});

describe('Docker unreachable', () => {
  it('refuses startSpace and deleteSpace with RUNTIME_UNAVAILABLE and leaves the space as it was', async () => {
    const h = await startSpacesHarness({ config: { dockerHost: 'unix:///tmp/knot-no-docker-here.sock' } });
    try {
      const template = await h.createTemplate({ name: 'busybox' });
      const space = await h.createSpace({ templateId: template.id, name: 'stranded' });
      const started = Date.now();
      const res = await h.admin.client.request(START_SPACE, { id: space.id });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res.errors![0]!.extensions!.code).toBe('RUNTIME_UNAVAILABLE');
      expect(res.errors![0]!.message).toMatch(/Docker engine is not reachable at unix:\/\/\/tmp\/knot-no-docker-here\.sock/);
      expect((await h.space(space.id)).status).toBe('STOPPED');

      const del = await h.admin.client.request(DELETE_SPACE, { id: space.id });
      expect(del.errors![0]!.extensions!.code).toBe('RUNTIME_UNAVAILABLE');
      expect((await h.space(space.id))).toMatchObject({ status: 'STOPPED', error: null });
      const stop = await h.admin.client.request(STOP_SPACE, { id: space.id });
      expect(stop.errors![0]!.extensions!.code).toMatch(/RUNTIME_UNAVAILABLE|INVALID_TRANSITION/);
    } finally {
      await h.dispose();
    }
  });
});
