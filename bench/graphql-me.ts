/**
 * `me { id username }` over HTTP POST with a Bearer token against a real Knot server (fresh
 * Postgres database, silent logs), next to a bare graphql-yoga server answering `{ hello }`,
 * both on loopback in the same run. The load runs in a child process, one server at a time,
 * in alternating rounds; each figure is the median over the rounds.
 *
 * Two views of the same runs: throughput (what a client sees; noisy when other work shares the
 * CPUs) and server CPU time per request (this process's CPU during a run ÷ requests served; it
 * barely moves with outside load, and on an idle machine throughput is bounded by it).
 * The target: Knot reaches at least 60% of the bare server's throughput.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { loadInChildProcess } from './load.js';
import type { LoadOptions, LoadResult } from './load-worker.js';
import type { BenchResult } from './types.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5_000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1_500);
/** Alternating rounds (bare, Knot, Knot, bare, …) so a change in outside load hits both sides alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Run extends LoadResult {
  /** Microseconds of this process's CPU (both servers live here; only the measured one is busy) per request. */
  cpuMicrosPerRequest: number;
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

function summarise(runs: Run[]) {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    cpuMicrosPerRequest: median(runs.map((r) => r.cpuMicrosPerRequest)),
  };
}

async function startBareYoga(): Promise<{ url: string; server: Server }> {
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String! }', resolvers: { Query: { hello: () => 'world' } } }),
    logging: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server };
}

async function measure(what: string, url: string, query: string, expect: string, token?: string): Promise<Run> {
  const options: LoadOptions = {
    url,
    body: JSON.stringify({ query }),
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    connections: CONNECTIONS,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    expect,
  };
  const cpuBefore = process.cpuUsage();
  const result = await loadInChildProcess(options);
  const cpu = process.cpuUsage(cpuBefore);
  if (result.errors) throw new Error(`${what}: ${result.errors} of ${result.requests} requests failed`);
  const run = { ...result, cpuMicrosPerRequest: (cpu.user + cpu.system) / (result.warmupRequests + result.requests) };
  console.log(
    `  ${what}: ${run.requestsPerSecond.toFixed(0)} requests/s, p50 ${run.p50Ms.toFixed(1)} ms, p99 ${run.p99Ms.toFixed(1)} ms, ` +
      `${run.cpuMicrosPerRequest.toFixed(0)} µs CPU/request`,
  );
  return run;
}

export async function benchGraphQLMe(): Promise<BenchResult[]> {
  const knot = await startTestServer();
  const bare = await startBareYoga();
  try {
    const { token } = await setupAdmin(knot);
    const bareRuns: Run[] = [];
    const knotRuns: Run[] = [];
    const runBare = async () => bareRuns.push(await measure('bare yoga', bare.url, '{ hello }', '"hello":"world"'));
    const runKnot = async () => knotRuns.push(await measure('knot', `${knot.url}/graphql`, '{ me { id username } }', '"username":"admin"', token));
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) await runBare().then(runKnot);
      else await runKnot().then(runBare);
    }
    const b = summarise(bareRuns);
    const k = summarise(knotRuns);
    const bareName = `bare graphql-yoga { hello }`;
    const setting = `${CONNECTIONS} connections, median of ${ROUNDS} rounds`;
    return [
      {
        name: `Knot \`me\` with Bearer token (${setting}): throughput`,
        value: k.requestsPerSecond,
        unit: 'requests/s',
        baseline: { name: bareName, value: b.requestsPerSecond },
        better: 'higher',
        target: 0.6,
      },
      {
        name: 'Knot `me`: capacity from server CPU time (1 / CPU per request)',
        value: 1e6 / k.cpuMicrosPerRequest,
        unit: 'requests per CPU-second',
        baseline: { name: bareName, value: 1e6 / b.cpuMicrosPerRequest },
        better: 'higher',
        target: 0.6,
      },
      { name: 'Knot `me`: p50 latency', value: k.p50Ms, unit: 'ms', baseline: { name: 'bare', value: b.p50Ms }, better: 'lower' },
      { name: 'Knot `me`: p99 latency', value: k.p99Ms, unit: 'ms', baseline: { name: 'bare', value: b.p99Ms }, better: 'lower' },
    ];
  } finally {
    await new Promise((resolve) => bare.server.close(resolve));
    await knot.stop();
  }
}
