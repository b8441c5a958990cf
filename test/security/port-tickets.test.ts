/**
 * Port-login tickets were replayable for their minute and worked in
 * any browser, so an attacker could log a victim's browser into the attacker's port host; its app
 * then set `knot_session=…; Domain=<Knot's domain>` and the victim's UI acted in the attacker's
 * account. Now a ticket works once (on every replica sharing the database) and only with the state
 * cookie of the browser that asked; proxied Set-Cookie loses its Domain; over https the session
 * cookie is `__Host-` prefixed, and a doubled session cookie counts as none.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostAgent } from '../agent/fixture.js';
import { startTestServer, setupAdmin, type TestServer } from '../helpers/server.js';
import { httpGet } from '../proxy/fixture.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { runManualSpace, startSpaceApp, type SpaceApp } from './space-app.js';

const DOMAIN = 'knot.test';
const cookieOf = (res: { headers: Record<string, unknown> }, name: string) =>
  ((res.headers['set-cookie'] as string[] | undefined) ?? []).map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`));

describe('port-login tickets', () => {
  let h: SpacesHarness;
  let replica: TestServer;
  let app: SpaceApp;
  let agent: HostAgent | undefined;
  let host: string;
  let session: string;

  beforeAll(async () => {
    [h, app] = await Promise.all([
      startSpacesHarness({ config: { wildcardDomain: `*.${DOMAIN}` } }),
      startSpaceApp((_req, res) =>
        res.writeHead(200, { 'set-cookie': [`knot_session=planted; Domain=${DOMAIN}; Path=/graphql`, `app=1; Domain=${DOMAIN}; Path=/`] }).end('the app'),
      ),
    ]);
    // A second replica on the same database and server key.
    replica = await startTestServer({ databaseUrl: h.server.databaseUrl, config: { dataDir: h.server.app.services.config.dataDir, wildcardDomain: `*.${DOMAIN}` } });
    const running = await runManualSpace(h, h.admin.client, { name: 'web', env: { KNOT_HTTP_PORT: `${app.port}=web` }, ready: (s) => (s?.services.ports.length ?? 0) === 1 });
    agent = running.agent;
    host = `admin--web--${app.port}.${DOMAIN}`;
    session = (await h.server.anonymous.login('admin', 'correct-horse')).cookie!;
  });
  afterAll(async () => {
    await agent?.stop();
    await app?.close();
    await replica?.stop();
    await h?.dispose();
  });

  /** A browser's handoff up to the ticket: the port host's redirect (and its state cookie), then Knot's. */
  async function ticketFor(server: { url: string } = h.server): Promise<{ callback: string; state: string }> {
    const first = await httpGet(`${server.url}/page`, { host, accept: 'text/html' });
    expect(first.status).toBe(302);
    const state = cookieOf(first, 'knot_port_state')!;
    expect(state).toBeTruthy();
    const login = new URL(first.headers.location as string);
    const handoff = await httpGet(`${server.url}${login.pathname}${login.search}`, { cookie: session });
    expect(handoff.status).toBe(302);
    const back = new URL(handoff.headers.location as string);
    return { callback: `${back.pathname}${back.search}`, state };
  }
  const redeem = (callback: string, cookie: string | undefined, server: { url: string } = h.server) => httpGet(`${server.url}${callback}`, { host, ...(cookie ? { cookie } : {}) });

  it('works once, in the browser that asked for it', async () => {
    const { callback, state } = await ticketFor();
    const first = await redeem(callback, state);
    expect(first.status).toBe(302);
    expect(cookieOf(first, 'knot_port')).toBeTruthy();
    const replayed = await redeem(callback, state);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatch(/already used|another browser/);
  });

  it('is refused in another browser (no state cookie, or another one)', async () => {
    const mine = await ticketFor();
    const theirs = await ticketFor();
    expect((await redeem(mine.callback, undefined)).status).toBe(401);
    expect((await redeem(mine.callback, theirs.state)).status).toBe(401);
    // Still good in the browser that asked: the refusals above did not use it up.
    expect((await redeem(mine.callback, mine.state)).status).toBe(302);
  });

  it('is single-use across replicas sharing the database', async () => {
    const { callback, state } = await ticketFor();
    expect((await redeem(callback, state, replica)).status).toBe(302);
    expect((await redeem(callback, state, h.server)).status).toBe(401);
    expect((await redeem(callback, state, replica)).status).toBe(401);
  });

  it("drops the Domain of the app's cookies (host-only) and never passes a cookie named like Knot's", async () => {
    const res = await httpGet(`${h.server.url}/`, { host, authorization: `Bearer ${h.admin.token}` });
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual(['app=1; Path=/']);
  });
});

describe('the session cookie over https', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ config: { url: 'https://knot.example.com', wildcardDomain: '*.knot.example.com' } });
    await setupAdmin(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('is __Host- prefixed, and neither the bare name nor a doubled cookie logs anyone in', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { login(username: "admin", password: "correct-horse") { id } }` }),
    });
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^__Host-knot_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    const token = setCookie.split(';')[0]!.split('=').slice(1).join('=');
    const me = async (cookie: string) => {
      const answer = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ query: '{ me { username } }' }) });
      return ((await answer.json()) as { data: { me: { username: string } | null } }).data.me?.username ?? null;
    };
    expect(await me(`__Host-knot_session=${token}`)).toBe('admin');
    // A cookie any sibling host could plant (no prefix) is not Knot's session over https.
    expect(await me(`knot_session=${token}`)).toBeNull();
    // Two session cookies: one was planted, and the browser's order is the planter's choice.
    expect(await me(`__Host-knot_session=${token}; __Host-knot_session=${createHash('sha256').update('x').digest('hex')}`)).toBeNull();
  });
});
