import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { captureLogs } from '../helpers/logs.js';
import { openSql } from '../helpers/sql.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

/**
 * A failure nobody planned for (here: the audit_log table vanishes under a running server) reaches
 * the client as "Unexpected error." with no internals, is logged in full, and rolls its change back.
 */
describe('unexpected errors', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let sql: ReturnType<typeof openSql>;
  const logs = captureLogs();

  beforeAll(async () => {
    server = await startTestServer({ logger: logs.logger });
    ({ client: admin } = await setupAdmin(server));
    sql = openSql(server.databaseUrl);
    // Warm the viewer cache, so authentication does not depend on the table we are about to break.
    await admin.data(`{ me { id } }`);
    await sql`alter table audit_log rename to audit_log_hidden`;
  });
  afterAll(async () => {
    await sql`alter table if exists audit_log_hidden rename to audit_log`;
    await sql.end();
    await server.stop();
  });

  it('masks the error, logs it, and leaves no half-done change', async () => {
    const tokensBefore = (await sql`select count(*)::int as n from api_tokens`)[0]!.n;
    const res = await admin.request(`mutation { createApiToken(name: "doomed") { token } }`);
    expect(res.status).toBeLessThan(600);
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.message).toBe('Unexpected error.');
    expect(res.errors![0]!.extensions!.code).toBe('INTERNAL_SERVER_ERROR');
    const body = JSON.stringify(res);
    expect(body).not.toContain('audit_log');
    expect(body).not.toMatch(/stack|relation|postgres/i);

    const logged = logs.lines.find((l) => l.msg === 'unexpected error in a GraphQL operation');
    expect(logged, JSON.stringify(logs.lines.slice(-5))).toBeDefined();
    expect(logged!.level).toBe(50); // error
    expect(JSON.stringify(logged)).toContain('audit_log');

    // The token insert shares the audit write's transaction, so it rolled back.
    expect((await sql`select count(*)::int as n from api_tokens`)[0]!.n).toBe(tokensBefore);
  });

  it('keeps coded refusals as they are (not masked, not logged as errors)', async () => {
    const errorsBefore = logs.lines.filter((l) => l.level === 50).length;
    const res = await admin.request(`mutation { createApiToken(name: "") { token } }`);
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toBe('The token name cannot be empty.');
    expect(logs.lines.filter((l) => l.level === 50).length).toBe(errorsBefore);
  });
});
