// The garbage collector on the real engine: one test per rule. Objects a crash would leave behind
// are made by hand, labelled as Knot labels them, and each test waits for a sweep to take them
// (or, for what must stay, for a marker made after them to be taken: that sweep saw both).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime, type Labels } from '../../server/src/runtime/index.js';
import { SWEEP_LOCK_KEY } from '../../server/src/spaces/garbage-collector.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { captureLogs } from '../helpers/logs.js';
import { startTestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';
import { busyboxJob, containerOf, START_SPACE, startSpacesHarness, type SpacesHarness, type SpaceView } from './fixture.js';

const AUDIT = `query { auditLog(first: 100) { entries { actorId actorName action objectType objectId details } } }`;
type AuditEntry = { actorId: string | null; actorName: string; action: string; objectType: string; objectId: string; details: Record<string, string> };

describe('garbage collector', () => {
  // Sweeps every few tenths of a second, and takes what is a second old.
  const logs = captureLogs('info');
  let fast: SpacesHarness;
  // Never sweeps by itself (the test calls sweep()), and protects an hour.
  let slow: SpacesHarness;
  // Its own, to make objects "from outside" and to clean up after the servers are gone.
  const runtime = createDockerRuntime();
  const containers = new Set<string>();
  const volumes = new Set<string>();

  beforeAll(async () => {
    [fast, slow] = await Promise.all([
      // A grace of 3 s, not 1: on a loaded machine a start can spend over a second between creating
      // its container and recording RUNNING, and a shorter grace takes that container for a leftover.
      startSpacesHarness({ config: { gcIntervalSeconds: 0.3, gcGraceSeconds: 3 }, logger: logs.logger }),
      startSpacesHarness({ config: { gcIntervalSeconds: 3600, gcGraceSeconds: 3600 } }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([fast?.dispose(), slow?.dispose()]);
    for (const name of containers) await runtime.stopAndRemoveContainer(name, { timeoutSeconds: 0 }).catch(() => {});
    for (const name of volumes) await runtime.removeVolume(name).catch(() => {});
    runtime.close();
  });

  const unique = (what: string) => `knot-gc-test-${what}-${randomBytes(4).toString('hex')}`;
  const knotLabels = (h: SpacesHarness, spaceId: string): Labels => ({
    'knot.managed': 'true',
    'knot.instance': h.server.app.services.instanceId,
    'knot.space': spaceId,
  });

  async function container(labels: Labels, name = unique('container')): Promise<string> {
    containers.add(name);
    await runtime.runContainer({ name, image: BUSYBOX_IMAGE, cmd: ['sleep', '3600'], labels });
    return name;
  }

  async function volume(labels: Labels): Promise<string> {
    const name = unique('volume');
    volumes.add(name);
    await runtime.createVolume(name, labels);
    return name;
  }

  const containerExists = async (name: string) => (await runtime.inspectContainer(name)) !== null;
  const volumeExists = async (name: string) => (await runtime.listVolumes()).includes(name);

  /** An orphan of the fast server's own; once it is gone, a sweep has run over everything made before it. */
  async function sweptPast(): Promise<void> {
    const marker = await container(knotLabels(fast, randomUUID()));
    await waitFor(async () => !(await containerExists(marker)), { what: 'a sweep to take the marker' });
  }

  async function auditOf(objectId: string): Promise<AuditEntry[]> {
    const data = await fast.admin.client.data<{ auditLog: { entries: AuditEntry[] } }>(AUDIT);
    return data.auditLog.entries.filter((e) => e.objectId === objectId);
  }

  const audited = (objectId: string) =>
    waitFor(async () => {
      const entries = await auditOf(objectId);
      return entries.length ? entries : null;
    }, { what: `the audit entry for ${objectId}` });

  it('labels every container and volume of a space with the installation id, which every server on the database shares', async () => {
    const template = await fast.createTemplate({ name: unique('labelled'), job: busyboxJob(`volumes:\n  - home_\${{ .space.id }}:/home/data\n`) });
    const space = await fast.createSpace({ templateId: template.id, name: 'labelled' });
    await fast.startAndWait(space.id);
    const { instanceId } = fast.server.app.services;
    expect(instanceId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await runtime.inspectContainer(containerOf(space.id)))?.labels).toMatchObject({ 'knot.instance': instanceId, 'knot.space': space.id });
    expect(await runtime.listVolumes({ 'knot.instance': instanceId, 'knot.space': space.id })).toEqual([`home_${space.id}`]);

    const replica = await startTestServer({ databaseUrl: fast.server.databaseUrl, config: { gcIntervalSeconds: 3600 } });
    try {
      expect(replica.app.services.instanceId).toBe(instanceId);
    } finally {
      await replica.stop();
    }
    expect(slow.server.app.services.instanceId).not.toBe(instanceId);
  });

  it('removes a container whose space no longer exists, and logs and audits it with the system as the actor', async () => {
    const spaceId = randomUUID();
    const name = await container(knotLabels(fast, spaceId));
    await waitFor(async () => !(await containerExists(name)), { what: 'the orphan container to be removed' });

    expect(await audited(name)).toEqual([
      {
        actorId: null,
        actorName: 'garbage-collector',
        action: 'collectContainer',
        objectType: 'container',
        objectId: name,
        details: expect.objectContaining({ spaceId, reason: 'its space no longer exists' }),
      },
    ]);
    expect(logs.lines).toContainEqual(expect.objectContaining({ msg: 'garbage collector removed a container', container: name, spaceId }));
  });

  it('removes a volume whose space no longer exists', async () => {
    const spaceId = randomUUID();
    const name = await volume(knotLabels(fast, spaceId));
    await waitFor(async () => !(await volumeExists(name)), { what: 'the orphan volume to be removed' });
    expect(await audited(name)).toEqual([expect.objectContaining({ actorName: 'garbage-collector', action: 'collectVolume', objectType: 'volume' })]);
    expect(logs.lines).toContainEqual(expect.objectContaining({ msg: 'garbage collector removed a volume', volume: name, spaceId }));
  });

  it('stops and removes containers of STOPPED and FAILED spaces; a RUNNING space keeps its container, every space its volumes', async () => {
    const template = await fast.createTemplate({ name: unique('template') });
    const broken = await fast.createTemplate({ name: unique('broken'), job: `image: ${BUSYBOX_IMAGE}\ncommand: [/no-such-command]\n` });
    const running = await fast.createSpace({ templateId: template.id, name: 'running' });
    const stopped = await fast.createSpace({ templateId: template.id, name: 'stopped' });
    const failed = await fast.createSpace({ templateId: broken.id, name: 'failed' });
    await fast.startAndWait(running.id);
    const sub = await fast.watch(failed.id);
    await fast.admin.client.data(START_SPACE, { id: failed.id });
    await sub.next((e) => e.spaceChanged.space?.status === 'FAILED');
    sub.close();

    // What a server killed halfway through a start would leave: the container up, the row not RUNNING.
    const leftOfStopped = await container(knotLabels(fast, stopped.id), containerOf(stopped.id));
    const leftOfFailed = await container(knotLabels(fast, failed.id));
    const volumeOfStopped = await volume(knotLabels(fast, stopped.id));
    await waitFor(async () => !(await containerExists(leftOfStopped)) && !(await containerExists(leftOfFailed)), {
      what: 'the containers of the stopped and failed spaces to be removed',
    });
    await sweptPast();

    expect((await runtime.inspectContainer(containerOf(running.id)))?.running).toBe(true);
    expect((await fast.space(running.id)).status).toBe('RUNNING');
    expect(await volumeExists(volumeOfStopped)).toBe(true);
    expect((await audited(leftOfStopped))[0]?.details).toMatchObject({ spaceId: stopped.id, reason: 'its space is STOPPED' });
    expect((await audited(leftOfFailed))[0]?.details).toMatchObject({ spaceId: failed.id, reason: 'its space is FAILED' });
  });

  it('never removes a shared volume (it carries no space id)', async () => {
    const { instanceId } = fast.server.app.services;
    const shared = await volume({ 'knot.managed': 'true', 'knot.instance': instanceId, 'knot.shared': 'true' });
    await sweptPast();
    expect(await volumeExists(shared)).toBe(true);
  });

  it("never touches another installation's container or volume, nor one without an installation id", async () => {
    const spaceId = randomUUID();
    const otherInstance = { 'knot.managed': 'true', 'knot.instance': randomUUID(), 'knot.space': spaceId };
    const noInstance = { 'knot.managed': 'true', 'knot.space': spaceId };
    const theirs = await container(otherInstance);
    const theirVolume = await volume(otherInstance);
    const unlabelled = await container(noInstance);
    await sweptPast();
    expect((await runtime.inspectContainer(theirs))?.running).toBe(true);
    expect((await runtime.inspectContainer(unlabelled))?.running).toBe(true);
    expect(await volumeExists(theirVolume)).toBe(true);
  });

  it('leaves an object younger than the grace period alone', async () => {
    const gc = slow.server.app.services.garbageCollector;
    const orphan = await container(knotLabels(slow, randomUUID()));
    const orphanVolume = await volume(knotLabels(slow, randomUUID()));
    const swept = await waitFor(async () => (await gc.sweep()).swept && true, { what: 'a sweep of its own' });
    expect(swept).toBe(true);
    expect(await containerExists(orphan)).toBe(true);
    expect(await volumeExists(orphanVolume)).toBe(true);

    // The same objects once the grace period is over (looked at an hour ahead rather than waited for).
    const later = new Date(Date.now() + 3601_000);
    const result = await gc.sweep(later);
    expect(result).toEqual({ swept: true, removedContainers: [orphan], removedVolumes: [orphanVolume] });
  });

  it("measures the grace period from the space's last status change too", async () => {
    const gc = slow.server.app.services.garbageCollector;
    const broken = await slow.createTemplate({ name: unique('broken'), job: `image: ${BUSYBOX_IMAGE}\ncommand: [/no-such-command]\n` });
    const space: SpaceView = await slow.createSpace({ templateId: broken.id, name: 'just-failed' });
    const leftover = await container(knotLabels(slow, space.id));
    const { createdAt } = (await runtime.listContainers({ 'knot.space': space.id }))[0]!;
    // The status changes after the container was made: at the moment the container turns an hour
    // old, the change is younger than that.
    const sub = await slow.watch(space.id);
    await slow.admin.client.data(START_SPACE, { id: space.id });
    await sub.next((e) => e.spaceChanged.space?.status === 'FAILED');
    sub.close();

    const atContainerGrace = new Date(createdAt.getTime() + 3600_000);
    expect((await gc.sweep(atContainerGrace)).removedContainers).toEqual([]);
    expect(await containerExists(leftover)).toBe(true);
    const result = await gc.sweep(new Date(Date.now() + 3601_000));
    expect(result.removedContainers).toEqual([leftover]);
    expect(await containerExists(leftover)).toBe(false);
  });

  it("removes the volume-fill helper of a server SIGKILLed mid-fill, once no fill could still be using it", async () => {
    const gc = slow.server.app.services.garbageCollector;
    const fillVolume = unique('fill');
    volumes.add(fillVolume);
    // A server preparing a space's injected agent, killed while the engine copies the files in.
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/hanging-agent-fill.ts', fillVolume, slow.server.app.services.instanceId, BUSYBOX_IMAGE], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(() => output.includes('filling'), { what: 'the fill to begin', timeout: 60_000 });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const helpers = await runtime.listContainers({ 'knot.fill': fillVolume });
    expect(helpers.map((h) => h.labels)).toEqual([expect.objectContaining({ 'knot.managed': 'true', 'knot.instance': slow.server.app.services.instanceId })]);
    const helper = helpers[0]!;
    containers.add(helper.name);

    // While it is young it may be another replica's fill in progress: left alone.
    expect((await waitFor(async () => (await gc.sweep()).swept && true, { what: 'a sweep of its own' }))).toBe(true);
    expect(await containerExists(helper.name)).toBe(true);
    // Past the longest copy, it is garbage; the volume is the agent package's, shared, and stays.
    const result = await gc.sweep(new Date(Date.now() + 3601_000));
    expect(result).toEqual({ swept: true, removedContainers: [helper.name], removedVolumes: [] });
    expect(await containerExists(helper.name)).toBe(false);
    expect(await volumeExists(fillVolume)).toBe(true);
  }, 90_000);

  it('sweeps on one replica at a time: while another holds the sweep, this one leaves it', async () => {
    const gc = slow.server.app.services.garbageCollector;
    const orphan = await container(knotLabels(slow, randomUUID()));
    const later = new Date(Date.now() + 3601_000);
    // Another replica's sweep, as far as the database can tell.
    const sql = openSql(slow.server.databaseUrl);
    try {
      const session = await sql.reserve();
      await session`select pg_advisory_lock(${SWEEP_LOCK_KEY})`;
      expect(await gc.sweep(later)).toEqual({ swept: false, removedContainers: [], removedVolumes: [] });
      expect(await containerExists(orphan)).toBe(true);
      await session`select pg_advisory_unlock(${SWEEP_LOCK_KEY})`;
      session.release();
    } finally {
      await sql.end();
    }
    expect((await gc.sweep(later)).removedContainers).toEqual([orphan]);
  });
});
