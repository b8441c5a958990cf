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
});
