import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { RawGraphQLSocket } from '../helpers/raw-socket.js';
import { waitFor } from '../helpers/wait.js';
import { openSql } from '../helpers/sql.js';
import { TEST_DATABASE_URL } from '../helpers/env.js';

/** The value of one Prometheus sample line, e.g. `knot_graphql_subscriptions_open 1`. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

const METRICS_TOKEN = 'scraper-secret';

describe('/healthz and /metrics', () => {
  let server: TestServer;
  let token: string;
  const metrics = async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };
  const openSubscriptions = async () => sample(await metrics(), 'knot_graphql_subscriptions_open');

  beforeAll(async () => {
    server = await startTestServer({ config: { metricsToken: METRICS_TOKEN } });
    ({ token } = await setupAdmin(server));
  });
  afterAll(() => server.stop());

  it('answers /healthz 200 while the database is up', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: 'ok' });
  });

  it('answers /healthz 503 while the database refuses connections, and 200 again once it is back', async () => {
    const dbName = new URL(server.databaseUrl).pathname.slice(1);
    const sql = openSql(TEST_DATABASE_URL);
    try {
      await sql.unsafe(`alter database ${dbName} with allow_connections false`);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName}`;
      const down = await fetch(`${server.url}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ status: 'unavailable', database: 'unreachable' });
    } finally {
      await sql.unsafe(`alter database ${dbName} with allow_connections true`);
      await sql.end();
    }
    await waitFor(async () => (await fetch(`${server.url}/healthz`)).status === 200, { what: '/healthz to recover' });
  });

  it('counts requests by route and status, with latencies', async () => {
    const before = sample(await metrics(), 'knot_http_requests_total', 'route="/graphql",status="200"') ?? 0;
    for (let i = 0; i < 3; i++) await server.client(token).data(`{ me { id } }`);
    const text = await metrics();
    expect(sample(text, 'knot_http_requests_total', 'route="/graphql",status="200"')).toBe(before + 3);
    expect(sample(text, 'knot_http_request_duration_seconds_count', 'route="/graphql"')).toBeGreaterThanOrEqual(before + 3);
    expect(text).toMatch(/knot_http_request_duration_seconds_bucket\{le="0\.05",route="\/graphql"\} \d+/);
    expect(sample(text, 'knot_http_requests_total', 'route="/healthz",status="200"')).toBeGreaterThanOrEqual(1);
  });

  it('gauges open subscriptions: up when one opens, back down on complete and on socket close', async () => {
    expect(await openSubscriptions()).toBe(0);
    const socket = new RawGraphQLSocket(server.url, { connectionParams: { token } });
    await socket.acknowledged();
    socket.subscribe('s1', `subscription { spacesChanged { kind } }`);
    await waitFor(async () => (await openSubscriptions()) === 1, { what: 'the gauge to show 1' });
    expect(sample(await metrics(), 'knot_websocket_connections_open', 'route="/graphql"')).toBe(1);

    socket.complete('s1');
    await waitFor(async () => (await openSubscriptions()) === 0, { what: 'the gauge to drop after complete' });

    socket.subscribe('s2', `subscription { spacesChanged { kind } }`);
    await waitFor(async () => (await openSubscriptions()) === 1, { what: 'the gauge to show 1 again' });
    // Closing the socket without completing must count it down too (graphql-ws runs onComplete).
    await socket.close();
    await waitFor(async () => (await openSubscriptions()) === 0, { what: 'the gauge to drop after the socket closed' });
    await waitFor(async () => sample(await metrics(), 'knot_websocket_connections_open', 'route="/graphql"') === 0, { what: 'no open sockets' });
  });

  it('does not count refused subscriptions', async () => {
    const admin = server.client(token);
    const { token: plainToken } = await createUser(server, admin, 'plain');
    const socket = new RawGraphQLSocket(server.url, { connectionParams: { token: plainToken } });
    await socket.acknowledged();
    socket.subscribe('bad', `subscription { noSuchField }`);
    await socket.waitFor((m) => m.id === 'bad' && m.type === 'error');
    // Another user's spaces: refused by the resolver, after the subscription was counted.
    socket.subscribe('forbidden', `subscription { spacesChanged(userId: "00000000-0000-4000-8000-00000000ffff") { kind } }`);
    const refused = await socket.waitFor((m) => m.id === 'forbidden' && (m.type === 'error' || m.type === 'next'));
    expect(JSON.stringify(refused.payload)).toContain('FORBIDDEN');
    await waitFor(async () => (await openSubscriptions()) === 0, { what: 'the gauge at 0 while the socket is open' });
    await socket.close();
    await waitFor(async () => (await openSubscriptions()) === 0, { what: 'the gauge at 0' });
  });
});
