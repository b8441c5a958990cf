import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimSpace } from '../../server/src/agent-gateway/store.js';
import { hashToken } from '../../server/src/auth/secrets.js';
import { createLogger } from '../../server/src/logger.js';
import { ReplicaRegistry } from '../../server/src/replicas/registry.js';
import { CREATE_AGENT_TOKEN, HostAgent, WATCH_SERVICES, agentBundle, type ServicesChange } from '../agent/fixture.js';
import { startKnotProcess, type KnotProcess } from '../helpers/knot-process.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TcpFront } from './tcp-front.js';

/** The default: what an agent would wait for if its dead replica's lease had to run out. */
const LEASE_MS = 15_000;

/**
 * An agent whose replica died is taken over as soon as that replica is known dead (its address
 * refuses connections, its heartbeat is stale, or its row is gone), not when its lease runs out;
 * and of two live replicas claiming at once, exactly one gets the space.
 */
describe('claiming a space from a dead replica', () => {
  let h: SpacesHarness;
  let sql: ReturnType<typeof openSql>;
  let templateId: string;
  const extra: ReplicaRegistry[] = [];
  const log = createLogger('silent');

  beforeAll(async () => {
    h = await startSpacesHarness({ config: { agentTimeoutMs: LEASE_MS } });
    sql = openSql(h.server.databaseUrl);
    templateId = (await h.createTemplate({ name: 'laptop', platform: 'MANUAL', job: '', withTerminal: true })).id;
  }, 60_000);

  afterAll(async () => {
    for (const r of extra) await r.dispose();
    await sql?.end();
    await h?.dispose();
  });

  async function manualSpace(name: string) {
    const space = await h.createSpace({ templateId, name, shell: 'sh' });
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: space.id });
    return { id: space.id, token: createAgentToken.token };
  }

  /** A second live replica's registry on the same database (its row beats like a real one's). */
  async function liveReplica() {
    const registry = new ReplicaRegistry(h.server.app.services.db, log, 2_000);
    extra.push(registry);
    await registry.register('http://127.0.0.1:9', 9);
    return registry;
  }

  /** The space held by connection `session` of replica `replicaId`, its lease running for the full timeout. */
  async function heldBy(spaceId: string, replicaId: string, session = randomUUID()) {
    await sql`update spaces set agent_session = ${session}, agent_replica_id = ${replicaId}, agent_lease_until = now() + interval '15 seconds' where id = ${spaceId}`;
  }

  it('takes over at once from a replica whose heartbeat is stale or whose row is gone, never from a live one; two claiming at once: one wins', async () => {
    const a = h.server.app.services.replicas;
    const c = await liveReplica();
    const { id, token } = await manualSpace('race');
    const hash = hashToken(token);
    const claim = (registry: ReplicaRegistry) => claimSpace(h.server.app.services.db, id, hash, randomUUID(), LEASE_MS, registry.id, (col) => registry.gone(col));

    // Held by live replica C, lease running: A is refused, and told who holds it.
    await heldBy(id, c.id);
    expect(await claim(a)).toEqual({ ok: false, reason: 'duplicate', holder: c.id });

    for (let round = 0; round < 20; round++) {
      // A replica that died: its row is there but its heartbeat is a minute old (or, every other round, its row is gone).
      const dead = randomUUID();
      if (round % 2 === 0) await sql`insert into replicas (id, url, heartbeat_at) values (${dead}, 'http://127.0.0.1:9', now() - interval '1 minute')`;
      await heldBy(id, dead);
      const [first, second] = await Promise.all([claim(a), claim(c)]);
      expect([first.ok, second.ok].filter(Boolean)).toHaveLength(1);
      const [row] = await sql<{ holder: string }[]>`select agent_replica_id as holder from spaces where id = ${id}`;
      expect(row!.holder).toBe(first.ok ? a.id : c.id);
      // The winner is live: the loser stays refused.
      expect((await claim(first.ok ? c : a)).ok).toBe(false);
      await sql`delete from replicas where id = ${dead}`;
    }
  });

  it('puts the agent of a SIGKILLed replica back on the other replica well before the dead one\'s lease would have lapsed', async () => {
    const bundle = await agentBundle();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-takeover-b-'));
    let b: KnotProcess | undefined;
    let front: TcpFront | undefined;
    let agent: HostAgent | undefined;
    try {
      b = await startKnotProcess({ DATABASE_URL: h.server.databaseUrl, KNOT_DATA_DIR: dataDir, KNOT_AGENT_TIMEOUT_MS: String(LEASE_MS) });
      const aPort = Number(new URL(h.server.url).port);
      const bPort = Number(new URL(b.url).port);
      front = new TcpFront(() => [bPort, aPort]);
      const frontPort = await front.listening;
      const { id, token } = await manualSpace('crash');
      const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id });
      agent = new HostAgent(bundle, { KNOT_SERVER: `http://127.0.0.1:${frontPort}`, KNOT_SPACE_ID: id, KNOT_AGENT_TOKEN: token });
      await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && e.spaceChanged.space.services.terminal);
      expect(h.server.app.services.agents.isConnected(id)).toBe(false);

      const killedAt = Date.now();
      await b.kill();
      await waitFor(() => h.server.app.services.agents.isConnected(id), { timeout: 2 * LEASE_MS, what: 'the agent on replica A' });
      const backAfter = Date.now() - killedAt;
      const icons = await sub.next((e) => e.spaceChanged.space?.services.terminal === true);
      const iconsAfter = Date.now() - killedAt;
      sub.close();
      console.log(`agent back on replica A ${backAfter} ms after SIGKILL of replica B, icons ${iconsAfter} ms (lease ${LEASE_MS} ms)`);
      expect(icons.spaceChanged.space!.status).toBe('RUNNING');
      // Well before the lease: the takeover did not wait for it (the agent's own backoff is most of what is left).
      expect(backAfter).toBeLessThan(LEASE_MS / 3);
    } finally {
      await agent?.stop();
      await front?.close();
      await b?.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
