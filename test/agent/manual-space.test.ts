import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import type { Subscription } from '../helpers/graphql.js';
import { RESTART_SPACE, START_SPACE, STOP_SPACE, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { CREATE_AGENT_TOKEN, HostAgent, WATCH_SERVICES, agentBundle, type ServicesChange } from './fixture.js';

const TIMEOUT_MS = 2_000;

/**
 * A manual space is whatever machine runs its agent: here, the agent as a plain process on this
 * host (the shell goes through util-linux `script`). It runs while the agent is connected and stops
 * when the agent has been silent past the timeout.
 */
describe('manual spaces', () => {
  let h: SpacesHarness;
  let bundle: string;
  let manualTemplateId: string;
  let web: Server;
  let webPort: number;
  const agents: HostAgent[] = [];
  const subs: Subscription<unknown>[] = [];

  beforeAll(async () => {
    bundle = await agentBundle();
    h = await startSpacesHarness({ config: { agentTimeoutMs: TIMEOUT_MS } });
    manualTemplateId = (await h.createTemplate({ name: 'my laptop', platform: 'MANUAL', job: '', withTerminal: true })).id;
    web = createServer((_req, res) => res.end('hello from the laptop'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as AddressInfo).port;
  });
  afterEach(async () => {
    for (const sub of subs.splice(0)) sub.close();
    for (const agent of agents.splice(0)) await agent.stop();
  });
  afterAll(async () => {
    web.close();
    await h.dispose();
  });

  async function manualSpace(name: string) {
    const space = await h.createSpace({ templateId: manualTemplateId, name });
    const token = await h.admin.client.data<{ createAgentToken: { token: string; environment: string } }>(CREATE_AGENT_TOKEN, { id: space.id });
    return { space, ...token.createAgentToken };
  }

  function startAgent(environment: string, extra: Record<string, string> = {}) {
    const env = Object.fromEntries(environment.trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
    // The environment names the public URL; this test server listens on loopback.
    const agent = new HostAgent(bundle, { ...env, KNOT_SERVER: h.server.url, KNOT_HTTP_PORT: `${webPort}=web`, ...extra });
    agents.push(agent);
    return agent;
  }

  async function watch(spaceId: string) {
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    subs.push(sub as Subscription<unknown>);
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    return sub;
  }

  it('gives an agent token only to the owner (or MANAGE_SPACES), only for manual spaces, once per request', async () => {
    const { space, token, environment } = await manualSpace('tokens');
    expect(token).toMatch(/^knota_/);
    expect(environment).toBe(`KNOT_SERVER=${h.server.app.services.config.url}\nKNOT_SPACE_ID=${space.id}\nKNOT_AGENT_TOKEN=${token}\n`);
    const again = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: space.id });
    expect(again.createAgentToken.token).not.toBe(token);

    const other = await createUser(h.server, h.admin.client, 'other');
    expect(await other.client.errorCode(CREATE_AGENT_TOKEN, { id: space.id })).toBe('NOT_FOUND');
    expect(await h.server.anonymous.errorCode(CREATE_AGENT_TOKEN, { id: space.id })).toBe('UNAUTHENTICATED');
    const dockerTemplate = await h.createTemplate({ name: 'docker one' });
    const dockerSpace = await h.createSpace({ templateId: dockerTemplate.id, name: 'in-docker' });
    const res = await h.admin.client.request(CREATE_AGENT_TOKEN, { id: dockerSpace.id });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/manual templates/);
    await other.client.close();
  });

  it('runs while its agent is connected, with the reported port, and stops after the agent falls silent', async () => {
    const { space, environment } = await manualSpace('laptop');
    const sub = await watch(space.id);
    const agent = startAgent(environment);

    const running = await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.ports.length === 1);
    expect(running.spaceChanged.space!.services).toEqual({
      terminal: true,
      codeServer: false,
      desktop: false,
      ssh: false,
      vscodeTunnel: null,
      ports: [{ port: webPort, name: 'web', protocol: 'HTTP', url: `${h.server.app.services.config.url}/spaces/${space.id}/ports/${webPort}/` }],
    });
    expect(h.server.app.services.agents.isConnected(space.id)).toBe(true);

    // Frozen, not gone: the socket stays open but nothing arrives, so only the timeout can tell.
    const frozenAt = Date.now();
    agent.signal('SIGSTOP');
    const stopped = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED');
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(TIMEOUT_MS - 400);
    expect(stopped.spaceChanged.space!.services.ports).toEqual([]);
    expect(h.server.app.services.agents.isConnected(space.id)).toBe(false);

    // Thawed, it finds its socket closed and reconnects: the space runs again.
    agent.signal('SIGCONT');
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING');
    await agent.logged('disconnected (4408');
  });

  it('has no start, stop or restart: refused, and its agent is left alone', async () => {
    const { space, environment } = await manualSpace('no-buttons');
    const sub = await watch(space.id);
    expect(await h.admin.client.errorCode(START_SPACE, { id: space.id })).toBe('INVALID_TRANSITION');
    startAgent(environment);
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING');
    for (const mutation of [STOP_SPACE, RESTART_SPACE]) {
      const res = await h.admin.client.request(mutation, { id: space.id });
      expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
      expect(res.errors?.[0]?.message).toMatch(/manual template: it cannot be (stopped|restarted) from Knot; it stops by itself when its agent disconnects/);
    }
    expect((await h.space(space.id)).status).toBe('RUNNING');
    expect(h.server.app.services.agents.isConnected(space.id)).toBe(true);
  });

  it('stops when its agent is killed', async () => {
    const { space, environment } = await manualSpace('killed');
    const sub = await watch(space.id);
    const agent = startAgent(environment);
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.ports.length === 1);
    agent.signal('SIGKILL');
    // The icons go at once; the space stops once the agent stayed away past the timeout.
    const iconsGone = await sub.next((e) => e.spaceChanged.kind === 'SERVICES' && e.spaceChanged.space!.services.ports.length === 0);
    expect(iconsGone.spaceChanged.space!.status).toBe('RUNNING');
    await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED');
  });

  it('disconnects an agent whose token was replaced, and refuses it from then on', async () => {
    const { space, environment } = await manualSpace('rotated');
    const sub = await watch(space.id);
    const agent = startAgent(environment);
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING');
    await h.admin.client.data(CREATE_AGENT_TOKEN, { id: space.id });
    await agent.logged('disconnected (4401');
    await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED');
    // It keeps trying with the old token and keeps being refused.
    await agent.logged('the agent token is not valid for this space');
    expect(h.server.app.services.agents.isConnected(space.id)).toBe(false);
  });

  it('opens a login shell through the agent (a pty from script): echo, resize, exit code', async () => {
    const { space, environment } = await manualSpace('shell');
    const sub = await watch(space.id);
    startAgent(environment);
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING');

    const shell = await h.server.app.services.agents.openShell(space.id, { shell: 'no-such-shell', cols: 90, rows: 30 });
    let output = '';
    shell.stream.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
    const waitOutput = (pattern: RegExp) => waitForOutput(() => output, pattern);

    shell.stream.write('echo "h""i"; stty size\r');
    await waitOutput(/\bhi\r?\n/);
    await waitOutput(/30 90/);
    shell.resize(120, 40);
    // stty on the pty's slave takes a moment; ask until the shell sees the new size.
    await waitForOutput(
      () => {
        shell.stream.write('stty size\r');
        return output;
      },
      /40 120/,
      300,
    );
    shell.stream.write('exit 7\r');
    expect(await shell.exited).toBe(7);
  });
});

function waitForOutput(read: () => string, pattern: RegExp, interval = 100): Promise<boolean> {
  return waitFor(() => pattern.test(read()), { timeout: 10_000, interval, what: `${pattern} in the terminal output` });
}
