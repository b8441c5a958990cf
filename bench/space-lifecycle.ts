/**
 * Start and stop latency of a space as a user sees it: from sending the startSpace (stopSpace)
 * mutation to receiving RUNNING (STOPPED) on a spaceChanged subscription, against a real Knot
 * server, Postgres and Docker engine. The floor is raw dockerode create+start and stop+remove of
 * the same image (bench/docker-floor.ts), measured in the same run, interleaved run by run with
 * Knot's so that load from elsewhere on the machine weighs on both alike.
 * The target: median ratio at most 1.15 for each.
 */
import { availableParallelism, loadavg } from 'node:os';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { BUSYBOX_IMAGE } from '../test/helpers/env.js';
import { CREATE_SPACE, CREATE_TEMPLATE, SPACE_CHANGED, START_SPACE, STOP_SPACE, busyboxJob } from '../test/spaces/fixture.js';
import { measureDockerFloor, median } from './docker-floor.js';
import type { BenchResult } from './types.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = 2;

export async function benchSpaceLifecycle(): Promise<BenchResult[]> {
  const server = await startTestServer();
  const { client } = await setupAdmin(server);
  try {
    const template = await client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, {
      input: { name: 'bench', job: busyboxJob('', BUSYBOX_IMAGE) },
    });
    const created = await client.data<{ createSpace: { id: string } }>(CREATE_SPACE, {
      input: { templateId: template.createTemplate.id, name: 'bench' },
    });
    const id = created.createSpace.id;
    const sub = client.subscribe<{ spaceChanged: { space: { status: string; error: string | null } } }>(SPACE_CHANGED, { id });
    await sub.next();

    const until = async (status: string) => {
      const event = await sub.next((e) => e.spaceChanged.space.status === status || e.spaceChanged.space.status === 'FAILED');
      if (event.spaceChanged.space.status !== status) throw new Error(`the space failed: ${event.spaceChanged.space.error}`);
    };
    const knot = { start: [] as number[], stop: [] as number[] };
    const floor = { start: [] as number[], stop: [] as number[] };
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const raw = await measureDockerFloor(BUSYBOX_IMAGE, 1);
      let t0 = performance.now();
      await client.data(START_SPACE, { id });
      await until('RUNNING');
      const start = performance.now() - t0;
      t0 = performance.now();
      await client.data(STOP_SPACE, { id });
      await until('STOPPED');
      const stop = performance.now() - t0;
      if (i < WARMUP) continue;
      knot.start.push(start);
      knot.stop.push(stop);
      floor.start.push(...raw.createStartMs);
      floor.stop.push(...raw.stopRemoveMs);
    }
    sub.close();
    await client.data(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id });

    // On a shared machine both sides slow down with its load; say what it was.
    const load = `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
    return [
      {
        name: `space start: startSpace sent → RUNNING received (median of ${RUNS}, ${load})`,
        value: median(knot.start),
        unit: 'ms',
        baseline: { name: 'raw dockerode create+start', value: median(floor.start) },
        better: 'lower',
        target: 1.15,
      },
      {
        name: `space stop: stopSpace sent → STOPPED received (median of ${RUNS})`,
        value: median(knot.stop),
        unit: 'ms',
        baseline: { name: 'raw dockerode stop(t=0)+remove', value: median(floor.stop) },
        better: 'lower',
        target: 1.15,
      },
    ];
  } finally {
    await client.close();
    await server.stop();
  }
}
