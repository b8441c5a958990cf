import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../protocol/agent-wire.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { CREATE_AGENT_TOKEN, RawAgent, WATCH_SERVICES, report, type ServicesChange } from './fixture.js';

const TIMEOUT_MS = 3_000;
const WEB = { port: 8080, name: 'web', protocol: 'HTTP' };

/**
 * Replicas share one database: an agent holds its space on one replica (the lease on the row), its
 * report is on the row, and subscribers anywhere see it. Streams to it go through its replica.
 */
describe('agents and replicas', () => {
  let h: SpacesHarness;
  let b: TestServer;
  let adminOnB: GraphQLTestClient;
  let templateId: string;
  let sql: ReturnType<typeof openSql>;
  const agents: RawAgent[] = [];

  beforeAll(async () => {
    h = await startSpacesHarness({ config: { agentTimeoutMs: TIMEOUT_MS } });
    b = await startTestServer({ databaseUrl: h.server.databaseUrl, config: { agentTimeoutMs: TIMEOUT_MS } });
    adminOnB = b.client(h.admin.token);
    templateId = (await h.createTemplate({ name: 'manual', platform: 'MANUAL', job: '' })).id;
    sql = openSql(h.server.databaseUrl);
  });
  afterAll(async () => {
    for (const a of agents) a.close();
    await adminOnB.close();
    await sql.end();
    await b.stop();
    await h.dispose();
  });

  async function manualSpace(name: string) {
    const space = await h.createSpace({ templateId, name });
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: space.id });
    return { id: space.id, token: createAgentToken.token };
  }

  /** A hand-spoken agent that reports and keeps reporting, like a live one. */
  async function liveAgent(server: TestServer, spaceId: string, token: string, ports = [WEB]) {
    const agent = new RawAgent(server.url, spaceId, token);
    agents.push(agent);
    await agent.opened;
    agent.send(report({ ports }));
    const beat = setInterval(() => agent.ws.readyState === agent.ws.OPEN && agent.send({ t: 'hb' }), 300);
    void agent.closed.then(() => clearInterval(beat));
    return agent;
  }

  async function watchOnB(spaceId: string) {
    const sub = adminOnB.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    return sub;
  }

  it("shows an agent's report to subscribers on another replica, and refuses a second agent there", async () => {
    const { id, token } = await manualSpace('shared');
    const sub = await watchOnB(id);
    await liveAgent(h.server, id, token);
    const seen = await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.ports.length === 1);
    expect(seen.spaceChanged.space!.services.ports).toEqual([{ ...WEB, url: `${b.app.services.config.url}/spaces/${id}/ports/8080/` }]);
    // The agent is connected to its own replica only; the others relay streams to it (test/relay).
    expect(h.server.app.services.agents.isConnected(id)).toBe(true);
    expect(b.app.services.agents.isConnected(id)).toBe(false);

    const second = new RawAgent(b.url, id, token);
    agents.push(second);
    expect((await second.closed).code).toBe(CloseCode.duplicate);
    sub.close();
  });

  it('hands an agent over when its replica shuts down, without stopping the manual space', async () => {
    const c = await startTestServer({ databaseUrl: h.server.databaseUrl, keepDatabase: true, config: { agentTimeoutMs: TIMEOUT_MS } });
    const { id, token } = await manualSpace('handover');
    const sub = await watchOnB(id);
    const first = await liveAgent(c, id, token);
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.ports.length === 1);

    await c.stop();
    expect((await first.closed).code).toBe(CloseCode.goingAway);
    // The agent comes back through another replica within the timeout.
    await liveAgent(b, id, token);
    await waitFor(() => b.app.services.agents.isConnected(id), { what: 'the agent on replica B' });
    await sub.next((e) => e.spaceChanged.space?.services.ports.length === 1 && b.app.services.agents.isConnected(id));
    const statuses = sub.events.map((e) => e.spaceChanged.space?.status);
    expect(statuses.slice(statuses.indexOf('RUNNING'))).not.toContain('STOPPED');
    sub.close();
  });

  it("clears what a replica that died left behind once its lease lapses: icons gone, manual space stopped", async () => {
    const { id } = await manualSpace('orphaned');
    const sub = await watchOnB(id);
    // As a crashed replica leaves it: held by a connection nobody has, the lease about to lapse.
    await sql`update spaces set status = 'RUNNING', agent_session = 'a-replica-that-died',
      agent_lease_until = now() + interval '300 milliseconds',
      services = ${sql.json({ terminal: true, codeServer: false, desktop: false, ssh: false, sshPort: null, vscodeTunnel: null, ports: [WEB] })}
      where id = ${id}`;
    const stopped = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED');
    expect(stopped.spaceChanged.space!.services.ports).toEqual([]);
    const [row] = await sql`select services, agent_session from spaces where id = ${id}`;
    expect(row).toEqual({ services: null, agent_session: null });
    sub.close();
  });

  it('leaves a running manual space to its agent when another replica boots (no container is not a failure)', async () => {
    const { id, token } = await manualSpace('through-boot');
    await liveAgent(h.server, id, token);
    await waitFor(async () => (await h.space(id)).status === 'RUNNING', { what: 'RUNNING' });
    const d = await startTestServer({ databaseUrl: h.server.databaseUrl, keepDatabase: true });
    try {
      await d.app.services.spaceJobs.idle();
      expect(await h.space(id)).toMatchObject({ status: 'RUNNING', error: null });
    } finally {
      await d.stop();
    }
  });
});
