/**
 * The login throttle reserves each attempt
 * before hashing, limits per address too, caps concurrent hashes, answers the same for unknown
 * and known usernames, and cannot be used to lock a user out from everywhere by name.
 *
 * The server trusts X-Forwarded-For here (KNOT_TRUST_PROXY), so one test can speak from many
 * client addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashConcurrency } from '../../server/src/auth/secrets.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

describe('the login throttle', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ config: { trustProxy: true } });
    const admin = await setupAdmin(server);
    for (const name of ['alice', 'bob', 'carol']) await createUser(server, admin.client, name);
  });
  afterAll(() => server?.stop());

  async function login(username: string, password: string, from: string): Promise<string> {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({ query: `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { id } }`, variables: { u: username, p: password } }),
    });
    const body = (await res.json()) as { data?: { login: { id: string } | null }; errors?: { extensions?: { code?: string } }[] };
    return body.errors?.[0]?.extensions?.code ?? (body.data?.login ? 'ok' : 'nothing');
  }

  it('checks at most five of thirty concurrent wrong passwords', async () => {
    const codes = await Promise.all(Array.from({ length: 30 }, (_, i) => login('alice', `wrong-${i}`, '10.0.1.1')));
    expect(codes.filter((c) => c === 'UNAUTHENTICATED')).toHaveLength(5);
    expect(codes.filter((c) => c === 'TOO_MANY_ATTEMPTS')).toHaveLength(25);
  });

  it('answers an unknown username exactly like a known one', async () => {
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await login('bob', `wrong-${i}`, '10.0.2.1'));
      unknown.push(await login('nobody-by-this-name', `wrong-${i}`, '10.0.2.2'));
    }
    expect(unknown).toEqual(known);
    expect(known.slice(0, 5)).toEqual(Array(5).fill('UNAUTHENTICATED'));
    expect(known.at(-1)).toBe('TOO_MANY_ATTEMPTS');
  });

  it('does not lock the real user out from another address', async () => {
    for (let i = 0; i < 10; i++) await login('carol', `guess-${i}`, '10.0.3.66');
    expect(await login('carol', 'correct-horse', '10.0.3.66')).toBe('TOO_MANY_ATTEMPTS');
    expect(await login('carol', 'correct-horse', '10.0.3.7')).toBe('ok');
  });

  it('limits one address across usernames', async () => {
    const codes: string[] = [];
    for (let i = 0; i < 32; i++) codes.push(await login(`sprayed-${i}`, 'Winter2026!', '10.0.4.1'));
    expect(codes.slice(0, 30)).toEqual(Array(30).fill('UNAUTHENTICATED'));
    expect(codes.slice(30)).toEqual(['TOO_MANY_ATTEMPTS', 'TOO_MANY_ATTEMPTS']);
    // Another address is not affected.
    expect(await login('sprayed-0', 'Winter2026!', '10.0.4.2')).toBe('UNAUTHENTICATED');
  });

  it('throttles the current-password check of a password change like a login (a stolen session is no password oracle)', async () => {
    // A session of bob's, as a thief would hold it, used from the thief's own address.
    const thief = await server.anonymous.login('bob', 'correct-horse');
    const change = async (i: number) => {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { ...thief.headers(), 'x-forwarded-for': '10.0.6.1' },
        body: JSON.stringify({
          query: `mutation($c: String!) { updateProfile(input: { currentPassword: $c, newPassword: "taken-over-1" }) { id } }`,
          variables: { c: `guess-${i}` },
        }),
      });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      return body.errors?.[0]?.extensions?.code ?? 'ok';
    };
    const codes = await Promise.all(Array.from({ length: 30 }, (_, i) => change(i)));
    expect(codes.filter((c) => c === 'BAD_USER_INPUT')).toHaveLength(5);
    expect(codes.filter((c) => c === 'TOO_MANY_ATTEMPTS')).toHaveLength(25);
  });

  it('runs only a few password hashes at once and queues the rest', async () => {
    hashConcurrency.peak = 0;
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => login(`queued-${i}`, 'nope-nope', `10.0.5.${i + 1}`)));
    expect(codes).toEqual(Array(20).fill('UNAUTHENTICATED'));
    expect(hashConcurrency.peak).toBeGreaterThan(0);
    expect(hashConcurrency.peak).toBeLessThanOrEqual(hashConcurrency.limit);
  });
});
