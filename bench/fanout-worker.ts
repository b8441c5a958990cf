/**
 * The subscribers of the fan-out benchmark, in their own process so they never share the measured
 * server's event loop: `sockets` WebSockets speaking graphql-transport-ws, with `perSocket`
 * spaceChanged subscriptions each. Real subscribers are a thousand browsers parsing in parallel;
 * one process parsing a thousand messages in a row would measure itself, so a message is only
 * stamped with its arrival time on receipt and parsed after the run.
 *
 * Talks to its parent over IPC: "ready" once every subscription has its SNAPSHOT; then, after
 * `changes` further events on every subscription, the wall-clock arrival times
 * (performance.timeOrigin + now(), comparable across processes) of each change at each subscriber.
 */
import WebSocket from 'ws';

export interface FanoutOptions {
  url: string;
  token: string;
  spaceId: string;
  sockets: number;
  perSocket: number;
  changes: number;
  query: string;
}

export type FanoutMessage = { ready: true } | { receipts: number[][]; statuses: string[] } | { error: string };

const now = () => performance.timeOrigin + performance.now();
const send = (message: FanoutMessage) => process.send!(message);

function open(options: FanoutOptions, onData: (socket: number, at: number, raw: string) => void, index: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${options.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { token: options.token } })));
    ws.on('message', (data) => {
      const at = now();
      const raw = data.toString();
      if (raw.includes('"connection_ack"')) {
        for (let k = 0; k < options.perSocket; k++) {
          ws.send(JSON.stringify({ id: String(k), type: 'subscribe', payload: { query: options.query, variables: { id: options.spaceId } } }));
        }
        resolve(ws);
        return;
      }
      onData(index, at, raw);
    });
  });
}

async function run(options: FanoutOptions) {
  const total = options.sockets * options.perSocket;
  const expected = total * (1 + options.changes);
  const arrivals: { socket: number; at: number; raw: string }[] = [];
  let done = false;
  const onData = (socket: number, at: number, raw: string) => {
    arrivals.push({ socket, at, raw });
    if (arrivals.length === total) send({ ready: true });
    if (arrivals.length === expected && !done) {
      done = true;
      report();
    }
  };
  const sockets = await Promise.all(Array.from({ length: options.sockets }, (_, i) => open(options, onData, i)));

  function report() {
    const receipts: number[][] = Array.from({ length: options.changes }, () => new Array<number>(total));
    const statuses: string[] = new Array<string>(options.changes);
    const seen = new Array<number>(total).fill(-1);
    for (const { socket, at, raw } of arrivals) {
      const message = JSON.parse(raw) as { id: string; type: string; payload?: { data?: { spaceChanged?: { kind: string; space: { status: string } } } } };
      if (message.type !== 'next' || !message.payload?.data?.spaceChanged) {
        send({ error: `unexpected message: ${raw.slice(0, 300)}` });
        return;
      }
      const subscriber = socket * options.perSocket + Number(message.id);
      const n = seen[subscriber]!;
      seen[subscriber] = n + 1;
      if (n === -1) continue; // the SNAPSHOT
      const change = message.payload.data.spaceChanged;
      receipts[n]![subscriber] = at;
      const status = `${change.kind}:${change.space.status}`;
      if ((statuses[n] ??= status) !== status) {
        send({ error: `subscriber ${subscriber} saw ${status} as change ${n}, others ${statuses[n]}` });
        return;
      }
    }
    send({ receipts, statuses });
    for (const ws of sockets) ws.close();
  }
}

if (process.argv[2]) {
  run(JSON.parse(process.argv[2]) as FanoutOptions).catch((err) => send({ error: String(err) }));
}
