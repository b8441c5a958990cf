import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';

/** What a stolen database dump would reveal: no password, cookie or token that works. */
describe('secrets at rest', () => {
  let server: TestServer;
  let sql: ReturnType<typeof openSql>;

  beforeAll(async () => {
    server = await startTestServer();
    const { client } = await setupAdmin(server);
    await createUser(server, client, 'bob');
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql.end();
    await server.stop();
  });

  it('stores passwords only as salted scrypt hashes', async () => {
    const rows = await sql`select username, password_hash from users order by username`;
    expect(rows.map((r) => r.username)).toEqual(['admin', 'bob']);
    for (const row of rows) {
      expect(row.password_hash).toMatch(/^scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/=]{20,}\$[A-Za-z0-9+/=]{40,}$/);
      expect(row.password_hash).not.toContain('correct-horse');
    }
    // Same password, different salt: equal passwords are not visible as equal hashes.
    expect(rows[0]!.password_hash).not.toBe(rows[1]!.password_hash);
    const anywhere = await sql`select count(*)::int as n from users where position('correct-horse' in users::text) > 0`;
    expect(anywhere[0]!.n).toBe(0);
  });

  it('stores sessions under the SHA-256 of the cookie, never the cookie itself', async () => {
    const session = await server.anonymous.login('bob', 'correct-horse');
    const cookieValue = session.cookie!.split('=')[1]!;
    expect(cookieValue).toMatch(/^knots_/);
    const hashed = createHash('sha256').update(cookieValue).digest('hex');
    const rows = await sql`select id from sessions where id = ${hashed}`;
    expect(rows).toHaveLength(1);
    const plain = await sql`select count(*)::int as n from sessions where id = ${cookieValue}`;
    expect(plain[0]!.n).toBe(0);
    // The stored id does not work as a cookie.
    const forged = server.client();
    forged.cookie = `knot_session=${hashed}`;
    expect((await forged.data<{ me: unknown }>(`{ me { id } }`)).me).toBeNull();
  });
});
