// A server SIGKILLed while it fills a volume (the agent's package) leaves the fill's helper
// container (created, never started) and maybe part of the files. The next server on the same
// installation removes the helper as soon as the killed one's heartbeat has stopped (not after the
// 10 minutes any helper gets), and a fill never trusts a volume a broken-off copy left: it copies
// everything again. Real processes, a real kill, the real engine.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pack } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FILL_HELPER_LABEL, FILL_OWNER_LABEL, createDockerRuntime } from '../../server/src/runtime/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from './fixture.js';

const CHILD = fileURLToPath(new URL('../helpers/hanging-agent-fill.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PART_BYTES = 4 * 1024 * 1024;
const AUDIT = `query { auditLog(first: 100) { entries { actorName action objectType objectId details } } }`;
type AuditEntry = { actorName: string; action: string; objectType: string; objectId: string; details: Record<string, string> };

async function tarOf(files: [string, Buffer][]): Promise<Buffer> {
  const tar = pack();
  for (const [name, data] of files) tar.entry({ name }, data);
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('a server killed while filling a volume', () => {
  const runtime = createDockerRuntime();
  const volume = `knot-fill-test-${randomBytes(4).toString('hex')}`;
  const probe = `knot-fill-probe-${randomBytes(4).toString('hex')}`;
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let next: SpacesHarness | undefined;
  let childPid: number | undefined;

  afterAll(async () => {
    if (childPid) {
      try {
        process.kill(childPid, 'SIGKILL');
      } catch {}
    }
    await next?.dispose();
    for (const helper of await runtime.listContainers({ [FILL_HELPER_LABEL]: volume })) await runtime.stopAndRemoveContainer(helper.id, { timeoutSeconds: 0 });
    await runtime.stopAndRemoveContainer(probe, { timeoutSeconds: 0 }).catch(() => {});
    await runtime.removeVolume(volume).catch(() => {});
    await database?.drop();
    runtime.close();
  });

  /** The volume's files as `name size` lines, read by a busybox container that mounts it. */
  async function volumeFiles(): Promise<string> {
    const { stdout } = await runtime.execCollect(probe, ['sh', '-c', 'cd /v && for f in * .complete; do [ -e "$f" ] && echo "$f $(wc -c < "$f")"; done; true']);
    return stdout.trim();
  }

  it('leaves nothing the next server keeps or trusts', async () => {
    database = await createTestDatabase();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, volume, '', BUSYBOX_IMAGE, database.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    childPid = child.pid;
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const owner = await waitFor(() => /filling (\S+)/.exec(output)?.[1], { timeout: 90_000, what: `the child to start filling:\n${output}` });

    // Mid-fill: the helper exists, labelled with the killed server's replica.
    const helpers = () => runtime.listContainers({ [FILL_HELPER_LABEL]: volume });
    const [helper] = await helpers();
    expect(helper).toMatchObject({ state: 'created', labels: { [FILL_OWNER_LABEL]: owner } });

    child.kill('SIGKILL');
    await exited;
    childPid = undefined;
    // What the kill left: the never-started helper, and a volume without the marker.
    expect((await helpers()).map((h) => h.id)).toEqual([helper!.id]);
    await runtime.runContainer({ name: probe, image: BUSYBOX_IMAGE, cmd: ['sleep', '3600'], mounts: [{ type: 'volume', source: volume, target: '/v', readOnly: true }] });
    expect(await volumeFiles()).not.toContain('.complete');

    // The next server on this installation removes the helper once the killed one's heartbeat stopped.
    next = await startSpacesHarness({ databaseUrl: database.url, config: { gcIntervalSeconds: 0.3, gcGraceSeconds: 1, replicaHeartbeatMs: 200 } });
    await waitFor(async () => (await helpers()).length === 0, { timeout: 30_000, what: 'the helper to be collected' });
    const audit = await next.admin.client.data<{ auditLog: { entries: AuditEntry[] } }>(AUDIT);
    expect(audit.auditLog.entries.find((e) => e.objectId === helper!.name)).toMatchObject({
      actorName: 'garbage-collector',
      action: 'collectContainer',
      details: { reason: 'a volume fill helper of a server that is gone' },
    });

    // An archive cut inside its first file (a copy broken off on any engine) leaves that file
    // half-written and no marker; the fill fails and removes its helper.
    const whole = await tarOf([['part', Buffer.alloc(PART_BYTES, 0x6b)]]);
    const cut = whole.subarray(0, 512 + PART_BYTES / 2);
    await expect(runtime.fillVolume({ name: volume, image: BUSYBOX_IMAGE, marker: '.complete', archive: () => Readable.from([cut]) })).rejects.toThrow();
    expect(await volumeFiles()).toBe(`part ${PART_BYTES / 2}`);
    expect(await helpers()).toEqual([]);

    // The half-filled volume is not taken for a complete one: the next fill copies it all.
    const full = await tarOf([['part', Buffer.alloc(PART_BYTES, 0x6c)], ['more', Buffer.from('the rest of the files\n')], ['.complete', Buffer.from('done\n')]]);
    const outcome = await next.server.app.services.runtime.fillVolume({ name: volume, image: BUSYBOX_IMAGE, marker: '.complete', archive: () => Readable.from([full]) });
    expect(outcome).toBe('filled');
    expect(await volumeFiles()).toBe(`more 22\npart ${PART_BYTES}\n.complete 5`);
    const { stdout } = await runtime.execCollect(probe, ['sh', '-c', 'head -c 1 /v/part']);
    expect(stdout).toBe('l'); // the new copy's byte, not the killed fill's 'k'
    // And it left no helper of its own.
    expect(await helpers()).toEqual([]);
  }, 180_000);
});
