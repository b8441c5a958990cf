import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentBundle, captureLogs, WATCH_SERVICES, type ServicesChange } from '../agent/fixture.js';
import { createUser } from '../helpers/server.js';
import { UPDATE_SPACE, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { httpGet, proxiedJob } from './fixture.js';

const DOMAIN = 'knot.test';

/**
 * Code-server, the desktop and web ports of a Docker space, reached through the real agent in
 * the container (every byte goes over its multiplexed WebSocket), by path and by port host.
 */
describe('proxies into a space', () => {
  let h: SpacesHarness;
  let logs: ReturnType<typeof captureLogs>;
  let spaceId: string;
  let base: string;
  const bearer = () => ({ authorization: `Bearer ${h.admin.token}` });
  /** A request to a port host, sent to the test server (DNS for *.knot.test is not needed). */
  const onHost = (host: string, path: string, headers: Record<string, string> = {}) =>
    httpGet(`${h.server.url}${path}`, { host: `${host}.${DOMAIN}`, ...headers });

  beforeAll(async () => {
    await agentBundle();
    logs = captureLogs();
    h = await startSpacesHarness({ host: '0.0.0.0', config: { wildcardDomain: `*.${DOMAIN}` }, logger: logs.logger });
    const templateId = (await h.createTemplate({ name: 'proxied', job: proxiedJob(), withCodeServer: true })).id;
    spaceId = (await h.createSpace({ templateId, name: 'proxied' })).id;
    base = `${h.server.url}/spaces/${spaceId}`;
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    await h.startAndWait(spaceId);
    const ready = await sub.next((e) => {
      const s = e.spaceChanged.space?.services;
      return !!s && s.codeServer && s.desktop && s.ports.length === 3;
    });
    sub.close();
    expect(ready.spaceChanged.space!.services.ports).toEqual([
      // Same scheme and port as KNOT_URL (http://localhost:3000 here): one listener serves both.
      { port: 8080, name: 'web', protocol: 'HTTP', url: `http://admin--proxied--8080.${DOMAIN}:3000/` },
      { port: 8443, name: 'secure', protocol: 'HTTPS', url: `http://admin--proxied--8443.${DOMAIN}:3000/` },
      { port: 9000, name: 'echo', protocol: 'TCP', url: null },
    ]);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  describe('a web port under /spaces/<id>/ports/<port>/', () => {
    it('answers through the agent, with the path below the prefix and without Knot credentials', async () => {
      const res = await httpGet(`${base}/ports/8080/hello?x=1`, { ...bearer(), cookie: 'knot_session=secret; app=1' });
      expect(res.status).toBe(200);
      const seen = JSON.parse(res.body);
      expect(seen.url).toBe('/hello?x=1');
      expect(seen.headers.cookie).toBe('app=1');
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.headers['x-forwarded-prefix']).toBe(`/spaces/${spaceId}/ports/8080`);
    });

    it('adds the trailing slash, and keeps redirects and cookies under the prefix', async () => {
      const bare = await httpGet(`${base}/ports/8080?a=b`, bearer());
      expect(bare.status).toBe(302);
      expect(bare.headers.location).toBe(`/spaces/${spaceId}/ports/8080/?a=b`);
      const redirect = await httpGet(`${base}/ports/8080/redirect`, bearer());
      expect(redirect.status).toBe(302);
      expect(redirect.headers.location).toBe(`/spaces/${spaceId}/ports/8080/landed`);
      const cookie = await httpGet(`${base}/ports/8080/set-cookie`, bearer());
      expect(cookie.headers['set-cookie']).toEqual([`app=1; Path=/spaces/${spaceId}/ports/8080/`]);
    });

    it('speaks TLS to an HTTPS port (self-signed, as dev servers are) while the browser side stays plain', async () => {
      const res = await httpGet(`${base}/ports/8443/secure?y=2`, bearer());
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).url).toBe('/secure?y=2');
      const byHost = await onHost('admin--proxied--8443', '/by-host', bearer());
      expect(JSON.parse(byHost.body).url).toBe('/by-host');
    });

    it('passes WebSocket upgrades through', async () => {
      const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ports/8080/live`, { headers: bearer() });
      const message = await new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(String(data)));
        ws.once('error', reject);
      });
      expect(message).toBe('hello over websocket at /live');
      ws.close();
    });

    it('cuts a proxied WebSocket when the token that opened it is revoked', async () => {
      const login = await h.server.anonymous.login('admin', 'correct-horse');
      const token = await login.createToken('app socket');
      const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ports/8080/live`, { headers: { authorization: `Bearer ${token}` } });
      ws.on('error', () => {});
      const closed = new Promise((resolve) => ws.once('close', resolve));
      await new Promise((resolve) => ws.once('message', resolve));
      const tokens = await login.data<{ apiTokens: { id: string; name: string }[] }>(`{ apiTokens { id name } }`);
      await login.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: tokens.apiTokens.find((t) => t.name === 'app socket')!.id });
      await closed;
    });

    it('refuses a port the agent does not offer, even when something listens on it, and says so', async () => {
      const hidden = await httpGet(`${base}/ports/7000/`, bearer());
      expect(hidden.status).toBe(404);
      expect(hidden.body).toBe('"proxied" does not offer port 7000 (it offers 8080, 8443).\n');
      expect(logs.find('refused ports')).toMatchObject({ status: 404, spaceId });
      const tcp = await httpGet(`${base}/ports/9000/`, bearer());
      expect(tcp.status).toBe(404);
      expect(tcp.body).toMatch(/is a TCP port; reach it with `knot forward port <local> proxied 9000`/);
    });
  });

  describe('a web port on <user>--<space>--<port>.<wildcard domain>', () => {
    it('answers by the space name and, as soon as it is saved, by an additional name', async () => {
      const byName = await onHost('admin--proxied--8080', '/page', bearer());
      expect(byName.status).toBe(200);
      expect(JSON.parse(byName.body)).toMatchObject({ url: '/page', headers: { host: `admin--proxied--8080.${DOMAIN}` } });
      expect((await onHost('admin--preview--8080', '/', bearer())).status).toBe(404);

      await h.admin.client.data(UPDATE_SPACE, { id: spaceId, input: { altNames: ['preview'] } });
      const byAltName = await onHost('Admin--Preview--8080', '/alt', bearer());
      expect(byAltName.status).toBe(200);
      expect(JSON.parse(byAltName.body).headers.host).toBe(`Admin--Preview--8080.${DOMAIN}`);

      await h.admin.client.data(UPDATE_SPACE, { id: spaceId, input: { altNames: ['other'] } });
      expect((await onHost('admin--preview--8080', '/', bearer())).status).toBe(404);
      expect((await onHost('admin--other--8080', '/', bearer())).status).toBe(200);
    });

    it('sends a browser without a port cookie through the Knot login handoff, and then serves it', async () => {
      const first = await onHost('admin--proxied--8080', '/deep/page?q=1', { accept: 'text/html' });
      expect(first.status).toBe(302);
      // The browser's state cookie: the ticket will only work with it.
      const state = (first.headers['set-cookie'] as string[])[0]!.split(';')[0]!;
      expect(state).toMatch(/^knot_port_state=/);
      const login = new URL(first.headers.location as string);
      expect(`${login.origin}${login.pathname}`).toBe(`${h.server.app.services.config.url}/spaces/port-login`);
      expect(login.searchParams.get('to')).toBe(`http://admin--proxied--8080.${DOMAIN}/deep/page?q=1`);

      // Not logged in to Knot: to the login page, which comes back here afterwards.
      const anonymous = await httpGet(`${h.server.url}${login.pathname}${login.search}`);
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.location).toBe(`/login?next=${encodeURIComponent(`${login.pathname}${login.search}`)}`);

      const session = await h.server.anonymous.login('admin', 'correct-horse');
      const handoff = await httpGet(`${h.server.url}${login.pathname}${login.search}`, { cookie: session.cookie! });
      expect(handoff.status).toBe(302);
      const back = new URL(handoff.headers.location as string);
      expect(back.host).toBe(`admin--proxied--8080.${DOMAIN}`);
      expect(back.pathname).toBe('/__knot/auth');

      // The ticket is for that host only.
      expect((await onHost('admin--other--8080', `${back.pathname}${back.search}`, { cookie: state })).status).toBe(401);
      const callback = await onHost('admin--proxied--8080', `${back.pathname}${back.search}`, { cookie: state });
      expect(callback.status).toBe(302);
      expect(callback.headers.location).toBe('/deep/page?q=1');
      const portCookie = (callback.headers['set-cookie'] as string[])[0]!.split(';')[0]!;
      expect(portCookie).toMatch(/^knot_port=/);

      const page = await onHost('admin--proxied--8080', '/deep/page?q=1', { cookie: `${portCookie}; app=2` });
      expect(page.status).toBe(200);
      expect(JSON.parse(page.body).headers.cookie).toBe('app=2');
      // The port cookie is bound to its host.
      expect((await onHost('admin--other--8080', '/', { cookie: portCookie })).status).toBe(401);
      // Logging out of Knot ends it.
      await session.request('mutation { logout }');
      expect((await onHost('admin--proxied--8080', '/', { cookie: portCookie })).status).toBe(401);
    });

    it("gives no ticket for another user's space and no redirect to a host outside the wildcard domain", async () => {
      const bob = await createUser(h.server, h.admin.client, 'bob');
      const bobSession = await h.server.anonymous.login('bob', 'correct-horse');
      const to = encodeURIComponent(`http://admin--proxied--8080.${DOMAIN}/`);
      const refused = await httpGet(`${h.server.url}/spaces/port-login?to=${to}`, { cookie: bobSession.cookie! });
      expect(refused.status).toBe(404);
      const elsewhere = await httpGet(`${h.server.url}/spaces/port-login?to=${encodeURIComponent('https://evil.example.com/')}`, { cookie: bobSession.cookie! });
      expect(elsewhere.status).toBe(400);
      expect((await onHost('admin--proxied--8080', '/', { authorization: `Bearer ${bob.token}` })).status).toBe(404);
      await bob.client.close();
    });
  });

  describe('who may reach in (docs/permissions.md)', () => {
    type Outcome = { status: number } | { close: number };
    /** Every route into a space, as each kind of client opens it; the result is what refused them. */
    const routes: [string, (id: string, headers: Record<string, string>) => Promise<Outcome>][] = [
      ['terminal', (id, headers) => socketOutcome(`/spaces/${id}/terminal`, headers)],
      ['forward', (id, headers) => socketOutcome(`/spaces/${id}/forward/9000`, headers)],
      ['code-server', async (id, headers) => ({ status: (await httpGet(`${h.server.url}/spaces/${id}/code-server/`, headers)).status })],
      ['desktop', async (id, headers) => ({ status: (await httpGet(`${h.server.url}/spaces/${id}/desktop/`, headers)).status })],
      ['web port by path', async (id, headers) => ({ status: (await httpGet(`${h.server.url}/spaces/${id}/ports/8080/`, headers)).status })],
      ['web port WebSocket by path', (id, headers) => socketOutcome(`/spaces/${id}/ports/8080/live`, headers)],
      ['web port by host', async (_id, headers) => ({ status: (await onHost('admin--proxied--8080', '/', headers)).status })],
      ['web port WebSocket by host', (_id, headers) => socketOutcome('/live', { ...headers, host: `admin--proxied--8080.${DOMAIN}` })],
    ];

    function socketOutcome(path: string, headers: Record<string, string>): Promise<Outcome> {
      const ws = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}${path}`, { headers });
      return new Promise((resolve) => {
        ws.once('unexpected-response', (_req, res) => {
          resolve({ status: res.statusCode! });
          ws.terminate();
        });
        ws.once('close', (code) => resolve({ close: code }));
        // Through: a byte comes back (the terminal's prompt, the echo port, the app's greeting).
        ws.once('open', () => ws.send(Buffer.from('x')));
        ws.once('message', () => {
          resolve({ close: -1 });
          ws.close();
        });
        ws.on('error', () => {});
      });
    }

    const refusedAnonymous = (o: Outcome) => ('status' in o ? o.status === 401 : o.close === 4401);
    const refusedAsMissing = (o: Outcome) => ('status' in o ? o.status === 404 : o.close === 4404);

    it('refuses anonymous callers and bad tokens on every route', async () => {
      for (const [name, open] of routes) {
        expect(refusedAnonymous(await open(spaceId, {})), `${name}, anonymous`).toBe(true);
        expect(refusedAnonymous(await open(spaceId, { authorization: 'Bearer knot_forged' })), `${name}, forged token`).toBe(true);
      }
    });

    it('refuses another user, and a holder of MANAGE_SPACES, on every route, as if the space did not exist', async () => {
      const role = await h.admin.client.data<{ createRole: { id: string } }>(`mutation { createRole(name: "space managers", permissions: [MANAGE_SPACES]) { id } }`);
      const carol = await createUser(h.server, h.admin.client, 'carol', [role.createRole.id]);
      const dave = await createUser(h.server, h.admin.client, 'dave');
      // Carol may manage the space (she sees it, and could stop it) but not reach into it.
      expect((await carol.client.data<{ space: { name: string } }>(`query($id: ID!) { space(id: $id) { name } }`, { id: spaceId })).space.name).toBe('proxied');
      for (const [name, open] of routes) {
        expect(refusedAsMissing(await open(spaceId, { authorization: `Bearer ${dave.token}` })), `${name}, another user`).toBe(true);
        expect(refusedAsMissing(await open(spaceId, { authorization: `Bearer ${carol.token}` })), `${name}, MANAGE_SPACES`).toBe(true);
      }
      // The owner gets through on every one of them.
      for (const [name, open] of routes) {
        const outcome = await open(spaceId, bearer());
        expect(!refusedAnonymous(outcome) && !refusedAsMissing(outcome), `${name}, owner: ${JSON.stringify(outcome)}`).toBe(true);
      }
      await carol.client.close();
      await dave.client.close();
    });
  });

  describe('code-server and the desktop', () => {
    it('proxies code-server under /spaces/<id>/code-server/', async () => {
      const health = await httpGet(`${base}/code-server/healthz`, bearer());
      expect(health).toMatchObject({ status: 200, body: 'ok' });
      const page = JSON.parse((await httpGet(`${base}/code-server/some/file?folder=/root`, bearer())).body);
      expect(page.url).toBe('/some/file?folder=/root');
    });

    it("proxies the desktop with the owner's service password as its credential", async () => {
      const res = await httpGet(`${base}/desktop/`, bearer());
      expect(res).toMatchObject({ status: 200, body: 'desktop for admin' });
    });
  });
});
