/**
 * Start and stop latency of a space as a user sees it: from sending the startSpace (stopSpace)
 * mutation to receiving RUNNING (STOPPED) on a spaceChanged subscription, against a real Knot
 * server, Postgres and Docker engine. The floor is raw dockerode create+start and stop+remove of
 * the same image (bench/docker-floor.ts), measured in the same run, interleaved run by run with
 * Knot's so that load from elsewhere on the machine weighs on both alike.
 * Spaces join Knot's isolated bridge network (inter-container traffic off), which Docker makes
 * slower to start than the default bridge whatever calls it; so the floor the ratio is judged
 * against starts the same container on a network like it, and the default-bridge floor is
 * printed beside it as what the isolation itself costs.
 * Quota checks are on, on a database that is not empty: 100 spaces and 20 groups, the user under
 * test in five groups with limits (which it stays within) and the template open to two of them,
 * so every start reads their limits, sums their running spaces and checks template access.
 * The target: median ratio at most 1.10 for each.
 */
import { availableParallelism, loadavg } from 'node:os';
import Docker from 'dockerode';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { BUSYBOX_IMAGE } from '../test/helpers/env.js';
import type { GraphQLTestClient } from '../test/helpers/graphql.js';
import { CREATE_SPACE, CREATE_TEMPLATE, SPACE_CHANGED, START_SPACE, STOP_SPACE, busyboxJob } from '../test/spaces/fixture.js';
import { measureDockerFloor, median } from './docker-floor.js';
import type { BenchResult } from './types.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const WARMUP = 2;

const SPACES = 100;
const GROUPS = 20;

/** Twenty groups with limits; the user is in five of them, whose most generous limits leave room for the bench. */
async function seedGroups(client: GraphQLTestClient, userId: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < GROUPS; i++) {
    const made = await client.data<{ createGroup: { id: string } }>(
      `mutation($n: String!, $s: Int, $c: Int, $st: Int) { createGroup(name: $n, maxSpaces: $s, computeUnits: $c, storageUnits: $st) { id } }`,
      { n: `bench group ${i}`, s: 100 + i * 10, c: 4 + i, st: 100 + i * 10 },
    );
    ids.push(made.createGroup.id);
  }
  const mine = ids.slice(0, 5);
  await client.data(`mutation($id: ID!, $g: [ID!]) { updateUser(id: $id, input: { groupIds: $g }) { id } }`, { id: userId, g: mine });
  return mine;
}

/** Stopped spaces of the same template and owner: what the quota sums have to go through. */
async function seedSpaces(client: GraphQLTestClient, templateId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await client.data(CREATE_SPACE, { input: { templateId, name: `idle-${i}` } });
  }
}

export async function benchSpaceLifecycle(): Promise<BenchResult[]> {
  const server = await startTestServer();
  const { client, userId } = await setupAdmin(server);
  // Made here with dockerode, as bench/docker-floor.ts does, with the options of Knot's spaces network.
  const floorNetwork = await new Docker().createNetwork({
    Name: `knot-bench-floor-${process.pid}`,
    Driver: 'bridge',
    Labels: { 'knot.bench': 'docker-floor' },
    Options: { 'com.docker.network.bridge.enable_icc': 'false' },
  });
  try {
    const groupIds = await seedGroups(client, userId);
    const template = await client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, {
      input: { name: 'bench', job: busyboxJob('', BUSYBOX_IMAGE), computeUnits: 2, storageUnits: 1, groupIds: groupIds.slice(0, 2) },
    });
    await seedSpaces(client, template.createTemplate.id, SPACES - 1);
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
    const bridgeFloor: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const raw = await measureDockerFloor(BUSYBOX_IMAGE, 1, { networkId: floorNetwork.id });
      const bridge = await measureDockerFloor(BUSYBOX_IMAGE, 1);
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
      bridgeFloor.push(...bridge.createStartMs);
    }
    sub.close();
    await client.data(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id });

    // On a shared machine both sides slow down with its load; say what it was.
    const load = `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
    return [
      {
        name: `space start with quota checks (${SPACES} spaces, ${GROUPS} groups): startSpace sent → RUNNING received (median of ${RUNS}, ${load})`,
        value: median(knot.start),
        unit: 'ms',
        baseline: { name: 'raw dockerode create+start on an isolated bridge like Knot\'s', value: median(floor.start) },
        better: 'lower',
        target: 1.1,
      },
      {
        name: `space start, against the default bridge (what network isolation adds; no target)`,
        value: median(knot.start),
        unit: 'ms',
        baseline: { name: 'raw dockerode create+start on the default bridge', value: median(bridgeFloor) },
        better: 'lower',
      },
      {
        name: `space stop: stopSpace sent → STOPPED received (median of ${RUNS})`,
        value: median(knot.stop),
        unit: 'ms',
        baseline: { name: 'raw dockerode stop(t=0)+remove on the isolated bridge', value: median(floor.stop) },
        better: 'lower',
        target: 1.1,
      },
    ];
  } finally {
    await client.close();
    await server.stop();
    await floorNetwork.remove().catch(() => {});
  }
}
