// An engine that is absent, refuses, hangs, or drops the event stream. The last ones use a
// fake engine on a unix socket, since the real one cannot be made to misbehave on cue.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RuntimeUnavailableError, createDockerRuntime, type ContainerEvent, type Runtime,
} from '../../server/src/runtime/index.js';
import { BUSYBOX, randomId, waitFor } from './helpers.js';

const disposers: (() => unknown)[] = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

function runtimeAt(dockerHost: string, opts: { requestTimeoutMs?: number } = {}): Runtime {
  const runtime = createDockerRuntime({ dockerHost, ...opts });
  disposers.push(() => runtime.close());
  return runtime;
}

async function fakeEngine(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  return (await fakeEngineServer(handler)).host;
}

async function fakeEngineServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const path = join(tmpdir(), `knot-fake-docker-${randomId()}.sock`);
  const server: Server = createServer(handler);
  let open = 0;
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  disposers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(path, { force: true });
  });
  return { host: `unix://${path}`, openConnections: () => open };
}

function eventLine(id: string, action: string, timeNano: bigint): string {
  // timeNano written as the engine does: a bare 19-digit number.
  const json = JSON.stringify({ Type: 'container', Action: action, Actor: { ID: id, Attributes: { name: id, image: 'x', 'knot.test': 'fake' } } });
  return `${json.slice(0, -1)},"timeNano":${timeNano}}\n`;
}

describe('an unreachable engine', { timeout: 15_000 }, () => {
  it('fails ping and runContainer fast with a person-readable message', async () => {
    const runtime = runtimeAt('unix:///tmp/nope.sock');
    const started = Date.now();
    const err = await runtime.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
    expect((err as Error).message).toBe('Docker engine is not reachable at unix:///tmp/nope.sock: connect ENOENT /tmp/nope.sock');

    await expect(runtime.runContainer({ name: 'x', image: BUSYBOX, cmd: ['true'] })).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await expect(runtime.listContainers()).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await expect(runtime.pullImage(BUSYBOX)).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await expect(runtime.stopAndRemoveContainer('x')).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await expect(runtime.execCollect('x', ['true'])).rejects.toBeInstanceOf(RuntimeUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('fails fast when TCP is refused', async () => {
    const runtime = runtimeAt('tcp://127.0.0.1:1');
    await expect(runtime.ping()).rejects.toThrow(/^Docker engine is not reachable at tcp:\/\/127\.0\.0\.1:1: connect ECONNREFUSED/);
  });

  it('gives up on an engine that accepts but never answers', async () => {
    const host = await fakeEngine(() => {}); // never responds
    const runtime = runtimeAt(host, { requestTimeoutMs: 300 });
    const started = Date.now();
    await expect(runtime.listVolumes()).rejects.toThrow("Docker engine at " + host + " did not answer within 0.3 s (list volumes)");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not mistake another HTTP service for an engine', async () => {
    const host = await fakeEngine((_req, res) => void res.writeHead(404).end('page not found'));
    await expect(runtimeAt(host).ping()).rejects.toThrow(
      `Docker engine is not reachable at ${host}: it answered HTTP 404 (page not found), not like a Docker engine`,
    );
  });

  it('keeps retrying the event stream and stops when closed', async () => {
    const runtime = runtimeAt('unix:///tmp/nope.sock');
    const errors: Error[] = [];
    const watch = runtime.watchEvents(() => {}, { onError: (e) => errors.push(e) });
    await waitFor(() => errors.length >= 2, 3_000, 'two failed attempts');
    expect(errors[0]).toBeInstanceOf(RuntimeUnavailableError);
    watch.close();
    const count = errors.length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(errors.length).toBe(count);
  });
});

describe('a dropped event stream', { timeout: 15_000 }, () => {
  it('is reported, reconnected, and replayed from where it broke without duplicates', async () => {
    const t1 = 1_700_000_000_123_456_789n;
    const t2 = t1 + 1_000n;
    const queries: URLSearchParams[] = [];
    const host = await fakeEngine((req, res) => {
      const url = new URL(req.url ?? '/', 'http://engine');
      if (!url.pathname.endsWith('/events')) return void res.writeHead(404).end();
      queries.push(url.searchParams);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (queries.length === 1) {
        res.write(eventLine('c1', 'start', t1));
        setTimeout(() => res.socket?.destroy(), 50); // the engine goes away
      } else {
        // The engine replays from `since`, inclusive of the event already delivered.
        res.write(eventLine('c1', 'start', t1));
        res.write(eventLine('c1', 'die', t2).replace('"name":"c1"', '"name":"c1","exitCode":"137"'));
      }
    });

    const runtime = runtimeAt(host);
    const events: ContainerEvent[] = [];
    const errors: Error[] = [];
    let reconnects = 0;
    const watch = runtime.watchEvents((e) => events.push(e), {
      labels: { 'knot.test': 'fake' },
      onError: (e) => errors.push(e),
      onReconnect: () => reconnects++,
    });
    disposers.push(() => watch.close());

    await waitFor(() => events.length === 2, 5_000, 'replayed events');
    expect(events.map((e) => [e.action, e.exitCode])).toEqual([['start', undefined], ['die', 137]]);
    expect(events[1]!.labels).toEqual({ 'knot.test': 'fake' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RuntimeUnavailableError);
    expect(reconnects).toBe(1);

    expect(JSON.parse(queries[0]!.get('filters')!)).toEqual({ type: ['container'], label: ['knot.test=fake'] });
    expect(queries[0]!.get('since')).toBeNull();
    expect(queries[1]!.get('since')).toBe('1700000000.123456789');
  });
});

describe('closing an event watch', { timeout: 15_000 }, () => {
  it('closes its connection', async () => {
    const engine = await fakeEngineServer((_req, res) => {
      res.writeHead(200);
      res.flushHeaders(); // a real engine sends the head at once, then events as they happen
    });
    const runtime = runtimeAt(engine.host);
    const watch = runtime.watchEvents(() => {});
    await watch.ready;
    expect(engine.openConnections()).toBe(1);
    watch.close();
    await waitFor(() => engine.openConnections() === 0, 2_000, 'connection closed');
  });

  it('closes a connection that is still waiting for the engine', async () => {
    const engine = await fakeEngineServer(() => {}); // never answers
    const runtime = runtimeAt(engine.host);
    const errors: Error[] = [];
    const watch = runtime.watchEvents(() => {}, { onError: (e) => errors.push(e) });
    await waitFor(() => engine.openConnections() === 1, 2_000, 'connection opened');
    watch.close();
    await waitFor(() => engine.openConnections() === 0, 2_000, 'connection closed');
    await watch.ready; // settles on close
    expect(errors).toEqual([]);
  });

  it('is closed by closing the runtime', async () => {
    const engine = await fakeEngineServer((_req, res) => {
      res.writeHead(200);
      res.flushHeaders();
    });
    const runtime = createDockerRuntime({ dockerHost: engine.host });
    await runtime.watchEvents(() => {}).ready;
    expect(engine.openConnections()).toBe(1);
    runtime.close();
    await waitFor(() => engine.openConnections() === 0, 2_000, 'connection closed');
  });
});
