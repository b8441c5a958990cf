/**
 * Space start on a swarm worker as a user sees it (startSpace → RUNNING on a spaceChanged
 * subscription, KNOT_RUNTIME=swarm) against the floor: a service created on the manager with the
 * same image and one task pinned to the same worker, until its task runs. Both are measured in the
 * same run, interleaved run by run, on a swarm of a manager and two workers in network namespaces
 * (test/helpers/swarm.ts). The space's volume exists after its first start, as on every start but
 * the first. Target: median ratio at most 1.15.
 */
import { availableParallelism, loadavg } from 'node:os';
import Docker from 'dockerode';
import { BUSYBOX_IMAGE } from '../test/helpers/env.js';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { startTestSwarm } from '../test/helpers/swarm.js';
import { CREATE_SPACE, CREATE_TEMPLATE, SPACE_CHANGED, START_SPACE, STOP_SPACE } from '../test/spaces/fixture.js';
import { dockerOptions } from '../server/src/runtime/connection.js';
import { median } from './docker-floor.js';
import type { BenchResult } from './types.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);

export async function benchSwarmStart(): Promise<BenchResult[]> {
  const swarm = await startTestSwarm({ workers: 2, images: [BUSYBOX_IMAGE] });
  const worker = swarm.workers[0]!;
  const server = await startTestServer({ host: '0.0.0.0', config: { runtime: 'swarm', dockerHost: swarm.manager.dockerHost, swarmEngines: swarm.engines } });
  server.app.services.config.agentUrl = `http://${swarm.hostIp}:${new URL(server.url).port}`;
  const manager = new Docker(dockerOptions(swarm.manager.dockerHost));
  try {
    const { client } = await setupAdmin(server);
    const job = `image: ${BUSYBOX_IMAGE}\ncommand: [sleep, '3600']\nagent: false\nconstraints: ["node.hostname == ${worker.hostname}"]\nvolumes:\n  - home_\${{ .space.id }}:/data\n`;
    const template = await client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, { input: { name: 'bench swarm', job } });
    const space = (await client.data<{ createSpace: { id: string } }>(CREATE_SPACE, { input: { templateId: template.createTemplate.id, name: 'bench' } })).createSpace;
    const sub = client.subscribe<{ spaceChanged: { space: { status: string; error: string | null } | null } }>(SPACE_CHANGED, { id: space.id });
    await sub.next();
    const until = async (status: string) => {
      const e = await sub.next((ev) => [status, 'FAILED'].includes(ev.spaceChanged.space?.status ?? ''), 120_000);
      if (e.spaceChanged.space?.status === 'FAILED') throw new Error(`space failed: ${e.spaceChanged.space.error}`);
    };
    const nodeId = (await manager.listNodes()).find((n) => (n as { Description?: { Hostname?: string } }).Description?.Hostname === worker.hostname)!.ID;

    const knot: number[] = [];
    const floor: number[] = [];
    for (let i = -1; i < RUNS; i++) {
      let t = performance.now();
      await client.data(START_SPACE, { id: space.id });
      await until('RUNNING');
      if (i >= 0) knot.push(performance.now() - t);
      await client.data(STOP_SPACE, { id: space.id });
      await until('STOPPED');

      t = performance.now();
      const name = `bench-floor-${swarm.id}-${i + 1}`;
      const created = await manager.createService({
        Name: name,
        TaskTemplate: {
          ContainerSpec: { Image: BUSYBOX_IMAGE, Command: ['sleep', '3600'], Init: true },
          RestartPolicy: { Condition: 'none' },
          Placement: { Constraints: [`node.id == ${nodeId}`] },
        },
        Mode: { Replicated: { Replicas: 1 } },
      } as never);
      for (;;) {
        const tasks = (await manager.listTasks({ filters: JSON.stringify({ service: [name] }) } as never)) as unknown as { Status?: { State?: string } }[];
        if (tasks.some((task) => task.Status?.State === 'running')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (i >= 0) floor.push(performance.now() - t);
      await manager.getService(created.id).remove();
    }
    sub.close();
    await client.close();
    console.log(`  load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores; ${RUNS} runs each`);
    return [
      {
        name: 'space start on a swarm worker (startSpace → RUNNING on a subscription), median',
        value: median(knot),
        unit: 'ms',
        baseline: { name: 'docker service create → task running on the same worker, median', value: median(floor) },
        better: 'lower',
        target: 1.15,
      },
    ];
  } finally {
    await server.stop();
    await swarm.down();
  }
}
