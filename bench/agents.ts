/**
 * 2,000 agents on one Knot server process: the server's CPU share and RSS while every agent
 * reports every 2 s, and the time from a report that changes a space's services to the
 * spacesChanged subscriber's message about it. The agents and the subscriber run in a child
 * process (agents-worker.ts) on real WebSockets, each agent with its own manual space and token;
 * the server runs here, on a real Postgres, so process.cpuUsage() measures only the server.
 * One report in ten changes services (a port comes or goes): 100 changes/s.
 *
 * The floor is the same path with 20 agents whose every report is a change (10 changes/s), on a
 * fresh server in the same run: what one change costs with nothing else going on.
 * The target: under one core, p99 under 100 ms.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { spaces } from '../schema/db/index.js';
import { hashToken, newToken } from '../server/src/auth/secrets.js';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import type { AgentsWorkerInput, AgentsWorkerResult } from './agents-worker.js';
import { startAgentsWorker } from './agents-worker-process.js';
import { percentile } from './stats.js';
import type { BenchResult } from './types.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 2_000);
const INTERVAL_MS = Number(process.env.BENCH_AGENT_INTERVAL_MS ?? 2_000);
/** One report in this many changes the agent's services. */
const CHANGE_EVERY = Number(process.env.BENCH_AGENT_CHANGE_EVERY ?? 10);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 20_000);
const FLOOR_AGENTS = 20;

interface Scenario {
  agents: number;
  changeEvery: number;
}

interface Measured {
  cores: number;
  idleRss: number;
  peakRss: number;
  latenciesMs: number[];
  changes: number;
}


const mb = (bytes: number) => bytes / (1024 * 1024);

async function run({ agents: count, changeEvery }: Scenario): Promise<Measured> {
  const server = await startTestServer({ config: { agentTimeoutMs: 3 * INTERVAL_MS + 5_000 } });
  const dir = mkdtempSync(path.join(tmpdir(), 'knot-bench-agents-'));
  let child: ChildProcess | undefined;
  try {
    const admin = await setupAdmin(server);
    const { createTemplate } = await admin.client.data<{ createTemplate: { id: string } }>(
      `mutation { createTemplate(input: { name: "bench machines", platform: MANUAL, job: "" }) { id } }`,
    );
    // Rows straight into the table: creating 2,000 spaces through the API is not what is measured.
    const agents = Array.from({ length: count }, () => ({ token: newToken('knota'), spaceId: '' }));
    for (let i = 0; i < count; i += 500) {
      const rows = await server.app.services.db
        .insert(spaces)
        .values(
          agents.slice(i, i + 500).map((a, j) => ({
            name: `bench-${i + j}`,
            ownerId: admin.userId,
            templateId: createTemplate.id,
            shell: 'sh',
            status: 'STOPPED' as const,
            agentTokenHash: hashToken(a.token),
          })),
        )
        .returning({ id: spaces.id });
      rows.forEach((r, j) => (agents[i + j]!.spaceId = r.id));
    }
    const idleRss = process.memoryUsage().rss;

    const input: AgentsWorkerInput = {
      url: server.url,
      adminToken: admin.token,
      ownerId: admin.userId,
      agents,
      intervalMs: INTERVAL_MS,
      changeEvery,
      durationMs: DURATION_MS,
    };
    const { proc, nextLine } = startAgentsWorker(dir, input);
    child = proc;

    if ((await nextLine()) !== 'READY') throw new Error('the agents worker did not get ready');
    const live = agents.filter((a) => server.app.services.agents.isConnected(a.spaceId)).length;
    if (live < count) throw new Error(`only ${live} of ${count} agents are connected`);

    let peakRss = process.memoryUsage().rss;
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    proc.stdin!.write('GO\n');
    const result = JSON.parse(await nextLine()) as AgentsWorkerResult;
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - wallBefore;
    clearInterval(rssTimer);

    if (result.disconnects) throw new Error(`${result.disconnects} agents were disconnected during the run`);
    const lost = result.changes - result.delivered;
    console.log(
      `  ${result.connected} agents: ${result.changes} service changes in ${(DURATION_MS / 1000).toFixed(0)} s ` +
        `(${(result.changes / (DURATION_MS / 1000)).toFixed(0)}/s), ${lost} not delivered; ` +
        `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`,
    );
    if (lost > 0) throw new Error(`${lost} of ${result.changes} service changes never reached the subscriber`);
    return { cores: (cpu.user + cpu.system) / 1_000 / wallMs, idleRss, peakRss, latenciesMs: result.latenciesMs, changes: result.changes };
  } finally {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}

export async function benchAgents(): Promise<BenchResult[]> {
  const floor = await run({ agents: FLOOR_AGENTS, changeEvery: 1 });
  const full = await run({ agents: AGENTS, changeEvery: CHANGE_EVERY });
  const floorName = `${FLOOR_AGENTS} agents, every report a change`;
  return [
    {
      name: `server CPU with ${AGENTS} agents reporting every ${INTERVAL_MS / 1000} s`,
      value: full.cores,
      unit: 'cores',
      baseline: { name: 'one core (the ceiling)', value: 1 },
      better: 'lower',
      target: 1,
    },
    {
      name: `server RSS with ${AGENTS} agents connected (peak)`,
      value: mb(full.peakRss),
      unit: 'MB',
      baseline: { name: 'the same server before they connected', value: mb(full.idleRss) },
      better: 'lower',
    },
    {
      name: 'report that changes services → spacesChanged message: p50',
      value: percentile(full.latenciesMs, 50),
      unit: 'ms',
      baseline: { name: floorName, value: percentile(floor.latenciesMs, 50) },
      better: 'lower',
    },
    {
      name: 'report that changes services → spacesChanged message: p99',
      value: percentile(full.latenciesMs, 99),
      unit: 'ms',
      baseline: { name: 'the 100 ms target', value: 100 },
      better: 'lower',
      target: 1,
    },
    {
      name: `  the same p99 with ${FLOOR_AGENTS} agents (the floor of this machine now)`,
      value: percentile(floor.latenciesMs, 99),
      unit: 'ms',
      baseline: { name: 'the 100 ms target', value: 100 },
      better: 'lower',
      target: 1,
    },
  ];
}
