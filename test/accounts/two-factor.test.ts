/**
 * TOTP two-factor sign-in, end to end over the API: setting it up, signing in with codes computed
 * here from the secret (as an authenticator app would), codes being good once, recovery codes,
 * the throttle, an admin's reset and "require two-factor for everyone".
 *
 * The server trusts X-Forwarded-For here, so throttling tests can speak from addresses of their own.
 */
import { Secret, TOTP } from 'otpauth';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORD = 'correct-horse';
const STEP_MS = 30_000;
const DOMAIN = 'knot-2fa.test';

/** The code an authenticator app shows `steps` periods from now. */
function codeAt(secret: string, steps = 0): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + steps * STEP_MS });
}

/** A six-digit code that is none of those the server accepts now (one step either side). */
function wrongCode(secret: string): string {
  const valid = new Set([-1, 0, 1].map((s) => codeAt(secret, s)));
  for (let n = 123_456; ; n++) if (!valid.has(String(n))) return String(n);
}

/**
 * Tests spend up to three codes (the previous, current and next step); they start with at least
 * six seconds left in the current step, so a step boundary does not fall between computing a
 * code and sending it.
 */
async function freshStep() {
  await waitFor(() => STEP_MS - (Date.now() % STEP_MS) > 6_000, { timeout: 10_000, interval: 200, what: 'a fresh TOTP step' });
}

describe('two-factor sign-in (TOTP)', () => {
  let server: TestServer;
  let admin: Awaited<ReturnType<typeof setupAdmin>>;
  let sql: ReturnType<typeof openSql>;
  let address = 0;

  beforeAll(async () => {
    server = await startTestServer({ config: { trustProxy: true, wildcardDomain: `*.${DOMAIN}` } });
    admin = await setupAdmin(server);
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql?.end();
    await server?.stop();
  });

  /** A login from an address of its own (so the password throttle of one test does not reach another). */
  async function login(username: string, extra: { totp?: string; recoveryCode?: string } = {}, from = `10.9.0.${++address}`) {
    const session = new GraphQLTestClient(server.url);
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
      body: JSON.stringify({
        query: `mutation($u: String!, $p: String!, $t: String, $r: String) { login(username: $u, password: $p, totp: $t, recoveryCode: $r) { id username } }`,
        variables: { u: username, p: PASSWORD, t: extra.totp, r: extra.recoveryCode },
      }),
    });
    const body = (await res.json()) as { data?: { login: { id: string } | null }; errors?: { extensions?: { code?: string } }[] };
    session.cookie = res.headers.get('set-cookie')?.split(';')[0];
    return { code: body.errors?.[0]?.extensions?.code ?? 'ok', cookie: session.cookie, session };
  }

  /** Where port-login sends a browser with this session cookie, for a port host of `user`'s (missing) space. */
  async function portLogin(cookie: string, user: string): Promise<string> {
    const to = encodeURIComponent(`http://${user}--nothing--8080.${DOMAIN}/`);
    const res = await fetch(`${server.url}/spaces/port-login?to=${to}&state=${'a'.repeat(43)}`, { headers: { cookie }, redirect: 'manual' });
    return res.status === 302 ? `302 ${res.headers.get('location')!.split('?')[0]}` : String(res.status);
  }

  /** The close code of a terminal socket to a space that does not exist, opened with `token`. */
  function terminalClose(token: string): Promise<number> {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/spaces/00000000-0000-4000-8000-0000000000aa/terminal`, {
      headers: { authorization: `Bearer ${token}` },
    });
    ws.on('error', () => {});
    return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  /** Enables and confirms TOTP for the client's user (with the previous step's code), returning the secret and recovery codes. */
  async function enrol(client: GraphQLTestClient) {
    const setup = await client.data<{ enableTotp: { secret: string; uri: string; qrCode: string } }>(`mutation { enableTotp { secret uri qrCode } }`);
    const secret = setup.enableTotp.secret;
    await freshStep();
    const confirmed = await client.data<{ confirmTotp: string[] }>(`mutation($c: String!) { confirmTotp(code: $c) }`, { c: codeAt(secret, -1) });
    return { ...setup.enableTotp, recoveryCodes: confirmed.confirmTotp };
  }

  const twoFactorOf = async (client: GraphQLTestClient) =>
    (await client.data<{ me: { twoFactorEnabled: boolean } }>(`{ me { twoFactorEnabled } }`)).me.twoFactorEnabled;

  it('sets up with a QR code and a secret kept sealed, and then asks for a code at every login', async () => {
    const alice = await createUser(server, admin.client, 'alice');
    expect(await twoFactorOf(alice.client)).toBe(false);

    const setup = await alice.client.data<{ enableTotp: { secret: string; uri: string; qrCode: string } }>(`mutation { enableTotp { secret uri qrCode } }`);
    const { secret, uri, qrCode } = setup.enableTotp;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe('otpauth:');
    expect(parsed.host).toBe('totp');
    expect(parsed.searchParams.get('secret')).toBe(secret);
    expect(parsed.searchParams.get('issuer')).toBe('Knot');
    expect(decodeURIComponent(parsed.pathname)).toContain('alice@');
    expect(qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(qrCode.split(',')[1]!, 'base64').toString()).toContain('<svg');

    // Not active until confirmed: the password alone still signs in.
    expect((await login('alice')).code).toBe('ok');
    expect(await twoFactorOf(alice.client)).toBe(false);

    // Sealed at rest: the database holds no trace of the secret.
    const [row] = await sql`select secret_sealed from totp_credentials where user_id = ${alice.userId}`;
    expect(row!.secret_sealed).toMatch(/^v1:/);
    expect(row!.secret_sealed).not.toContain(secret);

    await freshStep();
    const codes = (await alice.client.data<{ confirmTotp: string[] }>(`mutation($c: String!) { confirmTotp(code: $c) }`, { c: codeAt(secret, -1) })).confirmTotp;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
    expect(await twoFactorOf(alice.client)).toBe(true);
    // Recovery codes are kept hashed only.
    const stored = await sql`select code_hash from totp_recovery_codes where user_id = ${alice.userId}`;
    expect(stored).toHaveLength(10);
    for (const r of stored) expect(codes.some((c) => String(r.code_hash).includes(c.replace(/-/g, '')))).toBe(false);

    // The password alone no longer makes a session.
    const bare = await login('alice');
    expect(bare.code).toBe('TOTP_REQUIRED');
    expect(bare.cookie).toBeUndefined();
    // With the current code it does, and the session works.
    const signedIn = await login('alice', { totp: codeAt(secret) });
    expect(signedIn.code).toBe('ok');
    expect(signedIn.cookie).toMatch(/knot_session=/);
    expect((await signedIn.session.data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('alice');
  });

  it('takes each code once: a replay in the same window is refused, a later step is not', async () => {
    const bob = await createUser(server, admin.client, 'bob');
    const { secret } = await enrol(bob.client);
    const now = codeAt(secret);
    expect((await login('bob', { totp: now })).code).toBe('ok');
    const replay = await login('bob', { totp: now });
    expect(replay.code).toBe('TOTP_INVALID');
    expect(replay.cookie).toBeUndefined();
    // The code the confirmation used (an earlier step) is spent too.
    expect((await login('bob', { totp: codeAt(secret, -1) })).code).toBe('TOTP_INVALID');
    // Two logins racing with one code: one wins, the other is a replay.
    const racing = await Promise.all([login('bob', { totp: codeAt(secret, 1) }), login('bob', { totp: codeAt(secret, 1) })]);
    expect(racing.map((r) => r.code).sort()).toEqual(['TOTP_INVALID', 'ok']);
  });

  it('refuses a wrong code and makes no session; a wrong password is still just wrong', async () => {
    const carol = await createUser(server, admin.client, 'carol');
    const { secret } = await enrol(carol.client);
    const wrong = await login('carol', { totp: wrongCode(secret) });
    expect(wrong.code).toBe('TOTP_INVALID');
    expect(wrong.cookie).toBeUndefined();
    expect((await login('carol', { totp: 'abcdef' })).code).toBe('TOTP_INVALID');
    const res = await server.anonymous.request(`mutation($t: String) { login(username: "carol", password: "wrong-password", totp: $t) { id } }`, { t: codeAt(secret) });
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('takes a recovery code once, then refuses it', async () => {
    const dave = await createUser(server, admin.client, 'dave');
    const { recoveryCodes } = await enrol(dave.client);
    // Typed in capitals without dashes, as people do.
    const first = await login('dave', { recoveryCode: recoveryCodes[3]!.toUpperCase().replace(/-/g, ' ') });
    expect(first.code).toBe('ok');
    expect((await login('dave', { recoveryCode: recoveryCodes[3]! })).code).toBe('TOTP_INVALID');
    expect((await login('dave', { recoveryCode: 'aaaa-bbbb-cccc-dddd' })).code).toBe('TOTP_INVALID');
    expect((await login('dave', { recoveryCode: recoveryCodes[4]! })).code).toBe('ok');
    const [{ n }] = (await sql`select count(*)::int as n from totp_recovery_codes where user_id = ${dave.userId} and used_at is not null`) as unknown as [{ n: number }];
    expect(n).toBe(2);
  });

  it('throttles wrong codes per user, from any address, even once the right code is sent', async () => {
    const erin = await createUser(server, admin.client, 'erin');
    const { secret } = await enrol(erin.client);
    const wrong = wrongCode(secret);
    const codes: string[] = [];
    // Each guess from another address: the throttle follows the account, not the address.
    for (let i = 0; i < 7; i++) codes.push((await login('erin', { totp: wrong }, `10.8.0.${i}`)).code);
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('TOTP_INVALID'));
    expect(codes.slice(5)).toEqual(['TOO_MANY_ATTEMPTS', 'TOO_MANY_ATTEMPTS']);
    const right = await login('erin', { totp: codeAt(secret) }, '10.8.1.1');
    expect(right.code).toBe('TOO_MANY_ATTEMPTS');
    expect(right.cookie).toBeUndefined();
    // The password alone still answers TOTP_REQUIRED, so the owner learns what to do (nothing is spent).
    expect((await login('erin', {}, '10.8.1.2')).code).toBe('TOTP_REQUIRED');
  });

  it('refuses bad setup steps with coded errors and changes nothing', async () => {
    const frank = await createUser(server, admin.client, 'frank');
    // Confirm before enable.
    expect(await frank.client.errorCode(`mutation { confirmTotp(code: "123456") }`)).toBe('BAD_USER_INPUT');
    expect(await twoFactorOf(frank.client)).toBe(false);
    // A wrong code at confirmation leaves it off.
    const setup = await frank.client.data<{ enableTotp: { secret: string } }>(`mutation { enableTotp { secret } }`);
    expect(await frank.client.errorCode(`mutation($c: String!) { confirmTotp(code: $c) }`, { c: wrongCode(setup.enableTotp.secret) })).toBe('TOTP_INVALID');
    expect(await twoFactorOf(frank.client)).toBe(false);
    expect((await login('frank')).code).toBe('ok');
    // Once on, enabling again is refused and the old authenticator keeps working.
    const { secret } = await enrol(frank.client);
    expect(await frank.client.errorCode(`mutation { enableTotp { secret } }`)).toBe('TOTP_ALREADY_ENABLED');
    expect((await login('frank', { totp: codeAt(secret) })).code).toBe('ok');
    // Turning it off needs proof: nothing, or a wrong password, changes nothing.
    expect(await frank.client.errorCode(`mutation { disableTotp }`)).toBe('BAD_USER_INPUT');
    expect(await frank.client.errorCode(`mutation { disableTotp(password: "not-it") }`)).toBe('BAD_USER_INPUT');
    expect(await twoFactorOf(frank.client)).toBe(true);
    expect(await frank.client.data(`mutation { disableTotp(password: "${PASSWORD}") }`)).toEqual({ disableTotp: true });
    expect(await twoFactorOf(frank.client)).toBe(false);
    expect((await login('frank')).code).toBe('ok');
    expect(await frank.client.errorCode(`mutation { disableTotp(password: "${PASSWORD}") }`)).toBe('BAD_USER_INPUT');
  });

  it('lets a user turn it off with a current code', async () => {
    const gina = await createUser(server, admin.client, 'gina');
    const { secret } = await enrol(gina.client);
    expect(await gina.client.data(`mutation($c: String) { disableTotp(code: $c) }`, { c: codeAt(secret) })).toEqual({ disableTotp: true });
    expect((await login('gina')).code).toBe('ok');
  });

  it("lets a user manager reset someone's two-factor sign-in, audited, and shows who has it", async () => {
    const hank = await createUser(server, admin.client, 'hank');
    await enrol(hank.client);
    const listed = await admin.client.data<{ users: { username: string; twoFactorEnabled: boolean | null }[] }>(`{ users { username twoFactorEnabled } }`);
    expect(listed.users.find((u) => u.username === 'hank')!.twoFactorEnabled).toBe(true);
    // Another ordinary user is refused, and hank's stays on.
    const ivy = await createUser(server, admin.client, 'ivy');
    expect(await ivy.client.errorCode(`mutation($id: ID!) { resetUserTotp(userId: $id) { id } }`, { id: hank.userId })).toBe('FORBIDDEN');
    expect((await login('hank')).code).toBe('TOTP_REQUIRED');

    const reset = await admin.client.data<{ resetUserTotp: { username: string; twoFactorEnabled: boolean } }>(
      `mutation($id: ID!) { resetUserTotp(userId: $id) { username twoFactorEnabled } }`,
      { id: hank.userId },
    );
    expect(reset.resetUserTotp).toEqual({ username: 'hank', twoFactorEnabled: false });
    expect((await login('hank')).code).toBe('ok');
    const audit = await admin.client.data<{ auditLog: { entries: { action: string; objectId: string; actorName: string }[] } }>(`{ auditLog { entries { action objectId actorName } } }`);
    expect(audit.auditLog.entries).toContainEqual({ action: 'resetUserTotp', objectId: hank.userId, actorName: 'admin' });
    expect(await admin.client.errorCode(`mutation { resetUserTotp(userId: "00000000-0000-4000-8000-00000000abcd") { id } }`)).toBe('NOT_FOUND');
  });

  it('requires two-factor for everyone: users without it may only enrol until they have it', async () => {
    const jack = await createUser(server, admin.client, 'jack');
    // The admin must have it first, or their own next request would be held back.
    expect(await admin.client.errorCode(`mutation { updateServerSettings(input: { requireTwoFactor: true }) { requireTwoFactor } }`)).toBe('BAD_USER_INPUT');
    expect(await jack.client.errorCode(`mutation { updateServerSettings(input: { requireTwoFactor: true }) { requireTwoFactor } }`)).toBe('FORBIDDEN');
    await enrol(admin.client);
    expect(await admin.client.data(`mutation { updateServerSettings(input: { requireTwoFactor: true }) { requireTwoFactor } }`)).toEqual({
      updateServerSettings: { requireTwoFactor: true },
    });

    // jack signs in with the password and gets a session that may only enrol.
    const signedIn = await login('jack');
    expect(signedIn.code).toBe('ok');
    const session = signedIn.session;
    expect(await session.data(`{ me { username twoFactorSetupRequired } }`)).toEqual({ me: { username: 'jack', twoFactorSetupRequired: true } });
    expect(await session.errorCode(`{ templates { id } }`)).toBe('TOTP_SETUP_REQUIRED');
    expect(await session.errorCode(`mutation { createApiToken(name: "x") { token } }`)).toBe('TOTP_SETUP_REQUIRED');
    // His API token from before is held back the same way.
    expect(await jack.client.errorCode(`{ spaces { id } }`)).toBe('TOTP_SETUP_REQUIRED');
    // Routes into spaces treat him as signed out: port-login sends him to log in, the terminal closes 4401.
    expect(await portLogin(session.cookie!, 'jack')).toBe('302 /login');
    expect(await terminalClose(jack.token)).toBe(4401);

    const setup = await session.data<{ enableTotp: { secret: string } }>(`mutation { enableTotp { secret } }`);
    await freshStep();
    await session.data(`mutation($c: String!) { confirmTotp(code: $c) }`, { c: codeAt(setup.enableTotp.secret, -1) });
    await waitFor(async () => !(await session.request(`{ templates { id } }`)).errors, { what: 'the session to be released' });
    expect(await session.data(`{ me { twoFactorSetupRequired } }`)).toEqual({ me: { twoFactorSetupRequired: false } });
    expect(await jack.client.data(`{ spaces { id } }`)).toEqual({ spaces: [] });
    // Now he is himself again: a space he does not have is simply not found.
    expect(await portLogin(session.cookie!, 'jack')).toBe('404');
    expect(await terminalClose(jack.token)).toBe(4404);

    // Turned off again, the rule no longer holds anyone back.
    await admin.client.data(`mutation { updateServerSettings(input: { requireTwoFactor: false }) { requireTwoFactor } }`);
    const kim = await createUser(server, admin.client, 'kim');
    expect(await kim.client.data(`{ spaces { id } }`)).toEqual({ spaces: [] });
  });
});
