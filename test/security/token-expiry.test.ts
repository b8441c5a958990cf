/**
 * Credentials must not outlive what should end them: an API token made to expire
 * (for a CI job, say) created a token that never expires, so its holder kept access past the
 * expiry the user chose. A token now creates only tokens that expire no later than itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

const CREATE = `mutation($n: String!, $d: Int) { createApiToken(name: $n, expiresInDays: $d) { token apiToken { expiresAt } } }`;
type Created = { createApiToken: { token: string; apiToken: { expiresAt: string | null } } };

describe('a token cannot outlive the token that made it', () => {
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof setupAdmin>>;
  beforeAll(async () => {
    server = await startTestServer();
    admin = await setupAdmin(server);
  });
  afterAll(() => server?.stop());

  it('refuses a longer-lived or never-expiring token to a token that expires, and makes none', async () => {
    const ci = server.client((await admin.client.data<Created>(CREATE, { n: 'ci', d: 7 })).createApiToken.token);
    for (const d of [null, 8, 3650]) {
      const res = await ci.request(CREATE, { n: `longer ${d}`, d });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', field: 'expiresInDays' });
      expect(res.errors![0]!.message).toMatch(/expires on .*; a token it creates must expire by then too/);
    }
    const names = (await admin.client.data<{ apiTokens: { name: string }[] }>(`{ apiTokens { name } }`)).apiTokens.map((t) => t.name);
    expect(names.filter((n) => n.startsWith('longer'))).toEqual([]);

    const shorter = await ci.data<Created>(CREATE, { n: 'shorter', d: 1 });
    expect(new Date(shorter.createApiToken.apiToken.expiresAt!).getTime()).toBeLessThan(Date.now() + 2 * 86_400_000);
  });

  it('lets a session, or a token that never expires, make any token', async () => {
    const forever = await admin.client.data<Created>(CREATE, { n: 'forever', d: null });
    expect(forever.createApiToken.apiToken.expiresAt).toBeNull();
    const session = await server.anonymous.login('admin', 'correct-horse');
    expect((await session.data<Created>(CREATE, { n: 'from the browser', d: null })).createApiToken.apiToken.expiresAt).toBeNull();
  });
});
