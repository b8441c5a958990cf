import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_AGENT_TOKEN, HostAgent, WATCH_SERVICES, agentBundle, type ServicesChange } from '../agent/fixture.js';
import { startKnotProcess, type KnotProcess } from '../helpers/knot-process.js';
import { createUser } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TerminalClient } from '../terminal/terminal-client.js';
import { TcpFront } from './tcp-front.js';

const SHARE = `mutation($id: ID!, $userId: ID!) { shareSpace(id: $id, userId: $userId) { id } }`;

/**
 * Browser terminal sessions across replicas: A in this process, B a real server process killed
 * with SIGKILL. A session opened on B is reattached through A (the browser's socket went through
 * the load balancer elsewhere): relayed to B while B lives; after B died, a manual space's shell
 * (kept by its agent) is taken over by A, and a Docker space's, which died with B's exec, is said
 * to have ended so the page opens a new one.
 */
describe('terminal sessions when the browser comes back through another replica', () => {
  let h: SpacesHarness;
  let b: KnotProcess;
  let bDataDir: string;
  let flags: string;
  let front: TcpFront;
  let agent: HostAgent;
  /** The agent of a second manual space, connected to A: its shells are opened by B through A. */
  let deskAgent: HostAgent;
  let deskId: string;
  let sql: ReturnType<typeof openSql>;
  let manualId: string;
  let dockerId: string;
  const terminals: TerminalClient[] = [];
  const marker = `kept-${Math.floor(Math.random() * 1e6)}`;
  const dockerMarker = `box-${Math.floor(Math.random() * 1e6)}`;
  /** The manual space's session (opened on B) and what the last browser showed of it. */
  let manual: { id: string; position: number };
  let docker: { id: string; position: number };

  beforeAll(async () => {
    const bundle = await agentBundle();
    h = await startSpacesHarness({ config: { agentTimeoutMs: 15_000 } });
    sql = openSql(h.server.databaseUrl);
    flags = mkdtempSync(path.join(tmpdir(), 'knot-terminal-failover-'));
    bDataDir = mkdtempSync(path.join(tmpdir(), 'knot-terminal-failover-b-'));
    b = await startKnotProcess({ DATABASE_URL: h.server.databaseUrl, KNOT_DATA_DIR: bDataDir });
    const aPort = Number(new URL(h.server.url).port);
    const bPort = Number(new URL(b.url).port);
    front = new TcpFront(() => [bPort, aPort]);
    const frontPort = await front.listening;

    const manualTemplate = (await h.createTemplate({ name: 'laptop', platform: 'MANUAL', job: '', withTerminal: true })).id;
    manualId = (await h.createSpace({ templateId: manualTemplate, name: 'laptop', shell: 'sh' })).id;
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: manualId });
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: manualId });
    agent = new HostAgent(bundle, { KNOT_SERVER: `http://127.0.0.1:${frontPort}`, KNOT_SPACE_ID: manualId, KNOT_AGENT_TOKEN: createAgentToken.token });
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.terminal);
    sub.close();

    deskId = (await h.createSpace({ templateId: manualTemplate, name: 'desk', shell: 'sh' })).id;
    const desk = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: deskId });
    const deskSub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: deskId });
    deskAgent = new HostAgent(bundle, { KNOT_SERVER: h.server.url, KNOT_SPACE_ID: deskId, KNOT_AGENT_TOKEN: desk.createAgentToken.token });
    await deskSub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.terminal);
    deskSub.close();

    const dockerTemplate = (await h.createTemplate({ name: 'box', withTerminal: true })).id;
    dockerId = (await h.createSpace({ templateId: dockerTemplate, name: 'box', shell: 'sh' })).id;
    await h.startAndWait(dockerId);
  }, 180_000);

  afterAll(async () => {
    for (const t of terminals) t.close();
    await agent?.stop();
    await deskAgent?.stop();
    await front?.close();
    await b?.kill();
    await sql?.end();
    await h?.dispose();
    for (const dir of [bDataDir, flags]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function open(baseUrl: string, spaceId: string, query = '', token = h.admin.token) {
    const terminal = TerminalClient.open(baseUrl, spaceId, { token, query: `?cols=80&rows=24${query}` });
    terminals.push(terminal);
    return terminal;
  }

  /** The network under the browser drops: the socket is gone without a close handshake. */
  async function drop(terminal: TerminalClient) {
    const position = terminal.position;
    terminal.socket.terminate();
    await terminal.closed;
    return position;
  }

  /**
   * Output the shell prints while no browser shows it: a background job that waits for a flag
   * file, prints two lines, and leaves a second flag once they are out.
   */
  async function printLater(terminal: TerminalClient, name: string, touch: (file: string) => Promise<void>, exists: (file: string) => Promise<boolean>, dir: string) {
    const go = `${dir}/${name}.go`;
    const done = `${dir}/${name}.done`;
    await terminal.run(`(while [ ! -e ${go} ]; do sleep 0.05; done; echo "${name}-$((1))"; echo "${name}-$((2))"; touch ${done}) & :`);
    return {
      release: async () => {
        await touch(go);
        await waitFor(() => exists(done), { what: `${name}'s output` });
      },
    };
  }
  const onHost = [async (file: string) => writeFileSync(file, ''), async (file: string) => existsSync(file)] as const;
  const inBox = [
    async (file: string) => void (await h.exec(dockerId, ['touch', file])),
    async (file: string) => (await h.runtime.execCollect(`knot-space-${dockerId}`, ['test', '-e', file])).exitCode === 0,
  ] as const;

  const count = (text: string, what: string) => text.split(what).length - 1;

  it('relays a reattach through replica A to the session on live replica B: same shell, the output missed replayed once and in order', async () => {
    const first = open(b.url, manualId);
    const id = await first.sessionId();
    expect(await first.run(`MARK=${marker}; echo set`)).toBe('set\n');
    const later = await printLater(first, 'missed', ...onHost, flags);
    const position = await drop(first);
    await later.release();

    const again = open(h.server.url, manualId, `&session=${id}&from=${position}`);
    await again.waitForOutput(/missed-1\r?\nmissed-2/);
    expect(again.session).toEqual({ id, position });
    expect(count(again.text, 'missed-1')).toBe(1);
    expect(await again.run('echo "$MARK"')).toBe(`${marker}\n`);
    expect(count(again.text, 'missed-1')).toBe(1);
    expect(b.output()).toContain('relaying a terminal session held here');
    // The browser's own replica records nothing: the session is still B's.
    const [row] = await sql<{ replica: string }[]>`select replica_id as replica from terminal_sessions where id = ${id}`;
    expect(row!.replica).not.toBe(h.server.app.services.replicas.id);
    manual = { id, position: again.position };
  });

  it('relays a Docker space\'s session the same way while B lives (its exec is B\'s)', async () => {
    const first = open(b.url, dockerId);
    const id = await first.sessionId();
    expect(await first.run(`MARK=${dockerMarker}; echo set`)).toBe('set\n');
    const later = await printLater(first, 'boxed', ...inBox, '/tmp');
    const position = await drop(first);
    await later.release();
    const again = open(h.server.url, dockerId, `&session=${id}&from=${position}`);
    await again.waitForOutput(/boxed-1\r?\nboxed-2/);
    expect(count(again.text, 'boxed-1')).toBe(1);
    expect(await again.run('echo "$MARK"')).toBe(`${dockerMarker}\n`);
    docker = { id, position: again.position };
  });

  it('grants nothing for a session id alone: another user gets no terminal, a user the space is shared with gets not that session', async () => {
    const carol = await createUser(h.server, h.admin.client, 'carol');
    const stranger = open(h.server.url, manualId, `&session=${manual.id}`, carol.token);
    expect((await stranger.closed).code).toBe(4404);
    await h.admin.client.data(SHARE, { id: manualId, userId: carol.userId });
    const shared = open(h.server.url, manualId, `&session=${manual.id}`, carol.token);
    expect(await shared.closed).toEqual({ code: 4410, reason: 'That terminal session has ended.' });
    expect(b.output()).not.toMatch(new RegExp(`"userId":"${carol.userId}"[^\\n]*relaying a terminal session`));
  });

  it('when B dies: A takes the manual space\'s session over (same shell, output produced meanwhile replayed once); the Docker one ends with a clear message and a new shell opens', async () => {
    const relayed = terminals.find((t) => t.session?.id === manual.id && t.socket.readyState === t.socket.OPEN)!;
    const later = await printLater(relayed, 'away', ...onHost, flags);
    const dockerRelayed = terminals.find((t) => t.session?.id === docker.id && t.socket.readyState === t.socket.OPEN)!;
    // A session on B whose shell is on the agent connected to A (B relays it there).
    const onB = open(b.url, deskId);
    const deskSession = await onB.sessionId();
    const deskMarker = `desk-${Math.floor(Math.random() * 1e6)}`;
    expect(await onB.run(`MARK=${deskMarker}; echo set`)).toBe('set\n');

    await b.kill();
    // The relay to B is cut: the page is told to reattach (1011), as after any lost connection.
    expect((await relayed.closed).code).toBe(1011);
    expect((await dockerRelayed.closed).code).toBe(1011);
    expect((await onB.closed).code).toBe(1006);
    const position = relayed.position;
    await later.release();

    const backAt = Date.now();
    const resumed = open(h.server.url, manualId, `&session=${manual.id}&from=${position}`);
    await resumed.waitForOutput(/away-1\r?\naway-2/, { timeout: 45_000 });
    console.log(`manual session resumed through replica A ${Date.now() - backAt} ms after the browser reconnected`);
    expect(resumed.session).toEqual({ id: manual.id, position });
    expect(await resumed.run('echo "$MARK"')).toBe(`${marker}\n`);
    expect(count(resumed.text, 'away-1')).toBe(1);
    const [row] = await sql<{ replica: string }[]>`select replica_id as replica from terminal_sessions where id = ${manual.id}`;
    expect(row!.replica).toBe(h.server.app.services.replicas.id);

    // The agent on A was told to keep the shell B had opened through A (its relay died): A resumes it.
    const deskBack = open(h.server.url, deskId, `&session=${deskSession}&from=${onB.position}`);
    expect(await deskBack.run('echo "$MARK"')).toBe(`${deskMarker}\n`);
    expect(deskBack.session?.id).toBe(deskSession);

    // A Docker exec died with B: said at once, not a hang; the page then opens a new shell.
    const dockerAt = Date.now();
    const gone = open(h.server.url, dockerId, `&session=${docker.id}&from=${dockerRelayed.position}`);
    expect(await gone.closed).toEqual({ code: 4410, reason: 'The Knot server holding this terminal stopped, and its shell ended with it.' });
    expect(Date.now() - dockerAt).toBeLessThan(5_000);
    const fresh = open(h.server.url, dockerId);
    expect(await fresh.run('echo "fresh-$((6 * 7)) [$MARK]"')).toBe('fresh-42 []\n');
  }, 120_000);
});
