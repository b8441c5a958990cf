/**
 * The agent's cold start inside a space: from the moment the space is RUNNING (its container runs)
 * to the first service report that shows its HTTP port, as a user watching the space sees it on
 * the spaceChanged subscription. Median of BENCH_RUNS (10) starts, after a warm-up start that also
 * fills the agent package's volume.
 *
 * Measured on the agent Knot brings in (busybox image, no Node.js, template without agent lines)
 * and, as the reference in the same run, on the old way: a template that downloads the bundle
 * from the server and runs it with the image's own Node.js (the busybox + Node test image).
 */
import { loadavg } from 'node:os';
import { agentBundle, agentJob, plainJob, SERVICES_FIELDS } from '../test/agent/fixture.js';
import { BUSYBOX_IMAGE } from '../test/helpers/env.js';
import type { GraphQLTestClient } from '../test/helpers/graphql.js';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { CREATE_SPACE, CREATE_TEMPLATE, DELETE_SPACE, START_SPACE, STOP_SPACE } from '../test/spaces/fixture.js';
import { median } from './docker-floor.js';
import type { BenchResult } from './types.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const WATCH = `subscription($id: ID!) { spaceChanged(id: $id) { space { status error ${SERVICES_FIELDS} } } }`;

interface Change {
  spaceChanged: { space: { status: string; error: string | null; services: { ports: { port: number }[] } } | null };
}

/** Milliseconds from RUNNING to the report with port 8080, for each start of one space. */
async function coldStarts(client: GraphQLTestClient, name: string, job: string, runs: number): Promise<number[]> {
  const template = await client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, { input: { name, job } });
  const space = await client.data<{ createSpace: { id: string } }>(CREATE_SPACE, { input: { templateId: template.createTemplate.id, name } });
  const id = space.createSpace.id;
  const sub = client.subscribe<Change>(WATCH, { id });
  await sub.next();
  const status = async (wanted: string) => {
    const event = await sub.next((e) => ['FAILED', wanted].includes(e.spaceChanged.space?.status ?? ''), 60_000);
    if (event.spaceChanged.space!.status !== wanted) throw new Error(`${name} failed: ${event.spaceChanged.space!.error}`);
  };
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      await client.data(START_SPACE, { id });
      await status('RUNNING');
      const running = performance.now();
      await sub.next((e) => (e.spaceChanged.space?.services.ports ?? []).some((p) => p.port === 8080), 60_000);
      times.push(performance.now() - running);
      await client.data(STOP_SPACE, { id });
      await status('STOPPED');
    }
  } finally {
    sub.close();
    await client.request(DELETE_SPACE, { id });
  }
  return times;
}

export async function benchAgentColdStart(): Promise<BenchResult[]> {
  await agentBundle();
  const server = await startTestServer({ host: '0.0.0.0' });
  try {
    const { client } = await setupAdmin(server);
    // The report interval matters only after the first report, which goes out on connecting.
    const injected = await coldStarts(client, 'injected', plainJob(BUSYBOX_IMAGE), RUNS + 1);
    const own = await coldStarts(client, 'own-node', agentJob({ KNOT_TCP_PORT: '' }), RUNS + 1);
    console.log(`  load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    return [
      {
        name: `agent cold start, injected into a busybox image without Node.js (RUNNING → port reported), median of ${RUNS}`,
        value: median(injected.slice(1)),
        unit: 'ms',
        baseline: { name: "a template fetching the bundle and running it with the image's Node", value: median(own.slice(1)) },
        better: 'lower',
      },
    ];
  } finally {
    await server.stop();
  }
}
