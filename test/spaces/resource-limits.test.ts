import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { START_SPACE, containerOf, startSpacesHarness, type SpacesHarness } from './fixture.js';

const run = promisify(execFile);

interface DockerHostConfig {
  NanoCpus: number;
  Memory: number;
  MemorySwap: number;
  PidsLimit: number;
}

/** HostConfig as `docker inspect` shows it: Docker's own view, not Knot's. */
async function hostConfig(spaceId: string): Promise<DockerHostConfig> {
  const { stdout } = await run('docker', ['inspect', '--format', '{{json .HostConfig}}', containerOf(spaceId)]);
  return JSON.parse(stdout) as DockerHostConfig;
}

/** The job's limits (cpus, memory, pids_limit) are Docker's limits on the space's container. */
describe('resource limits of a space', () => {
  let h: SpacesHarness;
  beforeAll(async () => {
    h = await startSpacesHarness();
  });
  afterAll(() => h.dispose());

  it('runs the container with the cpus, memory and pids_limit the template names, and no swap on top', async () => {
    const template = await h.createTemplate({
      name: 'sized',
      job: `image: knot-test/busybox\ncommand: [sleep, '3600']\ncpus: 0.5\nmemory: 64m\npids_limit: 64\n`,
    });
    const space = await h.createSpace({ templateId: template.id, name: 'sized' });
    await h.startAndWait(space.id);
    expect(await hostConfig(space.id)).toMatchObject({ NanoCpus: 500_000_000, Memory: 64 * 1024 ** 2, MemorySwap: 64 * 1024 ** 2, PidsLimit: 64 });
    // The pids limit is enforced, not just recorded: the cgroup refuses the 65th process.
    const forks = await h.runtime.execCollect(containerOf(space.id), [
      'sh',
      '-c',
      'pids=; for i in $(seq 80); do sleep 30 >/dev/null 2>&1 & pids="$pids $!"; done; kill $pids',
    ]);
    expect(forks.stderr).toMatch(/can't fork|Resource temporarily unavailable/i);
    await h.stopAndWait(space.id);
  });

  it('fails a running space killed by its memory limit, naming the limit as written', async () => {
    // The command waits for a signal file, so the space is RUNNING before it allocates:
    // this is the events path (a 'die' Knot did not cause), not a failed start.
    const template = await h.createTemplate({
      name: 'hungry',
      job: `image: knot-test/busybox
command: [sh, -c, 'until [ -e /tmp/go ]; do sleep 0.1; done; head -c 256m /dev/zero | tail']
memory: 16m
`,
    });
    const space = await h.createSpace({ templateId: template.id, name: 'hungry' });
    await h.startAndWait(space.id);
    const sub = await h.watch(space.id);
    try {
      await h.exec(space.id, ['touch', '/tmp/go']);
      const failed = await sub.next((e) => e.spaceChanged.space?.status !== 'RUNNING');
      expect(failed.spaceChanged.space).toMatchObject({ status: 'FAILED', error: expect.stringContaining('out of memory (limit 16 MiB)') });
    } finally {
      sub.close();
    }
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();
  });

  it('fails a space that runs out of memory as it starts with the same reason, whichever path notices', async () => {
    const template = await h.createTemplate({
      name: 'greedy',
      job: `image: knot-test/busybox\ncommand: [sh, -c, 'head -c 256m /dev/zero | tail']\nmemory: 16m\n`,
    });
    const space = await h.createSpace({ templateId: template.id, name: 'greedy' });
    const sub = await h.watch(space.id);
    try {
      await h.admin.client.data(START_SPACE, { id: space.id });
      const failed = await sub.next((e) => e.spaceChanged.space?.status === 'FAILED');
      expect(failed.spaceChanged.space!.error).toContain('out of memory (limit 16 MiB)');
    } finally {
      sub.close();
    }
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();
  });
});
