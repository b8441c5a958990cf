/**
 * How long one status change of a space takes to reach 1,000 graphql-ws subscribers: from the
 * server publishing the event (right after the transition commits) to each subscriber receiving
 * it, over real WebSockets, with the subscribers in a child process (bench/fanout-worker.ts).
 * Several start/stop cycles give 4 status changes each. The target: p99 under 50 ms.
 */
import { fork } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { CREATE_SPACE, CREATE_TEMPLATE, SPACE_CHANGED, START_SPACE, STOP_SPACE, busyboxJob } from '../test/spaces/fixture.js';
import type { FanoutMessage, FanoutOptions } from './fanout-worker.js';
import type { BenchResult } from './types.js';

const SOCKETS = Number(process.env.BENCH_FANOUT_SOCKETS ?? 20);
const PER_SOCKET = Number(process.env.BENCH_FANOUT_PER_SOCKET ?? 50);
const CYCLES = Number(process.env.BENCH_FANOUT_CYCLES ?? 5);
// One start/stop cycle first, not counted: the first events run code paths the JIT has not seen.
const WARMUP_CYCLES = 1;
// What a space list in the UI asks for on every change.
const QUERY = `subscription($id: ID!) { spaceChanged(id: $id) { kind spaceId space {
  id name altNames status error pullProgress updateAvailable template { id name } owner { id username }
} } }`;

const worker = fileURLToPath(new URL('./fanout-worker.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchSpaceFanout(): Promise<BenchResult[]> {
  const server = await startTestServer();
  const { client, token } = await setupAdmin(server);
  const subscribers = SOCKETS * PER_SOCKET;
  const changes = (WARMUP_CYCLES + CYCLES) * 4;
  const counted = CYCLES * 4;
  try {
    const template = await client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, { input: { name: 'bench', job: busyboxJob() } });
    const created = await client.data<{ createSpace: { id: string } }>(CREATE_SPACE, {
      input: { templateId: template.createTemplate.id, name: 'fanout' },
    });
    const spaceId = created.createSpace.id;

    // When each status change left the server: the publish call, just after its transition committed.
    const published: number[] = [];
    const pubsub = server.app.services.pubsub;
    const publish = pubsub.publish.bind(pubsub);
    pubsub.publish = ((topic, payload) => {
      const event = payload as { spaceId?: string; kind?: string };
      if (topic === 'space' && event.spaceId === spaceId && event.kind === 'STATUS') published.push(now());
      return publish(topic, payload);
    }) as typeof pubsub.publish;

    const options: FanoutOptions = { url: server.url, token, spaceId, sockets: SOCKETS, perSocket: PER_SOCKET, changes, query: QUERY };
    const child = fork(worker, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const messages: FanoutMessage[] = [];
    let wake = () => {};
    child.on('message', (m) => {
      messages.push(m as FanoutMessage);
      wake();
    });
    child.on('exit', (code) => {
      messages.push({ error: `the subscriber process exited (${code})` });
      wake();
    });
    const nextMessage = async (timeoutMs: number): Promise<FanoutMessage> => {
      const deadline = Date.now() + timeoutMs;
      while (!messages.length) {
        if (Date.now() > deadline) throw new Error('the subscriber process did not answer in time');
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 1_000);
        });
      }
      const message = messages.shift()!;
      if ('error' in message) throw new Error(message.error);
      return message;
    };

    try {
      await nextMessage(120_000); // ready: every subscription has its SNAPSHOT
      const sub = client.subscribe<{ spaceChanged: { space: { status: string } } }>(SPACE_CHANGED, { id: spaceId });
      await sub.next();
      for (let i = 0; i < WARMUP_CYCLES + CYCLES; i++) {
        await client.data(START_SPACE, { id: spaceId });
        await sub.next((e) => e.spaceChanged.space.status === 'RUNNING');
        await client.data(STOP_SPACE, { id: spaceId });
        await sub.next((e) => e.spaceChanged.space.status === 'STOPPED');
      }
      sub.close();
      const result = (await nextMessage(60_000)) as { receipts: number[][]; statuses: string[] };
      if (published.length !== changes) throw new Error(`expected ${changes} status events, published ${published.length}`);

      const latencies: number[] = [];
      const lastArrivals: number[] = [];
      result.receipts.forEach((times, n) => {
        if (n < changes - counted) return;
        const each = times.map((t) => t - published[n]!);
        latencies.push(...each);
        lastArrivals.push(Math.max(...each));
        if (process.env.BENCH_FANOUT_DEBUG) {
          each.sort((a, b) => a - b);
          console.log(`${result.statuses[n]}: first ${each[0]!.toFixed(1)} ms, median ${percentile(each, 50).toFixed(1)}, last ${each.at(-1)!.toFixed(1)}`);
        }
      });
      latencies.sort((a, b) => a - b);
      lastArrivals.sort((a, b) => a - b);
      // On a shared machine the figures scale with its load; say what it was.
      const load = `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
      return [
        { name: `status change → each of ${subscribers} subscribers (${SOCKETS} sockets × ${PER_SOCKET}), p50 over ${counted} changes, ${load}`, value: percentile(latencies, 50), unit: 'ms', better: 'lower' },
        { name: `status change → each of ${subscribers} subscribers, p99 (target < 50 ms)`, value: percentile(latencies, 99), unit: 'ms', better: 'lower' },
        { name: `status change → the last of ${subscribers} subscribers, median over ${counted} changes`, value: percentile(lastArrivals, 50), unit: 'ms', better: 'lower' },
      ];
    } finally {
      child.kill();
    }
  } finally {
    await client.close();
    await server.stop();
  }
}
