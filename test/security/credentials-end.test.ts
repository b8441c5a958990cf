/**
 * Credentials end when they should.
 *  - A password change ends every other session and every API token of the user; the session
 *    that made the change stays.
 *  - An admin's password reset ends them all; `revokeUserSessions` ends them all on demand.
 *  - A subscription over server-sent events (Yoga serves them for `Accept: text/event-stream`)
 *    ends when its credential is revoked, as a WebSocket is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

const ME = `{ me { username } }`;

describe('credentials end when they should', () => {
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof setupAdmin>>;

  beforeAll(async () => {
    server = await startTestServer();
    admin = await setupAdmin(server);
  });
  afterAll(() => server?.stop());

  /** Whether a credential still signs its holder in. */
  async function works(client: GraphQLTestClient): Promise<boolean> {
    const res = await client.request<{ me: { username: string } | null }>(ME);
    return !!res.data?.me;
  }

  async function userWithCredentials(name: string) {
    const user = await createUser(server, admin.client, name);
    const sessionA = await server.anonymous.login(name, 'correct-horse');
    const sessionB = await server.anonymous.login(name, 'correct-horse');
    const token = server.client(await sessionB.createToken('cli'));
    expect([await works(sessionA), await works(sessionB), await works(token), await works(user.client)]).toEqual([true, true, true, true]);
    return { ...user, sessionA, sessionB, token };
  }

  it('a password change ends every other session and token, and keeps the session that made it', async () => {
    const u = await userWithCredentials('pat');
    await u.sessionA.data(`mutation { updateProfile(input: { currentPassword: "correct-horse", newPassword: "brand-new-pass" }) { id } }`);
    expect(await works(u.sessionA)).toBe(true);
    expect(await works(u.sessionB)).toBe(false);
    expect(await works(u.token)).toBe(false);
    expect(await works(u.client)).toBe(false);
    await server.anonymous.login('pat', 'brand-new-pass');
  });

  it('an admin reset ends every session and token of the user', async () => {
    const u = await userWithCredentials('rita');
    await admin.client.data(`mutation($id: ID!) { updateUser(id: $id, input: { password: "reset-by-admin" }) { id } }`, { id: u.userId });
    expect([await works(u.sessionA), await works(u.sessionB), await works(u.token), await works(u.client)]).toEqual([false, false, false, false]);
    expect(await works(admin.client)).toBe(true);
  });

  it('revokeUserSessions signs a user out everywhere', async () => {
    const u = await userWithCredentials('sam');
    expect(await admin.client.data(`mutation($id: ID!) { revokeUserSessions(id: $id) }`, { id: u.userId })).toEqual({ revokeUserSessions: true });
    expect([await works(u.sessionA), await works(u.sessionB), await works(u.token), await works(u.client)]).toEqual([false, false, false, false]);
    // Their password still works: this ends credentials, it does not lock the account.
    expect(await works(await server.anonymous.login('sam', 'correct-horse'))).toBe(true);
  });

  describe('a subscription over server-sent events', () => {
    /** Opens `spacesChanged` as an SSE stream and returns a reader of its text. */
    async function openStream(token: string) {
      const abort = new AbortController();
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: `subscription { spacesChanged { kind } }` }),
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let done = false;
      // Reads in the background, so the test can wait for conditions on what arrived.
      const pump = (async () => {
        try {
          for (;;) {
            const chunk = await reader.read();
            if (chunk.done) break;
            text += decoder.decode(chunk.value, { stream: true });
          }
        } catch {
          // aborted by the test's cleanup
        }
        done = true;
      })();
      return {
        get text() {
          return text;
        },
        get done() {
          return done;
        },
        async close() {
          abort.abort();
          await pump;
        },
      };
    }

    async function until(condition: () => boolean, what: string, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    it('ends when its token is revoked', async () => {
      const u = await createUser(server, admin.client, 'sse-user');
      const tokens = await u.client.data<{ apiTokens: { id: string; name: string }[] }>(`{ apiTokens { id name } }`);
      const stream = await openStream(u.token);
      try {
        await until(() => stream.text.length > 0, 'the stream to start (its first keep-alive)');
        expect(stream.done).toBe(false);
        const other = await server.anonymous.login('sse-user', 'correct-horse');
        await other.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: tokens.apiTokens[0]!.id });
        await until(() => stream.done, 'the stream to end after the token was revoked');
      } finally {
        await stream.close();
      }
    });

    it('ends when the user\'s password is reset', async () => {
      const u = await createUser(server, admin.client, 'sse-reset');
      const stream = await openStream(u.token);
      try {
        await until(() => stream.text.length > 0, 'the stream to start (its first keep-alive)');
        await admin.client.data(`mutation($id: ID!) { updateUser(id: $id, input: { password: "reset-by-admin" }) { id } }`, { id: u.userId });
        await until(() => stream.done, 'the stream to end after the password reset');
      } finally {
        await stream.close();
      }
    });

    it('keeps going while the credential is valid', async () => {
      const u = await createUser(server, admin.client, 'sse-stays');
      const stream = await openStream(u.token);
      try {
        await until(() => stream.text.length > 0, 'the stream to start (its first keep-alive)');
        // An auth event about someone else re-checks nothing of this stream's.
        await admin.client.data(`mutation($id: ID!) { revokeUserSessions(id: $id) }`, {
          id: (await createUser(server, admin.client, 'someone-else')).userId,
        });
        // …and one about this user that leaves the credential valid keeps it open.
        await u.client.data(`mutation { updateProfile(input: { timezone: "Europe/Paris" }) { id } }`);
        await u.client.data(ME);
        expect(stream.done).toBe(false);
      } finally {
        await stream.close();
      }
    });
  });
});
