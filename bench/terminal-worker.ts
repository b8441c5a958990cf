/**
 * One round of the terminal benchmark, in its own process (see terminal.ts) so the client never
 * shares the Knot server's event loop, as a browser would not: keystroke round trips and bulk
 * output through either the Knot terminal route or `docker exec` directly. Prints one JSON line.
 */
import Docker from 'dockerode';
import WebSocket from 'ws';

export type WorkerTarget =
  | { kind: 'knot'; url: string; spaceId: string; token: string }
  | { kind: 'docker'; container: string }
  /** The bare WebSocket relay of terminal-relay.ts: a reference, not a product path. */
  | { kind: 'relay'; url: string };
export interface WorkerOptions {
  target: WorkerTarget;
  keystrokes: number;
  bulkBytes: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as WorkerOptions;
const KEYSTROKES = options.keystrokes;
const BULK_BYTES = options.bulkBytes;

/** A terminal as a pair of byte pipes, however it is reached. */
interface ByteSession {
  write(bytes: Buffer): void;
  onData(listener: (chunk: Buffer) => void): void;
  close(): void;
}

function openKnotSocket(baseUrl: string, spaceId: string, token: string, query: string): Promise<{ ws: WebSocket; session: string }> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/spaces/${spaceId}/terminal?cols=200&rows=50${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('close', (code, reason) => reject(new Error(`terminal closed ${code} ${reason.toString()}`)));
    // The server names the session in its first text frame.
    ws.once('message', (data: Buffer, isBinary) => (isBinary ? reject(new Error('no session message first')) : resolve({ ws, session: JSON.parse(data.toString()).session })));
  });
}

/**
 * The Knot route as a person meets it after a refresh: a session opened by one socket, that socket
 * gone, and the measured socket reattached to the same shell with `?session=`.
 */
async function knotSession(baseUrl: string, spaceId: string, token: string): Promise<ByteSession> {
  const first = await openKnotSocket(baseUrl, spaceId, token, '');
  first.ws.close();
  await new Promise((resolve) => first.ws.once('close', resolve));
  const { ws } = await openKnotSocket(baseUrl, spaceId, token, `&session=${first.session}`);
  return {
    write: (bytes) => ws.send(bytes, { binary: true }),
    onData: (listener) => ws.on('message', (data: Buffer, isBinary) => isBinary && listener(data)),
    // Detaches; the shell ends with the bench space, as the docker side's exec does.
    close: () => ws.close(),
  };
}

async function relaySession(url: string): Promise<ByteSession> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    write: (bytes) => ws.send(bytes, { binary: true }),
    onData: (listener) => ws.on('message', (data: Buffer, isBinary) => isBinary && listener(data)),
    close: () => ws.close(),
  };
}

async function dockerSession(docker: Docker, container: string): Promise<ByteSession> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ['sh', '-l'],
    Env: ['TERM=xterm-256color'],
    Tty: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as NodeJS.ReadWriteStream & { destroy(): void };
  await exec.resize({ w: 200, h: 50 });
  return {
    write: (bytes) => void stream.write(bytes),
    onData: (listener) => stream.on('data', listener),
    close: () => stream.destroy(),
  };
}

/** Collects output so a step can wait for a marker that the shell builds (so the typed line never matches). */
class Reader {
  private text = '';
  private waiter: (() => void) | null = null;
  bytes = 0;
  constructor(session: ByteSession) {
    session.onData((chunk) => {
      this.bytes += chunk.length;
      // Only the tail matters for markers; keeping 27 MB of base64 would measure the reader.
      this.text = (this.text + chunk.toString('latin1')).slice(-256);
      this.waiter?.();
    });
  }
  async until(marker: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text.includes(marker)) {
      if (Date.now() > deadline) throw new Error(`no "${marker}" within ${timeoutMs} ms; last output: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 1000);
      });
      this.waiter = null;
    }
    this.text = '';
  }
}

async function ready(session: ByteSession, reader: Reader) {
  session.write(Buffer.from('stty -icanon -echo min 1 time 0; echo "RE""ADY"\n'));
  await reader.until('READY');
}

/** One key at a time through `dd`: the time from sending it to seeing it come back. */
async function roundTrips(session: ByteSession): Promise<number[]> {
  // dd copies byte by byte and exits after the last keystroke, so no signal is needed to end it.
  session.write(Buffer.from(`dd bs=1 count=${KEYSTROKES + 1} 2>/dev/null; echo "CAT""GONE"\n`));
  const samples: number[] = [];
  let pending: { byte: number; started: bigint; done: () => void } | null = null;
  session.onData((chunk) => {
    if (pending && chunk.includes(pending.byte)) {
      samples.push(Number(process.hrtime.bigint() - pending.started) / 1e6);
      pending.done();
    }
  });
  // Let dd start reading before the clock runs.
  await probe(session, 0x2e);
  for (let i = 0; i < KEYSTROKES; i++) {
    const byte = 0x61 + (i % 26);
    await new Promise<void>((resolve) => {
      pending = { byte, started: process.hrtime.bigint(), done: resolve };
      session.write(Buffer.from([byte]));
    });
    pending = null;
  }
  return samples;

  function probe(s: ByteSession, byte: number) {
    return new Promise<void>((resolve) => {
      pending = { byte, started: process.hrtime.bigint(), done: resolve };
      s.write(Buffer.from([byte]));
    }).then(() => {
      pending = null;
      samples.length = 0;
    });
  }
}

/** Seconds to stream BULK_BYTES of zeros as base64 through the terminal; returns MB/s of terminal output. */
async function bulk(session: ByteSession, reader: Reader): Promise<number> {
  const before = reader.bytes;
  const started = process.hrtime.bigint();
  session.write(Buffer.from(`head -c ${BULK_BYTES} /dev/zero | base64; echo "BULK""DONE"\n`));
  await reader.until('BULKDONE');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return (reader.bytes - before) / 1e6 / seconds;
}

export interface Figures {
  latencies: number[];
  throughputs: number[];
}

async function round(open: () => Promise<ByteSession>, into: Figures) {
  const session = await open();
  const reader = new Reader(session);
  await ready(session, reader);
  into.latencies.push(...(await roundTrips(session)));
  await reader.until('CATGONE');
  into.throughputs.push(await bulk(session, reader));
  session.close();
}

const figures: Figures = { latencies: [], throughputs: [] };
const target = options.target;
await round(
  () =>
    target.kind === 'knot'
      ? knotSession(target.url, target.spaceId, target.token)
      : target.kind === 'relay'
        ? relaySession(target.url)
        : dockerSession(new Docker(), target.container),
  figures,
);
console.log(JSON.stringify(figures));
process.exit(0);
