/**
 * Webhooks against a real local receiver, on a real server and database: signed bodies, retries
 * of a failing receiver, the delivery log, two replicas sending each event once, and the refusals
 * (bad URLs, private targets, unknown events, no secret) that save nothing.
 */
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backoffMs } from '../../server/src/webhooks/delivery-worker.js';
import { refusedRange } from '../../server/src/webhooks/url-guard.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { waitFor } from '../helpers/wait.js';
import { startReceiver, verify } from './receiver.js';

const SECRET = 'a-long-enough-webhook-secret';
const CREATE = `mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { id url events active } }`;
const UPDATE = `mutation($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) { id url events active } }`;
const DELIVERIES = `query($id: ID!) { webhook(id: $id) { lastDelivery { id status attempts } deliveries(first: 50) { id eventId event status attempts lastStatusCode lastError lastResponseBody nextAttemptAt deliveredAt } } }`;

interface Delivery {
  id: string;
  eventId: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastResponseBody: string | null;
}

let server: TestServer;
let admin: GraphQLTestClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const cleanups: (() => Promise<unknown>)[] = [];

// Replicas sealing and opening each other's secrets share a key, as docs/webhooks.md asks.
process.env.KNOT_ENCRYPTION_KEY = 'webhooks-test-shared-key';

beforeAll(async () => {
  // The receiver fails on purpose for some paths: /flaky once, /down always.
  receiver = await startReceiver((path, n) => (path === '/flaky' && n === 1 ? 500 : path === '/down' ? 503 : 200));
  server = await startTestServer({ config: { webhookAllowPrivate: true, webhookRetryBaseMs: 300, webhookMaxAttempts: 3 } });
  admin = (await setupAdmin(server)).client;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  server.app.services.config.webhookAllowPrivate = true;
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

async function createHook(client: GraphQLTestClient, path: string, events: string[]): Promise<string> {
  const res = await client.request<{ createWebhook: { id: string } }>(CREATE, { i: { url: receiver.url(path), secret: SECRET, events } });
  expect(res.errors).toBeUndefined();
  const id = res.data!.createWebhook.id;
  cleanups.push(() => admin.request(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id }));
  return id;
}

async function deliveries(client: GraphQLTestClient, webhookId: string): Promise<Delivery[]> {
  const res = await client.request<{ webhook: { deliveries: Delivery[] } }>(DELIVERIES, { id: webhookId });
  expect(res.errors).toBeUndefined();
  return res.data!.webhook.deliveries;
}

let users = 0;
const newUsername = (prefix: string) => `${prefix}-${++users}`;

describe('delivery', () => {
  it('sends a signed JSON body that a receiver can verify, and logs the answer', async () => {
    const hookId = await createHook(admin, '/signed', ['user.created']);
    const username = newUsername('signed');
    const { userId } = await createUser(server, admin, username);

    const [got] = await waitFor(() => (receiver.on('/signed').length ? receiver.on('/signed') : null), { what: 'the delivery' });
    expect(receiver.on('/signed')).toHaveLength(1);
    expect(verify(SECRET, got!.headers, got!.body)).toBe(true);
    // A body altered on the way, another secret, or a timestamp from over 5 minutes ago fail.
    expect(verify(SECRET, got!.headers, got!.body.replace(username, 'mallory'))).toBe(false);
    expect(verify('another-secret-entirely', got!.headers, got!.body)).toBe(false);
    expect(verify(SECRET, got!.headers, got!.body, Date.now() / 1000 + 301)).toBe(false);

    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['x-knot-event']).toBe('user.created');
    expect(got!.json).toMatchObject({ event: 'user.created', data: { user: { id: userId, username } } });
    expect(Date.parse(got!.json.occurredAt)).toBeGreaterThan(Date.now() - 60_000);

    const log = await waitFor(async () => {
      const [d] = await deliveries(admin, hookId);
      return d?.status === 'DELIVERED' ? d : null;
    }, { what: 'the delivery to be logged' });
    expect(log).toMatchObject({ id: got!.headers['x-knot-delivery'], eventId: got!.json.id, event: 'user.created', attempts: 1, lastStatusCode: 200, lastError: null });
    expect(log.lastResponseBody).toBe('answer 1 with 200');
  });

  it('retries a receiver that answers 500, with the same delivery and body, until it succeeds', async () => {
    const hookId = await createHook(admin, '/flaky', ['user.created']);
    await createUser(server, admin, newUsername('flaky'));

    const [first, second] = await waitFor(() => (receiver.on('/flaky').length >= 2 ? receiver.on('/flaky') : null), { what: 'the retry' });
    expect(second!.headers['x-knot-delivery']).toBe(first!.headers['x-knot-delivery']);
    expect(second!.body).toBe(first!.body);
    expect(verify(SECRET, second!.headers, second!.body)).toBe(true);
    const [log] = await waitFor(async () => {
      const list = await deliveries(admin, hookId);
      return list[0]?.status === 'DELIVERED' ? list : null;
    });
    expect(log).toMatchObject({ status: 'DELIVERED', attempts: 2, lastStatusCode: 200 });
    expect(receiver.on('/flaky')).toHaveLength(2);
  });

  it('gives up after the last attempt and marks the delivery failed with the last answer; redelivery sends it again', async () => {
    const hookId = await createHook(admin, '/down', ['user.created']);
    await createUser(server, admin, newUsername('down'));

    const failed = await waitFor(async () => {
      const [d] = await deliveries(admin, hookId);
      return d?.status === 'FAILED' ? d : null;
    }, { what: 'the delivery to fail' });
    expect(failed).toMatchObject({ attempts: 3, lastStatusCode: 503, lastError: 'The receiver answered 503.', lastResponseBody: 'answer 3 with 503' });
    expect(receiver.on('/down')).toHaveLength(3);

    const again = await admin.request<{ redeliverWebhookDelivery: Delivery }>(`mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { id eventId status } }`, { id: failed.id });
    expect(again.errors).toBeUndefined();
    expect(again.data!.redeliverWebhookDelivery).toMatchObject({ eventId: failed.eventId, status: 'PENDING' });
    await waitFor(() => receiver.on('/down').length >= 4, { what: 'the redelivery' });
    expect(receiver.on('/down')[3]!.headers['x-knot-delivery']).toBe(again.data!.redeliverWebhookDelivery.id);
  });

  it('sends an event only to the hooks that asked for it, and nothing to an inactive hook', async () => {
    const deletedOnly = await createHook(admin, '/deleted-only', ['user.deleted']);
    const inactive = await createHook(admin, '/inactive', ['user.created', 'user.deleted']);
    await admin.request(UPDATE, { id: inactive, i: { active: false } });
    const username = newUsername('gone');
    const { userId } = await createUser(server, admin, username);
    const del = await admin.request(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: userId });
    expect(del.errors).toBeUndefined();

    const [got] = await waitFor(() => (receiver.on('/deleted-only').length ? receiver.on('/deleted-only') : null));
    expect(got!.json).toMatchObject({ event: 'user.deleted', data: { user: { id: userId, username } } });
    expect((await deliveries(admin, deletedOnly)).map((d) => d.event)).toEqual(['user.deleted']);
    expect(await deliveries(admin, inactive)).toEqual([]);
    expect(receiver.on('/inactive')).toEqual([]);
  });

  it('keeps the secret write-only: not in the schema, and sealed in the database', async () => {
    const hookId = await createHook(admin, '/sealed', ['user.created']);
    const asked = await admin.request(`query($id: ID!) { webhook(id: $id) { secret } }`, { id: hookId });
    expect(asked.errors?.[0]?.message).toMatch(/Cannot query field "secret"/);
    const [row] = (await server.app.services.db.execute(sql`select secret_sealed from webhooks where id = ${hookId}`)) as unknown as { secret_sealed: string }[];
    expect(row!.secret_sealed).not.toContain(SECRET);
    expect(server.app.services.box.open(row!.secret_sealed)).toBe(SECRET);
  });
});

describe('two replicas on one database', () => {
  let second: TestServer;
  beforeAll(async () => {
    second = await startTestServer({ databaseUrl: server.databaseUrl, keepDatabase: true, config: { webhookAllowPrivate: true, webhookRetryBaseMs: 300 } });
  });
  afterAll(async () => {
    await second?.stop();
  });

  it('delivers each event exactly once', async () => {
    await createHook(admin, '/replicas', ['user.created']);
    const adminOnSecond = second.client((await admin.request<{ createApiToken: { token: string } }>(`mutation { createApiToken(name: "second") { token } }`)).data!.createApiToken.token);
    // Events made on both replicas at once; both replicas' workers are woken by each of them.
    const created = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? adminOnSecond : admin)
          .request<{ createUser: { id: string } }>(`mutation($i: CreateUserInput!) { createUser(input: $i) { id } }`, {
            i: { username: newUsername('replica'), email: `replica-${i}-${Date.now()}@example.com`, password: 'correct-horse' },
          })
          .then((r) => r.data!.createUser.id),
      ),
    );
    await waitFor(() => receiver.on('/replicas').length >= created.length, { what: 'every event' });
    // Anything still in flight (a duplicate) would arrive by the time the log says all are delivered.
    const hookId = (await admin.request<{ webhooks: { id: string; url: string }[] }>(`{ webhooks { id url } }`)).data!.webhooks.find((w) => w.url.endsWith('/replicas'))!.id;
    await waitFor(async () => (await deliveries(admin, hookId)).every((d) => d.status === 'DELIVERED'));
    const got = receiver.on('/replicas');
    expect(got).toHaveLength(created.length);
    expect(new Set(got.map((r) => r.json.id)).size).toBe(created.length);
    expect(new Set(got.map((r) => r.json.data.user.id))).toEqual(new Set(created));
  });
});

describe('bad input is refused with a code, and nothing is saved', () => {
  const count = async () => (await admin.request<{ webhooks: unknown[] }>(`{ webhooks { id } }`)).data!.webhooks.length;
  const refusal = async (input: Record<string, unknown>) => {
    const res = await admin.request(CREATE, { i: { url: receiver.url('/x'), secret: SECRET, events: ['space.started'], ...input } });
    expect(res.data).toBeNull();
    return res.errors![0]!;
  };

  it('refuses URLs that are not http(s)', async () => {
    const before = await count();
    for (const url of ['ftp://example.com/hook', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', '']) {
      const err = await refusal({ url });
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    }
    expect(await count()).toBe(before);
  });

  it('refuses private, loopback, link-local and metadata targets unless KNOT_WEBHOOK_ALLOW_PRIVATE is set', async () => {
    server.app.services.config.webhookAllowPrivate = false;
    const before = await count();
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://172.16.0.1/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://0.0.0.0/hook',
      'http://[::1]/hook',
      'http://[fd00:ec2::254]/hook',
      'http://[fe80::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      // IPv4-compatible (::/96): the URL parser writes [::127.0.0.1] as [::7f00:1].
      'http://[::127.0.0.1]/hook',
      'http://[::a9fe:a9fe]/latest/meta-data',
      // NAT64 and 6to4 forms of the metadata address.
      'http://[64:ff9b::a9fe:a9fe]/latest/meta-data',
      'http://[2002:a9fe:a9fe::1]/latest/meta-data',
      'https://100.64.0.1/hook',
    ]) {
      const err = await refusal({ url });
      expect(err.extensions, url).toMatchObject({ code: 'WEBHOOK_URL_REFUSED', field: 'url' });
      expect(err.message).toMatch(/KNOT_WEBHOOK_ALLOW_PRIVATE=true/);
    }
    expect(await count()).toBe(before);
  });

  it('refuses moving an existing hook to a private target, and leaves it as it was', async () => {
    const hookId = await createHook(admin, '/kept', ['space.started']);
    server.app.services.config.webhookAllowPrivate = false;
    const res = await admin.request(UPDATE, { id: hookId, i: { url: 'http://10.0.0.5/hook', events: ['space.stopped'] } });
    expect(res.errors?.[0]?.extensions?.code).toBe('WEBHOOK_URL_REFUSED');
    const now = await admin.request<{ webhook: { url: string; events: string[] } }>(`query($id: ID!) { webhook(id: $id) { url events } }`, { id: hookId });
    expect(now.data!.webhook).toEqual({ url: receiver.url('/kept'), events: ['space.started'] });
  });

  it('checks the address again at delivery: a hook saved while private targets were allowed reaches nothing once they are not', async () => {
    const hookId = await createHook(admin, '/later-refused', ['user.created']);
    server.app.services.config.webhookAllowPrivate = false;
    await createUser(server, admin, newUsername('refused'));
    const [d] = await waitFor(async () => {
      const list = await deliveries(admin, hookId);
      return list[0]?.attempts ? list : null;
    });
    expect(d!.lastStatusCode).toBeNull();
    expect(d!.lastError).toMatch(/does not send webhooks to 127\.0\.0\.1: it is a loopback address/);
    expect(receiver.on('/later-refused')).toEqual([]);
  });

  it('refuses unknown event names, no events, and a missing or short secret', async () => {
    const before = await count();
    expect(await refusal({ events: ['space.started', 'space.exploded'] })).toMatchObject({
      message: expect.stringContaining('space.exploded'),
      extensions: { code: 'BAD_USER_INPUT', field: 'events' },
    });
    expect((await refusal({ events: [] })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'events' });
    expect((await refusal({ secret: '' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'secret' });
    expect((await refusal({ secret: 'short' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'secret' });
    const missing = await admin.request(CREATE, { i: { url: receiver.url('/x'), events: ['space.started'] } });
    expect(missing.errors?.[0]?.message).toMatch(/secret/);
    expect(await count()).toBe(before);
  });
});

describe('the audit log', () => {
  it("shows a webhook's address but not its path or query, which many receivers use as a secret (chat services' incoming hooks)", async () => {
    const role = await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "auditors", permissions: [VIEW_AUDIT_LOG]) { id } }`);
    const auditor = await createUser(server, admin, newUsername('auditor'), [role.createRole.id]);
    const secretPath = '/services/T0001/B0002/hook-token-9f8e7d6c';
    const hookId = await createHook(admin, `${secretPath}?key=query-token-5a4b`, ['user.deleted']);
    await admin.data(`mutation($id: ID!) { deleteWebhook(id: $id) }`, { id: hookId });
    const log = await auditor.client.data<{ auditLog: { entries: { action: string; objectId: string; details: Record<string, unknown> }[] } }>(
      `{ auditLog(first: 100) { entries { action objectId details } } }`,
    );
    const entries = log.auditLog.entries.filter((e) => e.objectId === hookId);
    expect(entries.map((e) => e.action).sort()).toEqual(['createWebhook', 'deleteWebhook']);
    for (const entry of entries) expect(entry.details.url).toBe(new URL(receiver.url('/')).origin);
    expect(JSON.stringify(entries)).not.toMatch(/hook-token|query-token/);
    await auditor.client.close();
  });
});

describe('address ranges and backoff', () => {
  it('allows public unicast only', () => {
    expect(refusedRange('93.184.216.34')).toBeNull();
    expect(refusedRange('2606:4700::1')).toBeNull();
    for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fc00::1', '::ffff:10.0.0.1', '0.0.0.0', '224.0.0.1', '192.0.2.1']) {
      expect(refusedRange(address), address).not.toBeNull();
    }
  });

  it('doubles the wait after each failure, spread by jitter, up to an hour', () => {
    const policy = { baseMs: 10_000, maxAttempts: 10 };
    expect(backoffMs(policy, 1, 0.5)).toBe(10_000);
    expect(backoffMs(policy, 3, 0.5)).toBe(40_000);
    expect(backoffMs(policy, 3, 0)).toBe(30_000);
    expect(backoffMs(policy, 3, 1)).toBe(50_000);
    expect(backoffMs(policy, 30, 0.5)).toBe(3_600_000);
  });
});
