import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { RawGraphQLSocket } from '../helpers/raw-socket.js';
import { waitFor } from '../helpers/wait.js';
import { openSql } from '../helpers/sql.js';
import { TEST_DATABASE_URL } from '../helpers/env.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

const CREATE_TEMPLATE = `mutation { createTemplate(input: {
  name: "busybox", platform: DOCKER, job: "image: knot-test/busybox:latest\\ncommand: [sleep, '3600']"
}) { id } }`;

/** Two Knot servers on one Postgres: events published on one reach subscribers on the other (LISTEN/NOTIFY). */
describe('two replicas sharing one database', () => {
  let a: TestServer;
  let b: TestServer;
  let token: string;
  let onA: GraphQLTestClient;
  let onB: GraphQLTestClient;

  beforeAll(async () => {
    a = await startTestServer();
    b = await startTestServer({ databaseUrl: a.databaseUrl });
    ({ token, client: onA } = await setupAdmin(a));
    onB = b.client(token);
  });
  afterAll(async () => {
    await onB?.close();
    await b?.stop();
    await a?.stop();
  });

  it('delivers a space created on A to a spacesChanged subscriber on B', async () => {
    const subscription = onB.subscribe<{ spacesChanged: { kind: string; spaceId: string; space: { name: string; status: string } | null } }>(
      `subscription { spacesChanged { kind spaceId space { name status } } }`,
    );
    const templateId = (await onA.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE)).createTemplate.id;
    // The subscription must be live on B before the event, or a miss would look like a pass-through failure.
    await waitFor(() => b.app.services.metrics.subscriptions.get().then((m) => m.values[0]?.value === 1), { what: 'the subscription on B' });

    const created = await onA.data<{ createSpace: { id: string } }>(
      `mutation($t: ID!) { createSpace(input: { templateId: $t, name: "replicated" }) { id } }`,
      { t: templateId },
    );
    const event = await subscription.next((e) => e.spacesChanged.kind === 'CREATED', 10_000);
    expect(event.spacesChanged).toEqual({
      kind: 'CREATED',
      spaceId: created.createSpace.id,
      space: { name: 'replicated', status: 'STOPPED' },
    });
    subscription.close();
  });

  it('refuses on B a token revoked on A, although B had it cached', async () => {
    const created = await onA.data<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      `mutation { createApiToken(name: "cross-replica") { token apiToken { id } } }`,
    );
    const viaB = b.client(created.createApiToken.token);
    expect((await viaB.data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('admin');
    const socketOnB = new RawGraphQLSocket(b.url, { connectionParams: { token: created.createApiToken.token } });
    await socketOnB.acknowledged();

    await onA.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: created.createApiToken.apiToken.id });
    // B's cache would hold the viewer for 10 s; the auth event must clear it well before that.
    await waitFor(async () => (await viaB.request(`{ me { username } }`)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', {
      timeout: 3_000,
      what: 'B to refuse the revoked token',
    });
    expect(await socketOnB.closeCode(3_000)).toBe(4403);
  });

  it('keeps delivering after the database drops every connection (LISTEN reconnects)', async () => {
    const received: string[] = [];
    const off = b.app.services.pubsub.on('template', (e) => void received.push(e.templateId));
    const sql = openSql(TEST_DATABASE_URL);
    try {
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${new URL(a.databaseUrl).pathname.slice(1)}`;
    } finally {
      await sql.end();
    }
    // Events sent while B is reconnecting may be lost; once it listens again they arrive.
    let n = 0;
    await waitFor(
      async () => {
        await a.app.services.pubsub.publish('template', { templateId: `probe-${n++}` });
        return received.length > 0;
      },
      { timeout: 10_000, interval: 200, what: 'an event on B after the reconnect' },
    );
    off();
    expect((await onB.data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('admin');
  });
  it('sends open subscriptions a fresh snapshot when their LISTEN comes back, so a change made while it was down is not lost', async () => {
    // A third replica, C, logs in as a role of its own, so its LISTEN can be kept down while A works on.
    const sql = openSql(TEST_DATABASE_URL);
    const role = `knot_replica_${randomBytes(4).toString('hex')}`;
    await sql.unsafe(`create role ${role} login superuser password 'replica'`);
    const url = new URL(a.databaseUrl);
    url.username = role;
    url.password = 'replica';
    const c = await startTestServer({ databaseUrl: url.toString() });
    const onC = c.client(token);
    try {
      const templateId = (await onA.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE.replace('"busybox"', '"busybox-resync"'))).createTemplate.id;
      const spaceId = (
        await onA.data<{ createSpace: { id: string } }>(`mutation($t: ID!) { createSpace(input: { templateId: $t, name: "resynced" }) { id } }`, { t: templateId })
      ).createSpace.id;
      type Change = { kind: string; spaceId: string; space: { status: string } | null };
      const one = onC.subscribe<{ spaceChanged: Change }>(`subscription($id: ID!) { spaceChanged(id: $id) { kind spaceId space { status } } }`, { id: spaceId });
      const all = onC.subscribe<{ spacesChanged: Change }>(`subscription { spacesChanged { kind spaceId space { status } } }`);
      await one.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
      await all.next((e) => e.spacesChanged.kind === 'SNAPSHOT' && e.spacesChanged.spaceId === spaceId);
      const statusOnA = async () => (await onA.data<{ space: { status: string } }>(`query($id: ID!) { space(id: $id) { status } }`, { id: spaceId })).space.status;

      await sql.unsafe(`alter role ${role} nologin`);
      try {
        const dropped = await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${role} and query ilike 'listen%'`;
        expect(dropped).toHaveLength(1);
        await onA.data(`mutation($id: ID!) { startSpace(id: $id) { status } }`, { id: spaceId });
        await waitFor(async () => (await statusOnA()) === 'RUNNING', { timeout: 60_000, what: 'the space to run, seen on A' });
        // Nothing reached C meanwhile: its subscribers still have the old status.
        expect(one.events.map((e) => e.spaceChanged.space?.status)).toEqual(['STOPPED']);
      } finally {
        await sql.unsafe(`alter role ${role} login`);
      }
      // C's LISTEN comes back: both subscriptions get the space as it is now.
      const fresh = await one.next((e) => e.spaceChanged.space?.status === 'RUNNING', 30_000);
      expect(fresh.spaceChanged.kind).toBe('SNAPSHOT');
      const freshAll = await all.next((e) => e.spacesChanged.spaceId === spaceId && e.spacesChanged.space?.status === 'RUNNING', 30_000);
      expect(freshAll.spacesChanged.kind).toBe('SNAPSHOT');
      one.close();
      all.close();

      await onA.data(`mutation($id: ID!) { stopSpace(id: $id) { status } }`, { id: spaceId });
      await waitFor(async () => (await statusOnA()) === 'STOPPED', { timeout: 60_000, what: 'the space to stop' });
      await onA.data(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: spaceId });
    } finally {
      await onC.close();
      await c.stop();
      await sql.unsafe(`drop role if exists ${role}`);
      await sql.end();
    }
  }, 180_000);
});
