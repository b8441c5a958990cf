import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, MAX_MESSAGE, STREAM_WINDOW, encodeData } from '../../protocol/agent-wire.js';
import type { MuxStream } from '../../protocol/mux.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { CREATE_AGENT_TOKEN, RawAgent, WATCH_SERVICES, agentBundle, captureLogs, report, type ServicesChange } from './fixture.js';

/** What a broken or hostile agent gets: a refused connection and a log line, and the server carries on. */
describe('the agent gateway refuses', () => {
  let h: SpacesHarness;
  let logs: ReturnType<typeof captureLogs>;
  let templateId: string;
  const raw: RawAgent[] = [];

  beforeAll(async () => {
    logs = captureLogs();
    h = await startSpacesHarness({ config: { agentTimeoutMs: 3_000 }, logger: logs.logger });
    templateId = (await h.createTemplate({ name: 'manual', platform: 'MANUAL', job: '' })).id;
  });
  afterEach(() => {
    for (const agent of raw.splice(0)) agent.close();
  });
  afterAll(async () => {
    await h.dispose();
  });

  async function manualSpace(name: string) {
    const space = await h.createSpace({ templateId, name });
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: space.id });
    return { id: space.id, token: createAgentToken.token };
  }

  function agent(spaceId: string | null, token: string | null) {
    const a = new RawAgent(h.server.url, spaceId, token);
    raw.push(a);
    return a;
  }

  /** Connected and accepted: a report goes through and the space runs. */
  async function connected(spaceId: string, token: string) {
    const a = agent(spaceId, token);
    await a.opened;
    a.send(report());
    await waitFor(() => h.server.app.services.agents.isConnected(spaceId), { what: 'the agent to be accepted' });
    return a;
  }

  async function serverStillServes() {
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
    const { id, token } = await manualSpace(`alive-${randomUUID().slice(0, 8)}`);
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id });
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    await connected(id, token);
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.terminal);
    sub.close();
  }

  it('a missing, wrong or foreign token, and an unknown space, with 4401 and a log line', async () => {
    const mine = await manualSpace('mine');
    const theirs = await manualSpace('theirs');
    const attempts: [string | null, string | null][] = [
      [null, null],
      [mine.id, null],
      [mine.id, 'knota_not-a-real-token'],
      [mine.id, theirs.token],
      [randomUUID(), mine.token],
      ['not-a-uuid', mine.token],
    ];
    for (const [spaceId, token] of attempts) {
      const before = logs.lines.length;
      const { code, reason } = await agent(spaceId, token).closed;
      expect(code).toBe(CloseCode.unauthorized);
      expect(reason).toBe('the agent token is not valid for this space');
      expect(logs.lines.slice(before).some((l) => String(l.msg).startsWith('refused an agent'))).toBe(true);
    }
    expect(h.server.app.services.agents.isConnected(mine.id)).toBe(false);
    expect((await h.space(mine.id)).status).toBe('STOPPED');
    await serverStillServes();
  });

  it('a second agent for a space that has one, with 4409, leaving the first connected', async () => {
    const { id, token } = await manualSpace('twice');
    const first = await connected(id, token);
    const second = agent(id, token);
    expect((await second.closed).code).toBe(CloseCode.duplicate);
    expect(logs.find('refused a second agent')).toMatchObject({ spaceId: id });
    expect(h.server.app.services.agents.isConnected(id)).toBe(true);
    first.send(report({ codeServer: true }));
    await waitFor(() => h.server.app.services.serviceReports.get(id)?.codeServer, { what: "the first agent's report" });
  });

  it.each([
    ['text that is not JSON', '{"t": "report", '],
    ['an unknown message type', { t: 'launch-missiles' }],
    ['a report with fields of the wrong type', { t: 'report', report: { terminal: 'yes', codeServer: false, desktop: false, ssh: false, sshPort: null, vscodeTunnel: null, ports: [] } }],
    ['a report with an impossible port', report({ ports: [{ port: 70000, name: 'x', protocol: 'HTTP' }] })],
    ['a binary frame too short to name its stream', Buffer.from([1, 2])],
  ])('a malformed message (%s), with 4400 and a log line', async (_what, message) => {
    const { id, token } = await manualSpace(`bad-${randomUUID().slice(0, 8)}`);
    const a = await connected(id, token);
    if (Buffer.isBuffer(message)) a.ws.send(message, { binary: true });
    else a.send(message);
    expect((await a.closed).code).toBe(CloseCode.malformed);
    expect(logs.find('agent connection closed: malformed')).toMatchObject({ spaceId: id, code: CloseCode.malformed });
    await waitFor(() => !h.server.app.services.agents.isConnected(id), { what: 'the connection to be dropped' });
  });

  it('a frame over the size limit, with 1009 and a log line', async () => {
    const { id, token } = await manualSpace('huge');
    const a = await connected(id, token);
    a.ws.send(Buffer.alloc(MAX_MESSAGE + 1), { binary: true });
    expect((await a.closed).code).toBe(CloseCode.tooBig);
    expect(logs.find('agent connection error')).toMatchObject({ spaceId: id });
    await serverStillServes();
  });

  it('a stream that ignores the flow-control window: the stream is closed, not buffered', async () => {
    const { id, token } = await manualSpace('flood');
    const a = await connected(id, token);
    a.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const message = JSON.parse(String(data));
      if (message.t === 'open') a.send({ t: 'opened', id: message.id });
    });
    const stream = (await h.server.app.services.agents.dial(id, 5432)) as MuxStream;
    // Nobody reads on the server side, so no credit comes back; a real agent would stop at the window.
    const chunk = Buffer.alloc(60 * 1024, 7);
    for (let sent = 0; sent <= STREAM_WINDOW; sent += chunk.length) a.ws.send(encodeData(stream.id, chunk), { binary: true });
    await waitFor(() => stream.destroyed, { what: 'the flooded stream to be closed' });
    expect(stream.closeReason).toMatch(/flow-control window/);
    await waitFor(() => a.received.some((m) => !Buffer.isBuffer(m) && m.t === 'close' && m.id === stream.id), { what: 'the agent to be told' });
    // The connection itself lives on.
    expect(h.server.app.services.agents.isConnected(id)).toBe(true);
  });
});

describe('the agent bundle route', () => {
  let h: SpacesHarness;
  beforeAll(async () => {
    await agentBundle();
    h = await startSpacesHarness();
  });
  afterAll(async () => {
    await h.dispose();
  });

  it('serves the agent as one JavaScript file, with an ETag', async () => {
    const res = await fetch(`${h.server.url}/agent/knot-agent.mjs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(await res.text()).toContain('knot-agent/1');
    const etag = res.headers.get('etag')!;
    expect((await fetch(`${h.server.url}/agent/knot-agent.mjs`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${h.server.url}/agent/knot-agent.mjs`, { method: 'POST' })).status).toBe(405);
  });
});
