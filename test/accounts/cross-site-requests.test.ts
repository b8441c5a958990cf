import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

/**
 * A page on another origin, even a same-site one such as a space's web app on the wildcard
 * domain, must not act with the visitor's session cookie: forms (multipart, urlencoded) need no
 * CORS preflight, so the server itself has to ignore the cookie when Origin is not its own.
 */
describe('requests from other origins', () => {
  let server: TestServer;
  let session: GraphQLTestClient;
  let token: string;
  let sql: ReturnType<typeof openSql>;
  const MUTATION = 'mutation { createApiToken(name: "cross-site") { token } }';
  const EVIL = 'http://alice--web--8080.knot.example.com';
  const crossSiteTokens = async () => (await sql`select count(*)::int as n from api_tokens where name = 'cross-site'`)[0]!.n as number;

  beforeAll(async () => {
    server = await startTestServer({ config: { url: 'http://knot.example.com', wildcardDomain: '*.knot.example.com' } });
    ({ token } = await setupAdmin(server));
    session = await server.anonymous.login('admin', 'correct-horse');
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql.end();
    await server.stop();
  });

  // Refused outright since forms from another site could log the visitor in (test/security/login-csrf).
  it('refuses a multipart form post from another origin', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: MUTATION }));
    form.set('map', '{}');
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { cookie: session.cookie!, origin: EVIL }, body: form });
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).toContain('FORBIDDEN');
    expect(await crossSiteTokens()).toBe(0);
  });

  it('refuses a urlencoded form post from another origin', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { cookie: session.cookie!, origin: EVIL, 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent(MUTATION)}`,
    });
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).not.toContain('"token":"knot_');
    expect(await crossSiteTokens()).toBe(0);
  });

  it('accepts the cookie from Knot\'s own pages (the public URL or the same host)', async () => {
    for (const origin of ['http://knot.example.com', server.url]) {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { cookie: session.cookie!, origin, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ me { username } }' }),
      });
      expect(await res.json()).toEqual({ data: { me: { username: 'admin' } } });
    }
  });

  it('accepts a Bearer token from any origin: it is not sent by the browser on its own', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, origin: EVIL, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { username } }' }),
    });
    expect(await res.json()).toEqual({ data: { me: { username: 'admin' } } });
  });
});
