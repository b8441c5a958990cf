/**
 * Passwords are hashed at the OWASP cost (N=2^17, r=8, p=1) by default, the
 * parameters are stored with the hash, and a weaker stored hash is upgraded at the next login.
 * (Every other test server hashes cheaply: test/helpers/env.ts.)
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import { openSql } from '../helpers/sql.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

describe('password hashes', () => {
  let server: TestServer;
  let sql: ReturnType<typeof openSql>;

  beforeAll(async () => {
    // The server's own default, not the tests' cheap one.
    server = await startTestServer({ config: { passwordHashCost: loadConfig({}).passwordHashCost } });
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql?.end();
    await server?.stop();
  });

  const storedHash = async (username: string) => (await sql`select password_hash from users where username = ${username}`)[0]!.password_hash as string;

  it('are scrypt at the OWASP cost by default, with the parameters stored', async () => {
    expect(loadConfig({}).passwordHashCost).toEqual({ logN: 17, r: 8, p: 1 });
    await setupAdmin(server);
    expect(await storedHash('admin')).toMatch(/^scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/=]{20,}\$[A-Za-z0-9+/=]{40,}$/);
  });

  it('upgrades a weaker stored hash (Node\'s default cost, no parameters) at the next login', async () => {
    const salt = randomBytes(16);
    const legacy = `scrypt$${salt.toString('base64')}$${scryptSync('correct-horse', salt, 32).toString('base64')}`;
    await sql`update users set password_hash = ${legacy} where username = 'admin'`;

    await server.anonymous.login('admin', 'correct-horse');
    const upgraded = await storedHash('admin');
    expect(upgraded).toMatch(/^scrypt\$ln=17,r=8,p=1\$/);
    // The new hash still opens with the same password, and a wrong one still fails.
    await server.anonymous.login('admin', 'correct-horse');
    const wrong = await server.anonymous.request(`mutation { login(username: "admin", password: "not-it") { id } }`);
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
