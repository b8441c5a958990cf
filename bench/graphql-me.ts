/**
 * `me { id username }` over HTTP POST with a Bearer token against a real Knot server (fresh
 * Postgres database, silent logs), next to a bare graphql-yoga server answering `{ hello }`,
 * both on loopback in the same run. The load runs in a child process, one server at a time,
 * in alternating rounds; each figure is the median over the rounds.
 * Issue 2's target: Knot reaches at least 60% of the bare server's throughput.
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
/** Alternating rounds (bare, Knot, Knot, bare, …) so a load change on a shared machine hits both sides alike. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

function summarise(results: LoadResult[]) {
  return {
    requestsPerSecond: median(results.map((r) => r.requestsPerSecond)),
    p50Ms: median(results.map((r) => r.p50Ms)),
    p99Ms: median(results.map((r) => r.p99Ms)),
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

function load(url: string, query: string, expect: string, token?: string): Promise<LoadResult> {
  const options: LoadOptions = {
    url,
    body: JSON.stringify({ query }),
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    connections: CONNECTIONS,
    warmupMs: WARMUP_MS,
    durationMs: DURATION_MS,
    expect,
  };
  return loadInChildProcess(options);
}

function checkClean(what: string, result: LoadResult): LoadResult {
  if (result.errors) throw new Error(`${what}: ${result.errors} of ${result.requests} requests failed`);
  return result;
}

export async function benchGraphQLMe(): Promise<BenchResult[]> {
  const knot = await startTestServer();
  const bare = await startBareYoga();
  try {
    const { token } = await setupAdmin(knot);
    const bareRuns: LoadResult[] = [];
    const knotRuns: LoadResult[] = [];
    const runBare = async () => bareRuns.push(checkClean('bare yoga', await load(bare.url, '{ hello }', '"hello":"world"')));
    const runKnot = async () =>
      knotRuns.push(checkClean('knot', await load(`${knot.url}/graphql`, '{ me { id username } }', '"username":"admin"', token)));
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) await runBare().then(runKnot);
      else await runKnot().then(runBare);
    }
    const bareResult = summarise(bareRuns);
    const knotResult = summarise(knotRuns);

    const bareName = `bare graphql-yoga { hello } (${CONNECTIONS} connections, median of ${ROUNDS} rounds)`;
    return [
      {
        name: `Knot \`me\` with Bearer token, ${CONNECTIONS} connections: throughput`,
        value: knotResult.requestsPerSecond,
        unit: 'requests/s',
        baseline: { name: bareName, value: bareResult.requestsPerSecond },
        better: 'higher',
        target: 0.6,
      },
      {
        name: 'Knot `me`: p50 latency',
        value: knotResult.p50Ms,
        unit: 'ms',
        baseline: { name: 'bare', value: bareResult.p50Ms },
        better: 'lower',
      },
      {
        name: 'Knot `me`: p99 latency',
        value: knotResult.p99Ms,
        unit: 'ms',
        baseline: { name: 'bare', value: bareResult.p99Ms },
        better: 'lower',
      },
    ];
  } finally {
    await new Promise((resolve) => bare.server.close(resolve));
    await knot.stop();
  }
}
