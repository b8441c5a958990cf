// The agent Knot injects into a Docker space, killed inside a running space, comes back without a
// restart of the space: its icons return and its terminal works again. One that keeps dying is
// started again a few times with growing waits, then Knot stops and says so on the space.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import type { Subscription } from '../helpers/graphql.js';
import { waitFor } from '../helpers/wait.js';
import { containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { WATCH_SERVICES, agentBundle, agentJob, plainJob, type ServicesChange } from './fixture.js';

const RESTART_LIMIT = 2;

describe('an injected agent that dies in a running space', () => {
  let h: SpacesHarness;
  const subs: Subscription<ServicesChange>[] = [];

  beforeAll(async () => {
    await agentBundle();
    h = await startSpacesHarness({ host: '0.0.0.0', config: { agentTimeoutMs: 3_000, agentRestartBackoffMs: 300, agentRestartLimit: RESTART_LIMIT } });
  });
  afterAll(async () => {
    for (const sub of subs) sub.close();
    await h?.dispose();
  });

  async function startSpace(name: string, job: string) {
    const template = await h.createTemplate({ name: `${name} template`, job, withSSH: true, withTerminal: true });
    const space = await h.createSpace({ templateId: template.id, name });
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: space.id });
    subs.push(sub);
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    await h.startAndWait(space.id);
    return { id: space.id, sub };
  }

  /** Pids of the injected agent's processes in the space (ps runs in the space itself). */
  async function agentPids(spaceId: string): Promise<string[]> {
    const lines = (await h.exec(spaceId, ['ps', '-o', 'pid,args'])).split('\n');
    return lines.filter((l) => l.includes('/.knot/agent/knot-agent.mjs')).map((l) => l.trim().split(/\s+/)[0]!);
  }

  async function killAgent(spaceId: string): Promise<string> {
    const [pid] = await waitFor(async () => {
      const pids = await agentPids(spaceId);
      return pids.length ? pids : null;
    }, { what: 'an agent process' });
    await h.exec(spaceId, ['kill', '-9', pid!]);
    return pid!;
  }

  it('comes back: its icons return and its terminal works, without a restart of the space', async () => {
    const { id, sub } = await startSpace('revived', plainJob(BUSYBOX_IMAGE));
    await sub.next((e) => !!e.spaceChanged.space?.services.ssh, 30_000);
    const container = await h.runtime.inspectContainer(containerOf(id));
    expect(container!.labels['knot.agent']).toBe('injected');

    const killed = await killAgent(id);
    // The icons go with it...
    await sub.next((e) => e.spaceChanged.space?.services.ssh === false, 30_000);
    // ...and come back with a new agent process in the same container.
    const back = await sub.next((e) => !!e.spaceChanged.space?.services.ssh && (e.spaceChanged.space?.services.ports.length ?? 0) > 0, 30_000);
    expect(back.spaceChanged.space).toMatchObject({ status: 'RUNNING', error: null });
    const pids = await agentPids(id);
    expect(pids).toHaveLength(1);
    expect(pids[0]).not.toBe(killed);
    expect((await h.runtime.inspectContainer(containerOf(id)))!.id).toBe(container!.id);

    // The terminal (the agent's shell) works again.
    await waitFor(() => h.server.app.services.agents.isConnected(id), { what: 'the agent to connect' });
    const shell = await h.server.app.services.agents.openShell(id, { shell: 'sh', cols: 80, rows: 24 });
    let output = '';
    shell.stream.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
    shell.stream.write('echo "re""vived"\r');
    await waitFor(() => output.includes('revived'), { what: `the shell's echo in ${JSON.stringify(output)}` });
    shell.stream.write('exit\r');
    await shell.exited;
  });

  it('is started again at most the limit of times in a row, then the space says why its icons are gone', async () => {
    const { id, sub } = await startSpace('crashing', plainJob(BUSYBOX_IMAGE));
    await sub.next((e) => !!e.spaceChanged.space?.services.ssh, 30_000);
    // The first death and each revived agent's: the limit's worth of restarts, then one death more.
    let last = '';
    for (let death = 0; death <= RESTART_LIMIT; death++) {
      const pid = await waitFor(async () => (await agentPids(id)).find((p) => p !== last), { timeout: 30_000, what: `agent ${death + 1} to run` });
      await h.exec(id, ['kill', '-9', pid]);
      last = pid;
    }
    const given = await sub.next((e) => /no longer starts it again/.test(e.spaceChanged.space?.error ?? ''), 60_000);
    expect(given.spaceChanged.space!.status).toBe('RUNNING');
    expect(given.spaceChanged.space!.error).toContain(`stopped ${RESTART_LIMIT + 1} times in a row`);
    expect(given.spaceChanged.space!.error).toContain('/tmp/knot-agent.log');
    expect(await agentPids(id)).toEqual([]);

    // A new start of the space brings it its agent again, and clears the notice.
    await h.admin.client.data(`mutation($id: ID!) { restartSpace(id: $id) { id } }`, { id });
    const again = await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && !!e.spaceChanged.space.services.ssh, 60_000);
    expect(again.spaceChanged.space!.error).toBeNull();
  });

  it("leaves a template's own agent alone: its container is not marked as Knot's to revive", async () => {
    const { id, sub } = await startSpace('own-agent', agentJob());
    await sub.next((e) => (e.spaceChanged.space?.services.ports.length ?? 0) === 2, 30_000);
    const container = await h.runtime.inspectContainer(containerOf(id));
    expect(container!.labels['knot.agent']).toBeUndefined();
  });
});
