import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

const CREATE = `mutation($name: String!, $days: Int) {
  createApiToken(name: $name, expiresInDays: $days) { token apiToken { id name expiresAt } }
}`;
const ME = `{ me { username } }`;
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

describe('API tokens', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let sql: ReturnType<typeof openSql>;

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await setupAdmin(server)).client;
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql.end();
    await server.stop();
  });

  async function create(name: string, days?: number) {
    const res = await admin.data<{ createApiToken: { token: string; apiToken: { id: string; name: string; expiresAt: string | null } } }>(CREATE, { name, days });
    return res.createApiToken;
  }

  it('shows the token once and keeps only its SHA-256', async () => {
    const created = await create('ci');
    expect(created.token).toMatch(/^knot_[\w-]{40,}$/);
    const rows = await sql`select token_hash from api_tokens where id = ${created.apiToken.id}`;
    expect(rows[0]!.token_hash).toBe(sha256(created.token));
    const leaked = await sql`select count(*)::int as n from api_tokens where token_hash = ${created.token} or name = ${created.token}`;
    expect(leaked[0]!.n).toBe(0);
    // The listing never shows the token again.
    const list = await admin.request(`{ apiTokens { id name } }`);
    expect(JSON.stringify(list)).not.toContain(created.token);
    expect(JSON.stringify(list)).toContain(created.apiToken.id);
  });

  it('authenticates Bearer requests', async () => {
    const { token } = await create('bearer');
    const me = await server.client(token).data<{ me: { username: string } }>(ME);
    expect(me.me.username).toBe('admin');
  });

  it('stops working at once when revoked, although the viewer was cached', async () => {
    const { token, apiToken } = await create('to-revoke');
    const client = server.client(token);
    // Two uses: the second is served from the viewer cache.
    expect((await client.data<{ me: { username: string } }>(ME)).me.username).toBe('admin');
    expect((await client.data<{ me: { username: string } }>(ME)).me.username).toBe('admin');

    await admin.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: apiToken.id });
    const res = await client.request(ME);
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(res.data?.me ?? null).toBeNull();
    expect(res.errors![0]!.message).toMatch(/revoked/);

    const list = await admin.data<{ apiTokens: { id: string }[] }>(`{ apiTokens { id } }`);
    expect(list.apiTokens.map((t) => t.id)).not.toContain(apiToken.id);
  });

  it('refuses to revoke a token twice or one that is not yours', async () => {
    const { apiToken } = await create('once');
    await admin.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: apiToken.id });
    expect(await admin.errorCode(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: apiToken.id })).toBe('NOT_FOUND');
    expect(await admin.errorCode(`mutation { revokeApiToken(id: "not-a-uuid") }`)).toBe('NOT_FOUND');
  });

  it('sets expiresAt from expiresInDays', async () => {
    const { apiToken } = await create('short-lived', 1);
    const expiresIn = new Date(apiToken.expiresAt!).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(23 * 3_600_000);
    expect(expiresIn).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('stops a token at its expiry even while its viewer is cached (cache TTL is 10 s)', async () => {
    const { token, apiToken } = await create('expiring', 1);
    await sql`update api_tokens set expires_at = now() + interval '2 seconds' where id = ${apiToken.id}`;
    const client = server.client(token);
    expect((await client.data<{ me: { username: string } }>(ME)).me.username).toBe('admin');
    const started = Date.now();
    await waitFor(async () => (await client.request(ME)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', {
      timeout: 6_000,
      interval: 100,
      what: 'the expired token to be refused',
    });
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('refuses a token that expired before it was ever used', async () => {
    const { token, apiToken } = await create('stale', 30);
    await sql`update api_tokens set expires_at = now() - interval '1 day' where id = ${apiToken.id}`;
    expect(await server.client(token).errorCode(ME)).toBe('UNAUTHENTICATED');
  });

  it('refuses an unknown token rather than treating the request as anonymous', async () => {
    const res = await server.client('knot_made-up-token').request(ME);
    expect(res.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a lifetime out of range and creates nothing', async () => {
    const before = await sql`select count(*)::int as n from api_tokens`;
    for (const days of [0, -1, 3651]) {
      const res = await admin.request(CREATE, { name: `bad-${days}`, days });
      expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    }
    const after = await sql`select count(*)::int as n from api_tokens`;
    expect(after[0]!.n).toBe(before[0]!.n);
  });
});
