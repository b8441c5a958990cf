/**
 * An unexpected database error is logged with the query that failed, and
 * drizzle's error carries every bound parameter (in `params`, its message and its stack) while
 * Postgres's `detail` quotes the failing row. For a new user those are the password hash and the
 * service password. The log keeps the query and the reason, never the values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../helpers/logs.js';
import { openSql } from '../helpers/sql.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

describe('a failed query is logged without its values', () => {
  let server: TestServer;
  let sql: ReturnType<typeof openSql>;
  const logs = captureLogs('info');

  beforeAll(async () => {
    server = await startTestServer({ logger: logs.logger });
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql?.end();
    await server?.stop();
  });

  it('keeps the query and the reason, drops the parameters and the failing row', async () => {
    const admin = await setupAdmin(server);
    // Makes the next user insert fail in the database, as a surprise the resolver does not expect.
    await sql.unsafe(`alter table users add constraint matrix_no_mallory check (username <> 'mallory')`);
    const res = await admin.client.request(
      `mutation { createUser(input: { username: "mallory", email: "mallory-secret-address@example.com", password: "mallorys-password" }) { id } }`,
    );
    expect(res.errors?.[0]?.message).toBe('Unexpected error.');

    const logged = logs.lines.filter((l) => l.msg === 'unexpected error in a GraphQL operation');
    expect(logged).toHaveLength(1);
    const text = JSON.stringify(logged);
    expect(text).toContain('Failed query: insert into');
    expect(text).toContain('matrix_no_mallory');
    expect(text).not.toContain('mallory-secret-address');
    expect(text).not.toContain('scrypt$');
    expect(text).toContain('params: [redacted]');
  });
});
