import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/agent-wire.js';
import type { Subscription } from '../helpers/graphql.js';
import { waitFor } from '../helpers/wait.js';
import { UPDATE_TEMPLATE, containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { RawAgent, WATCH_SERVICES, agentBundle, agentJob, captureLogs, type ServicesChange, type ServicesView } from './fixture.js';

/**
 * A Docker space whose job runs real services and the agent it fetched from the server, in the
 * busybox + Node test image (so its shells get their pty from busybox telnetd).
 */
describe('the agent in a Docker space', () => {
  let h: SpacesHarness;
  let logs: ReturnType<typeof captureLogs>;
  let templateId: string;
  let spaceId: string;
  let sub: Subscription<ServicesChange>;
  const next = (match: (s: ServicesView, status: string) => boolean) =>
    sub.next((e) => !!e.spaceChanged.space && match(e.spaceChanged.space.services, e.spaceChanged.space.status));
  const exec = (script: string) => h.exec(spaceId, ['sh', '-c', script]);

  beforeAll(async () => {
    await agentBundle();
    logs = captureLogs();
    h = await startSpacesHarness({ host: '0.0.0.0', config: { agentTimeoutMs: 3_000 }, logger: logs.logger });
    templateId = (await h.createTemplate({ name: 'with agent', job: agentJob(), withCodeServer: true, withVSCodeTunnel: true })).id;
    spaceId = (await h.createSpace({ templateId, name: 'agented' })).id;
    sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    await h.startAndWait(spaceId);
  });
  afterAll(async () => {
    sub?.close();
    await h?.dispose();
  });

  it('shows the icons of what answers, over the subscription', async () => {
    const { spaceChanged } = await next((s) => s.codeServer && s.ports.length === 2);
    expect(spaceChanged.kind).toBe('SERVICES');
    expect(spaceChanged.space!.services).toEqual({
      terminal: true,
      codeServer: true,
      desktop: false,
      ssh: false,
      vscodeTunnel: { name: 'my-tunnel', connected: false },
      ports: [
        { port: 8080, name: 'web', protocol: 'HTTP', url: `${h.server.app.services.config.url}/spaces/${spaceId}/ports/8080/` },
        { port: 9000, name: 'echo', protocol: 'TCP', url: null },
      ],
    });
    expect(h.server.app.services.serviceReports.get(spaceId)?.ports.map((p) => p.port)).toEqual([8080, 9000]);
  });

  it("shows the VS Code tunnel as connected once the tunnel's status says so", async () => {
    await exec(`echo '{"tunnel":{"name":"my-tunnel","tunnel":"Connected"},"service_installed":false}' > /tmp/tunnel.json`);
    const { spaceChanged } = await next((s) => !!s.vscodeTunnel?.connected);
    expect(spaceChanged.space!.services.vscodeTunnel).toEqual({ name: 'my-tunnel', connected: true });
  });

  it('shows an icon only while the template enables its service', async () => {
    const template = await h.space(spaceId);
    await h.admin.client.data(UPDATE_TEMPLATE, { id: template.template.id, input: { withCodeServer: false } });
    await next((s) => !s.codeServer && s.ports.length === 2);
    await h.admin.client.data(UPDATE_TEMPLATE, { id: template.template.id, input: { withCodeServer: true } });
    await next((s) => s.codeServer);
  });

  it('dials a port inside the space: bytes round-trip through the TCP echo, binary-safe, with flow control', async () => {
    expect(h.server.app.services.agents.isConnected(spaceId)).toBe(true);
    const stream = await h.server.app.services.agents.dial(spaceId, 9000);
    // Every byte value, then 3 MiB more: several flow-control windows' worth in each direction.
    const payload = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3 * 1024 * 1024)]);
    const echoed = collect(stream);
    stream.end(payload);
    expect((await echoed).equals(payload)).toBe(true);
  });

  it('refuses a dial to a port where nothing listens, saying so', async () => {
    await expect(h.server.app.services.agents.dial(spaceId, 9999)).rejects.toThrow(/nothing answers on port 9999/);
  });

  it('opens a login shell (falling back to sh): echo, binary output, resize, exit code', async () => {
    const shell = await h.server.app.services.agents.openShell(spaceId, { shell: 'bash', cols: 80, rows: 24 });
    let output = Buffer.alloc(0);
    shell.stream.on('data', (chunk: Buffer) => (output = Buffer.concat([output, chunk])));
    const seen = (pattern: RegExp, interval = 50) => waitFor(() => pattern.test(output.toString('latin1')), { timeout: 10_000, interval, what: `${pattern} in ${JSON.stringify(output.toString('latin1'))}` });

    shell.stream.write('echo "h""i"; echo $0; stty size\r');
    await seen(/\bhi\r\n/);
    await seen(/\b24 80\r\n/);
    expect(output.toString('latin1')).toMatch(/-?sh\r\n/);
    // 0xFF is telnet's escape byte: it must reach the terminal as itself.
    shell.stream.write("printf 'A\\377B\\001C\\n'\r");
    await waitFor(() => output.includes(Buffer.from([0x41, 0xff, 0x42, 0x01, 0x43])), { what: 'the raw bytes A FF B 01 C' });
    shell.resize(132, 50);
    await waitFor(
      () => {
        shell.stream.write('stty size\r');
        return /\b50 132\r\n/.test(output.toString('latin1'));
      },
      { interval: 300, what: 'the new size inside the shell' },
    );
    shell.stream.write('exit 3\r');
    expect(await shell.exited).toBe(3);
  });

  it('removes the icon of a service that stops answering', async () => {
    await exec('kill $(cat /tmp/web.pid)');
    const { spaceChanged } = await next((s) => s.ports.length === 1);
    expect(spaceChanged.space!.services.ports).toEqual([{ port: 9000, name: 'echo', protocol: 'TCP', url: null }]);
    expect(spaceChanged.space!.services.codeServer).toBe(true);
    await exec('kill $(cat /tmp/code.pid)');
    await next((s) => !s.codeServer && s.ports.length === 1);
  });

  it("removes every agent icon when the agent is killed (the terminal stays: Docker's exec serves it)", async () => {
    await exec('kill -9 $(cat /tmp/agent.pid)');
    const { spaceChanged } = await next((s) => s.ports.length === 0);
    expect(spaceChanged.space!.status).toBe('RUNNING');
    expect(spaceChanged.space!.services).toEqual({ terminal: true, codeServer: false, desktop: false, ssh: false, vscodeTunnel: null, ports: [] });
    await waitFor(() => !h.server.app.services.agents.isConnected(spaceId), { what: 'the agent to be gone' });
    await expect(h.server.app.services.agents.dial(spaceId, 9000)).rejects.toThrow(/no agent is connected/);
  });

  it("refuses the token of an earlier start once the space was stopped and started again", async () => {
    const env = await waitFor(async () => (await h.runtime.inspectContainer(containerOf(spaceId)))?.env);
    const oldToken = env.KNOT_AGENT_TOKEN!;
    await h.stopAndWait(spaceId);
    await h.startAndWait(spaceId);
    await next((s) => s.ports.length === 2);

    const replay = new RawAgent(h.server.url, spaceId, oldToken);
    expect((await replay.closed).code).toBe(CloseCode.unauthorized);
    expect(logs.find('refused an agent: wrong, revoked or missing token')).toMatchObject({ spaceId });
    // The space's real agent is untouched.
    expect(h.server.app.services.agents.isConnected(spaceId)).toBe(true);
  });
});

function collect(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('close', () => setImmediate(() => reject(new Error('the stream closed before it ended'))));
  });
}
