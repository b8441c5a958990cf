/**
 * The load side of bench/agents.ts, in its own process so it never shares the measured server's
 * event loop: N simulated agents on real WebSockets (the agent protocol, no probing), each
 * reporting every interval with its phase spread over the interval, plus one spacesChanged
 * subscriber. Every `changeEvery`-th report of an agent changes its services (a port comes or
 * goes); the time from sending that report to the subscriber's message for it is the latency.
 *
 * Protocol on stdio: prints `READY` once every agent is connected and settled, waits for a line
 * on stdin, runs the steady state for durationMs, then prints one JSON line of figures.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { AGENT_PATH, PROTOCOL_VERSION, SPACE_HEADER } from '../protocol/agent-wire.js';

export interface AgentsWorkerInput {
  /** The subscriber's server (and the agents', unless agentUrls is given). */
  url: string;
  /** Servers to spread the agents over, one after another (replicas on one database). */
  agentUrls?: string[];
  adminToken: string;
  ownerId: string;
  agents: { spaceId: string; token: string }[];
  intervalMs: number;
  changeEvery: number;
  durationMs: number;
}

export interface AgentsWorkerResult {
  connected: number;
  disconnects: number;
  changes: number;
  delivered: number;
  latenciesMs: number[];
  /** Every message the subscriber received, by kind (snapshots and changes of every agent). */
  received: Record<string, number>;
}

const now = () => performance.timeOrigin + performance.now();
const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as AgentsWorkerInput;

const WEB = { port: 8080, name: 'web', protocol: 'HTTP' };
const API = { port: 9090, name: 'api', protocol: 'HTTP' };
const reportOf = (withApi: boolean) => ({
  t: 'report',
  report: { terminal: true, codeServer: false, desktop: false, ssh: false, sshPort: null, vscodeTunnel: null, ports: withApi ? [WEB, API] : [WEB] },
});

/** The subscriber's messages by kind, printed every 2 s to stderr with BENCH_PROGRESS=1 (to see a stall as it happens). */
const received: Record<string, number> = {};
const startedAt = now();
if (process.env.BENCH_PROGRESS) {
  setInterval(() => console.error(`  t=${((now() - startedAt) / 1000).toFixed(0)} s: ${connected} agents connected; subscriber received ${JSON.stringify(received)}`), 2_000).unref();
}
let connected = 0;
let lastEventAt = now();
let disconnects = 0;
let measuring = false;
let changes = 0;
const latenciesMs: number[] = [];
/** Per space: when its last changing report left, and how many ports the subscriber should see. */
const pending = new Map<string, { sentAt: number; ports: number }>();

// The subscriber: one graphql-ws connection, as a browser's space list has.
const subscriber = createClient({
  url: `${input.url.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { token: input.adminToken },
  retryAttempts: 0,
});
subscriber.subscribe<{ spacesChanged: { kind: string; spaceId: string; space: { services: { ports: unknown[] } } | null } }>(
  {
    query: `subscription($u: ID) { spacesChanged(userId: $u) { kind spaceId space { services { ports { port } } } } }`,
    variables: { u: input.ownerId },
  },
  {
    next: ({ data }) => {
      const change = data?.spacesChanged;
      lastEventAt = now();
      received[change?.kind ?? 'none'] = (received[change?.kind ?? 'none'] ?? 0) + 1;
      if (!change || change.kind !== 'SERVICES' || !change.space) return;
      const waiting = pending.get(change.spaceId);
      if (!waiting || waiting.ports !== change.space.services.ports.length) return;
      pending.delete(change.spaceId);
      latenciesMs.push(now() - waiting.sentAt);
    },
    error: (err) => {
      console.error('subscriber failed', err);
      process.exit(1);
    },
    // The server ended the subscription: every change after it would be counted lost with no reason given.
    complete: () => {
      console.error(`the server ended the subscriber's spacesChanged after ${JSON.stringify(received)}`);
      process.exit(1);
    },
  },
);

function startAgent(spaceId: string, token: string, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${AGENT_PATH}`, {
      headers: { authorization: `Bearer ${token}`, [SPACE_HEADER]: spaceId },
    });
    let withApi = false;
    let ticks = 0;
    let timer: NodeJS.Timeout | undefined;
    ws.once('open', () => {
      connected++;
      ws.send(JSON.stringify({ t: 'hello', version: PROTOCOL_VERSION, agent: 'bench', reportIntervalMs: input.intervalMs }));
      ws.send(JSON.stringify(reportOf(withApi)));
      // Spread the agents' phases over the interval, as agents started at different times are.
      const phase = Math.random() * input.intervalMs;
      const offset = Math.floor(Math.random() * input.changeEvery);
      setTimeout(() => {
        timer = setInterval(() => {
          ticks++;
          if (measuring && (ticks + offset) % input.changeEvery === 0) {
            withApi = !withApi;
            changes++;
            pending.set(spaceId, { sentAt: now(), ports: withApi ? 2 : 1 });
            ws.send(JSON.stringify(reportOf(withApi)));
          } else {
            ws.send('{"t":"hb"}');
          }
        }, input.intervalMs);
      }, phase);
      resolve();
    });
    ws.once('error', reject);
    ws.once('close', (code) => {
      clearInterval(timer);
      if (connected) disconnects++;
      if (code !== 1000 && measuring) console.error(`agent for ${spaceId} closed: ${code}`);
    });
  });
}

// Connect in waves, as agents of a fleet would not all arrive in the same millisecond.
const WAVE = 100;
for (let i = 0; i < input.agents.length; i += WAVE) {
  const urls = input.agentUrls ?? [input.url];
  await Promise.all(input.agents.slice(i, i + WAVE).map((a, j) => startAgent(a.spaceId, a.token, urls[(i + j) % urls.length]!)));
}
// Let the initial reports and the manual spaces' RUNNING reach the subscriber before measuring.
while (now() - lastEventAt < 2_000) await new Promise((r) => setTimeout(r, 250));
console.log('READY');

const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
measuring = true;
await new Promise((r) => setTimeout(r, input.durationMs));
measuring = false;
// Changes sent in the last moments still count once they arrive (a late one counts as its latency);
// on a loaded machine a backlog takes a while, and only what never comes is lost.
const graceUntil = now() + 60_000;
while (pending.size && now() < graceUntil) await new Promise((r) => setTimeout(r, 100));
const result: AgentsWorkerResult = { connected, disconnects, changes, delivered: latenciesMs.length, latenciesMs, received };
console.log(JSON.stringify(result));
process.exit(0);
