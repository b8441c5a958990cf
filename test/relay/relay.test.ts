import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELAY_PATH } from '../../server/src/relay/client.js';
import { RELAY_HEADER, signRelay } from '../../server/src/relay/signature.js';
import { CREATE_AGENT_TOKEN, HostAgent, WATCH_SERVICES, agentBundle, type ServicesChange } from '../agent/fixture.js';
import { startKnotProcess, type KnotProcess } from '../helpers/knot-process.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TerminalClient } from '../terminal/terminal-client.js';
import { TcpFront } from './tcp-front.js';

const AGENT_TIMEOUT_MS = 3_000;

/** How a WebSocket handshake ended: 'open', or the HTTP status that refused it. */
function handshake(url: string, headers: Record<string, string>): Promise<{ outcome: string; ws: WebSocket }> {
  const ws = new WebSocket(url, { headers });
  ws.on('error', () => {});
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ outcome: 'open', ws }));
    ws.once('unexpected-response', (req, res) => {
      req.destroy();
      resolve({ outcome: `HTTP ${res.statusCode}`, ws });
    });
    ws.once('close', (code) => resolve({ outcome: `closed ${code}`, ws }));
  });
}

/**
 * Two replicas on one Postgres: A (in this process) and B (a real server process, killed with
 * SIGKILL like a crash). The manual space's agent runs on this machine and reaches the replicas
 * through a TCP front that prefers B, so its agent is on B while the user talks to A.
 */
describe('any replica serves any space', () => {
  let h: SpacesHarness;
  let b: KnotProcess;
  let bDataDir: string;
  let front: TcpFront;
  let agent: HostAgent;
  let web: Server;
  let echo: TcpServer;
  let webPort: number;
  let echoPort: number;
  let spaceId: string;
  let sql: ReturnType<typeof openSql>;
  const terminals: TerminalClient[] = [];

  beforeAll(async () => {
    const bundle = await agentBundle();
    h = await startSpacesHarness({ config: { agentTimeoutMs: AGENT_TIMEOUT_MS } });
    sql = openSql(h.server.databaseUrl);
    bDataDir = mkdtempSync(path.join(tmpdir(), 'knot-relay-b-'));
    b = await startKnotProcess({ DATABASE_URL: h.server.databaseUrl, KNOT_DATA_DIR: bDataDir, KNOT_AGENT_TIMEOUT_MS: String(AGENT_TIMEOUT_MS) });
    const aPort = Number(new URL(h.server.url).port);
    const bPort = Number(new URL(b.url).port);
    front = new TcpFront(() => [bPort, aPort]);
    const frontPort = await front.listening;

    // What the laptop serves: a web app and a TCP echo, both on its loopback.
    web = createHttpServer((req, res) => res.end(`hello from the laptop: ${req.url}`));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as { port: number }).port;
    echo = createTcpServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;

    const templateId = (await h.createTemplate({ name: 'laptop', platform: 'MANUAL', job: '', withTerminal: true })).id;
    spaceId = (await h.createSpace({ templateId, name: 'laptop', shell: 'sh' })).id;
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: spaceId });
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    agent = new HostAgent(bundle, {
      KNOT_SERVER: `http://127.0.0.1:${frontPort}`,
      KNOT_SPACE_ID: spaceId,
      KNOT_AGENT_TOKEN: createAgentToken.token,
      KNOT_HTTP_PORT: `${webPort}=web`,
      KNOT_TCP_PORT: `${echoPort}=echo`,
    });
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.ports.length === 2);
    sub.close();
    // The agent is on B: everything A does with the space below is relayed.
    expect(h.server.app.services.agents.isConnected(spaceId)).toBe(false);
  }, 120_000);

  afterAll(async () => {
    for (const t of terminals) t.close();
    await agent?.stop();
    await front?.close();
    await b?.kill();
    web?.close();
    echo?.close();
    await sql?.end();
    await h?.dispose();
    if (bDataDir) rmSync(bDataDir, { recursive: true, force: true });
  });

  function terminalThroughA() {
    const terminal = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token, query: '?cols=90&rows=20' });
    terminals.push(terminal);
    return terminal;
  }

  it('opens a terminal through replica A to the agent on replica B: it echoes, resizes, and its exit reaches the browser', async () => {
    const terminal = terminalThroughA();
    expect(await terminal.run('echo relayed-$((6 * 7))')).toBe('relayed-42\n');
    expect(await terminal.run('stty size')).toBe('20 90\n');
    await terminal.resize(120, 30);
    await waitFor(async () => (await terminal.run('stty size')) === '30 120\n', { what: 'the new size through the relay' });
    // The shell ending on the far side closes the browser's socket, with its exit code.
    await terminal.type('exit 3\n');
    expect(await terminal.closed).toEqual({ code: 1000, reason: 'The shell exited with code 3.' });
    // B's log names the user A authorized.
    expect(b.output()).toMatch(new RegExp(`"userId":"${h.admin.userId}"[^\\n]*relaying a stream to this replica's agent`));
  });

  it('serves a proxied HTTP port and a forward through replica A, with flow control end to end', async () => {
    const response = await fetch(`${h.server.url}/spaces/${spaceId}/ports/${webPort}/some/page?x=1`, { headers: { authorization: `Bearer ${h.admin.token}` } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from the laptop: /some/page?x=1');

    // 8 MiB through the echo, far beyond every window and buffer on the way: it comes back whole.
    const forward = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}/spaces/${spaceId}/forward/${echoPort}`, { headers: { authorization: `Bearer ${h.admin.token}` } });
    await new Promise((resolve, reject) => forward.once('open', resolve).once('error', reject));
    const sent = randomBytes(8 * 1024 * 1024);
    const received: Buffer[] = [];
    let length = 0;
    forward.on('message', (data: Buffer) => {
      received.push(data);
      length += data.length;
    });
    for (let i = 0; i < sent.length; i += 64 * 1024) forward.send(sent.subarray(i, i + 64 * 1024));
    await waitFor(() => length >= sent.length, { timeout: 60_000, what: 'the echo of 8 MiB' });
    expect(Buffer.concat(received).equals(sent)).toBe(true);
    // Closing the browser's side closes the connection inside the space (through B).
    const before = await new Promise<number>((resolve) => echo.getConnections((_e, n) => resolve(n)));
    expect(before).toBe(1);
    forward.close();
    await waitFor(async () => (await new Promise<number>((resolve) => echo.getConnections((_e, n) => resolve(n)))) === 0, { what: 'the echo connection to close' });
  });

  it('refuses a forged relay request: no signature, a wrong key, a user token, a replay, another replica\'s', async () => {
    const [row] = await sql<{ secret: string }[]>`select replica_secret as secret from installation`;
    const secret = row!.secret;
    const replicas = await sql<{ id: string; url: string }[]>`select id, url from replicas`;
    const bReplica = replicas.find((r) => new URL(r.url).port === new URL(b.url).port)!;
    const aReplica = replicas.find((r) => r.id === h.server.app.services.replicas.id)!;
    expect(bReplica && aReplica).toBeTruthy();
    const url = `${b.url.replace(/^http/, 'ws')}${RELAY_PATH}`;
    const claims = (to: string) => ({ to, from: aReplica.id, spaceId, open: { kind: 'dial' as const, port: webPort }, by: null });
    const key = Buffer.from(secret, 'utf8');

    expect((await handshake(url, {})).outcome).toBe('HTTP 401');
    expect((await handshake(url, { authorization: `Bearer ${h.admin.token}` })).outcome).toBe('HTTP 401');
    expect((await handshake(url, { [RELAY_HEADER]: signRelay(randomBytes(32), claims(bReplica.id)) })).outcome).toBe('HTTP 401');
    expect((await handshake(url, { [RELAY_HEADER]: signRelay(key, claims(aReplica.id)) })).outcome).toBe('HTTP 401');
    expect((await handshake(url, { [RELAY_HEADER]: signRelay(key, claims(bReplica.id), Date.now() - 120_000) })).outcome).toBe('HTTP 401');
    // Well signed it is served once; the same header again is a replay.
    const header = signRelay(key, claims(bReplica.id));
    const first = await handshake(url, { [RELAY_HEADER]: header });
    expect(first.outcome).toBe('open');
    first.ws.close();
    expect((await handshake(url, { [RELAY_HEADER]: header })).outcome).toBe('HTTP 401');
    expect(b.output()).toContain('refused a relay request');
  });

  it('moves the agent to replica A when replica B dies: its icons come back, and a terminal open through A goes on with the same shell', async () => {
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    const open = terminalThroughA();
    const marker = `kept-${Math.floor(Math.random() * 1e6)}`;
    expect(await open.run(`MARK=${marker}; echo set`)).toBe('set\n');

    await b.kill();
    await agent.logged('reconnecting');
    await waitFor(() => h.server.app.services.agents.isConnected(spaceId), { timeout: 60_000, what: 'the agent to reconnect to replica A' });
    const back = await sub.next((e) => e.spaceChanged.space?.services.ports.length === 2);
    expect(back.spaceChanged.space!.status).toBe('RUNNING');
    sub.close();

    // The agent kept the shell through its lost connection; A resumes it on the agent's new one.
    expect(await open.run('echo "$MARK"')).toBe(`${marker}\n`);
    const again = terminalThroughA();
    expect(await again.run('echo after-$((1 + 1))')).toBe('after-2\n');
  }, 90_000);
});
