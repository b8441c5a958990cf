/**
 * Space start on a swarm worker as a user sees it (startSpace → RUNNING on a spaceChanged
 * subscription, KNOT_RUNTIME=swarm) against the floor: a service created on the manager with the
 * same image, command and init, one task pinned to the same worker and the same kind of volume
 * mounted, until the manager reports its task running. Both are measured in the same run,
 * interleaved run by run, on a swarm of a manager and two workers in network namespaces
 * (test/helpers/swarm.ts), whose engines keep their default bridge as hosts do. Networks: the
 * floor's task joins the node's default bridge (what a plain `docker service create` does); the
 * space joins the spaces' swarm bridge, a bridge on the node with inter-container traffic off.
 * The space's volume exists after its first start, as on every start but the first; the floor's
 * is made once before the runs. Target: median ratio at most 1.15.
 */
import { availableParallelism, loadavg } from 'node:os';
import Docker from 'dockerode';
import { BUSYBOX_IMAGE } from '../test/helpers/env.js';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { startTestSwarm } from '../test/helpers/swarm.js';
import { waitFor } from '../test/helpers/wait.js';
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
  const workerEngine = new Docker(dockerOptions(worker.dockerHost));
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
    const floorVolume = `bench-floor-${swarm.id}`;
    await swarm.docker(worker, 'volume', 'create', floorVolume);

    const knot: number[] = [];
    const floor: number[] = [];
    const floorOnNode: number[] = [];
    for (let i = -1; i < RUNS; i++) {
      let t = performance.now();
      await client.data(START_SPACE, { id: space.id });
      await until('RUNNING');
      if (i >= 0) knot.push(performance.now() - t);
      await client.data(STOP_SPACE, { id: space.id });
      await until('STOPPED');

      const name = `bench-floor-${swarm.id}-${i + 1}`;
      // The node's own word that the floor's container started, for the second comparison below.
      const events = (await workerEngine.getEvents({ filters: JSON.stringify({ type: ['container'], event: ['start'], label: [`com.docker.swarm.service.name=${name}`] }) })) as NodeJS.ReadableStream & { destroy(): void };
      let nodeStart = 0;
      events.once('data', () => (nodeStart = performance.now()));
      t = performance.now();
      const created = await manager.createService({
        Name: name,
        TaskTemplate: {
          ContainerSpec: { Image: BUSYBOX_IMAGE, Command: ['sleep', '3600'], Init: true, Mounts: [{ Type: 'volume', Source: floorVolume, Target: '/data' }] },
          RestartPolicy: { Condition: 'none' },
          Placement: { Constraints: [`node.id == ${nodeId}`] },
        },
        Mode: { Replicated: { Replicas: 1 } },
      } as never);
      for (;;) {
        const tasks = (await manager.listTasks({ filters: JSON.stringify({ service: [name] }) } as never)) as unknown as { Status?: { State?: string } }[];
        if (tasks.some((task) => task.Status?.State === 'running')) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const managerSays = performance.now();
      await waitFor(() => nodeStart > 0, { timeout: 10_000, interval: 5, what: 'the floor container\'s start event' });
      events.destroy();
      if (i >= 0) {
        floor.push(managerSays - t);
        floorOnNode.push(nodeStart - t);
      }
      await manager.getService(created.id).remove();
    }
    sub.close();
    await client.close();
    console.log(`  load average ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} cores; ${RUNS} runs each, interleaved, on ${worker.hostname}`);
    console.log('  Knot: startSpace mutation (auth, checks, STARTING write) → placement on the pinned node → image and volume lookups → service create');
    console.log('        (the spaces\' bridge, ICC off; its volume) → task running (the node engine\'s container start event, or the manager\'s');
    console.log('        task list every 25 ms, whichever first) → RUNNING written → seen on a spaceChanged subscription');
    console.log('  floor: docker service create (same image, command, init, node; a volume; the node\'s default bridge) → the manager says');
    console.log('        task running (polled every 10 ms); second figure: → the node engine\'s container start event (the signal Knot uses)');
    return [
      {
        name: 'space start on a swarm worker (startSpace → RUNNING on a subscription), median',
        value: median(knot),
        unit: 'ms',
        baseline: { name: 'docker service create → task running on the same worker, median', value: median(floor) },
        better: 'lower',
        target: 1.15,
      },
      {
        name: 'same Knot start, median',
        value: median(knot),
        unit: 'ms',
        baseline: { name: 'docker service create → its container\'s start event on the worker, median', value: median(floorOnNode) },
        better: 'lower',
      },
    ];
  } finally {
    await server.stop();
    await swarm.down();
  }
}
