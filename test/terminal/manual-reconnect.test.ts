import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_AGENT_TOKEN, HostAgent, WATCH_SERVICES, agentBundle, type ServicesChange } from '../agent/fixture.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TerminalClient } from './terminal-client.js';

/**
 * The network between a manual space's agent and the server, as a TCP relay the test can cut: it
 * destroys both ends of every connection (the agent and the server each see their socket die,
 * neither is told anything), and refuses new connections until it is joined again.
 */
class CuttableLink {
  private server = net.createServer((socket) => this.relay(socket));
  private pairs = new Set<[net.Socket, net.Socket]>();
  private down = false;
  connections = 0;

  constructor(private readonly target: URL) {}

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  private relay(socket: net.Socket) {
    if (this.down) return void socket.destroy();
    this.connections++;
    const upstream = net.connect(Number(this.target.port), this.target.hostname);
    const pair: [net.Socket, net.Socket] = [socket, upstream];
    this.pairs.add(pair);
    for (const end of pair) {
      end.on('error', () => {});
      end.once('close', () => {
        this.pairs.delete(pair);
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream);
    upstream.pipe(socket);
  }

  cut() {
    this.down = true;
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
  }

  join() {
    this.down = false;
  }

  get connected(): number {
    return this.pairs.size;
  }

  async close() {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function running(text: string): boolean {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((line) => line.includes(text));
}

/** Whether the process with this pid is alive on this machine (where the manual space's agent runs). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a manual space terminal across its agent losing its connection', () => {
  let h: SpacesHarness;
  let link: CuttableLink;
  let agent: HostAgent;
  let spaceId: string;
  let env: Record<string, string>;
  const terminals: TerminalClient[] = [];
  const agents: HostAgent[] = [];

  beforeAll(async () => {
    const bundle = await agentBundle();
    h = await startSpacesHarness();
    link = new CuttableLink(new URL(h.server.url));
    const templateId = (await h.createTemplate({ name: 'laptop', platform: 'MANUAL', job: '', withTerminal: true })).id;
    spaceId = (await h.createSpace({ templateId, name: 'laptop', shell: 'sh' })).id;
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: spaceId });
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    env = { KNOT_SERVER: await link.listen(), KNOT_SPACE_ID: spaceId, KNOT_AGENT_TOKEN: createAgentToken.token };
    agent = new HostAgent(bundle, env);
    agents.push(agent);
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.terminal);
    sub.close();
  });
  afterAll(async () => {
    for (const t of terminals) t.close();
    for (const a of agents) await a.stop();
    await link?.close();
    await h?.dispose();
  });

  it('keeps the shell in the agent, and the open terminal goes on with what was printed while the agent was away', async () => {
    const terminal = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token, query: '?cols=100&rows=30' });
    terminals.push(terminal);
    const pid = Number(await terminal.run('echo $$'));
    expect(alive(pid)).toBe(true);

    // Output the shell prints only once the agent can no longer send it anywhere.
    const sleep = `sleep ${(2 + Math.random()).toFixed(5)}`;
    await terminal.type(`${sleep}; echo "away-$((6 * 7))-$$"\n`);
    await waitFor(() => running(sleep), { what: 'the sleep to run' });
    const before = terminal.output.length;
    link.cut();
    await agent.logged('disconnected');
    // The agent did not end the shell: the sleep finishes and its echo runs while nobody listens.
    await waitFor(() => !running(sleep), { timeout: 20_000, what: 'the sleep to end while the agent is away' });
    expect(alive(pid)).toBe(true);
    expect(terminal.output.subarray(before).toString()).not.toContain('away-42');

    link.join();
    await terminal.waitForOutput(new RegExp(`away-42-${pid}`), { from: before, timeout: 30_000 });
    expect(link.connections).toBeGreaterThanOrEqual(2);
    // The same socket, the same shell: typing goes on where it was.
    expect(Number(await terminal.run('echo $$'))).toBe(pid);
    expect(await terminal.run('echo still-$((1 + 1))')).toBe('still-2\n');

    // A tab reattached to the session replays the output from before, during and after the cut, in order.
    const again = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token, query: `?session=${await terminal.sessionId()}` });
    terminals.push(again);
    await again.waitForOutput(/still-2/);
    const replay = again.text;
    expect(replay.indexOf(`away-42-${pid}`)).toBeGreaterThan(-1);
    expect(replay.indexOf(`away-42-${pid}`)).toBeLessThan(replay.lastIndexOf('still-2'));
  });

  it('ends the kept shell once the agent is back, when its session was closed while the agent was away', async () => {
    const terminal = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token });
    terminals.push(terminal);
    const pid = Number(await terminal.run('echo $$'));
    const sessionId = await terminal.sessionId();
    const disconnects = agent.output.filter((line) => line.includes('disconnected')).length;
    link.cut();
    await waitFor(() => agent.output.filter((line) => line.includes('disconnected')).length > disconnects, { what: 'the agent to see its connection cut' });
    await h.admin.client.data(`mutation($s: ID!, $t: ID!) { closeTerminalSession(spaceId: $s, sessionId: $t) }`, { s: spaceId, t: sessionId });
    expect((await terminal.closed).code).toBe(1000);
    // Nobody could tell the agent yet: the shell runs on until it reconnects.
    expect(alive(pid)).toBe(true);
    link.join();
    await waitFor(() => !alive(pid), { timeout: 30_000, what: 'the shell to end once its agent is back' });
  });

  it('ends the session with a message when the agent comes back without the shell (it was restarted)', async () => {
    const terminal = TerminalClient.open(h.server.url, spaceId, { token: h.admin.token });
    terminals.push(terminal);
    const pid = Number(await terminal.run('echo $$'));
    expect(alive(pid)).toBe(true);
    await agent.stop();
    // A restarted agent knows nothing of the old shells: it refuses the resume.
    agent = new HostAgent(await agentBundle(), env);
    agents.push(agent);
    const closed = await terminal.closed;
    expect(closed.code).toBe(1000);
    expect(closed.reason).toMatch(/shell ended/);
  });
});
