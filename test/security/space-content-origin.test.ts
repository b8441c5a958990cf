/**
 * Everything served through /spaces/<id>/code-server/, /desktop/ and /ports/<port>/ ran
 * on Knot's origin; a page there registered a service worker with scope `/` (its server sent
 * `Service-Worker-Allowed: /`) and from then on answered Knot's own addresses. Now, with a
 * wildcard domain, those paths send the browser to the space's own host; without one they still
 * work but refuse service-worker scripts, strip `Service-Worker-Allowed` and drop any cookie named
 * like Knot's. A server on localhost gets `*.localhost` as its wildcard domain by default.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';
import type { HostAgent } from '../agent/fixture.js';
import { contextAs, launchBrowser } from '../e2e/browser.js';
import { httpGet } from '../proxy/fixture.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { runManualSpace, startSpaceApp, type SpaceApp } from './space-app.js';

const HOSTILE_WORKER = `self.addEventListener('fetch', (e) => e.respondWith(new Response('<h1>owned by the space</h1>', { headers: { 'content-type': 'text/html' } })));`;
const REGISTERING_PAGE = `<!doctype html><title>space</title><script>
  window.result = navigator.serviceWorker.register('sw.js', { scope: '/' })
    .then(() => navigator.serviceWorker.ready).then(() => 'registered', (err) => 'refused: ' + err.message);
</script>`;

/** A space app that does what a hostile page would: a worker claiming `/`, Knot-named cookies, a Domain cookie. */
function hostileApp() {
  return startSpaceApp((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/sw.js') return res.writeHead(200, { 'content-type': 'text/javascript', 'service-worker-allowed': '/' }).end(HOSTILE_WORKER);
    if (path === '/cookies') {
      return res
        .writeHead(200, { 'set-cookie': ['knot_session=planted; Path=/', '__Host-knot_session=planted; Path=/; Secure', 'app=1; Domain=127.0.0.1; Path=/'] })
        .end('cookies');
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(REGISTERING_PAGE);
  });
}

describe('space content on Knot origin, without a wildcard domain', () => {
  let h: SpacesHarness;
  let app: SpaceApp;
  let agent: HostAgent | undefined;
  let browser: Browser | undefined;
  let base: string;
  const bearer = () => ({ authorization: `Bearer ${h.admin.token}` });

  beforeAll(async () => {
    [h, app] = await Promise.all([startSpacesHarness(), hostileApp()]);
    const running = await runManualSpace(h, h.admin.client, {
      name: 'hostile',
      env: { KNOT_HTTP_PORT: `${app.port}=web` },
      ready: (s) => (s?.services.ports.length ?? 0) === 1,
    });
    agent = running.agent;
    base = `${h.server.url}/spaces/${running.spaceId}/ports/${app.port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await app?.close();
    await h?.dispose();
  });

  it('refuses service-worker scripts and strips Service-Worker-Allowed', async () => {
    const asWorker = await httpGet(`${base}/sw.js`, { ...bearer(), 'service-worker': 'script' });
    expect(asWorker.status).toBe(403);
    expect(asWorker.body).toMatch(/service worker/);
    expect(app.seen.some((req) => req.headers['service-worker'])).toBe(false);
    const asScript = await httpGet(`${base}/sw.js`, bearer());
    expect(asScript.status).toBe(200);
    expect(asScript.headers['service-worker-allowed']).toBeUndefined();
  });

  it("never lets the space set Knot's cookies, nor a cookie for another host", async () => {
    const res = await httpGet(`${base}/cookies`, bearer());
    expect(res.status).toBe(200);
    expect(res.headers['set-cookie']).toEqual([`app=1; Path=${new URL(base).pathname}/`]);
  });

  it('in Chromium, a page of the space cannot install a service worker that answers for Knot', async () => {
    browser = await launchBrowser();
    const { context, page } = await contextAs(browser, h.server, 'admin');
    await page.goto(`${base}/`);
    expect(await page.evaluate(() => (window as unknown as { result: Promise<string> }).result)).toMatch(/^refused: /);
    expect(await context.serviceWorkers().length).toBe(0);
    await page.goto(`${h.server.url}/healthz`);
    expect(await page.textContent('body')).toContain('"status"');
    await context.close();
  });
});

describe('space content with a wildcard domain', () => {
  let h: SpacesHarness;
  let app: SpaceApp;
  let agent: HostAgent | undefined;
  let spaceId: string;

  beforeAll(async () => {
    [h, app] = await Promise.all([startSpacesHarness({ config: { wildcardDomain: '*.knot.test' } }), hostileApp()]);
    const running = await runManualSpace(h, h.admin.client, {
      name: 'hostile',
      env: { KNOT_HTTP_PORT: `${app.port}=web`, KNOT_VNC_HTTP_PORT: String(app.port) },
      ready: (s) => !!s?.services.desktop && (s?.services.ports.length ?? 0) === 1,
    });
    agent = running.agent;
    spaceId = running.spaceId;
    // The UI links to the space's own hosts.
    const urls = await h.admin.client.data<{ space: { services: { desktopUrl: string; ports: { url: string }[] } } }>(
      `query($id: ID!) { space(id: $id) { services { desktopUrl ports { url } } } }`,
      { id: spaceId },
    );
    expect(urls.space.services).toEqual({
      desktopUrl: 'http://admin--hostile--desktop.knot.test:3000/',
      ports: [{ url: `http://admin--hostile--${app.port}.knot.test:3000/` }],
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await app?.close();
    await h?.dispose();
  });

  it("sends a browser from every path route to the space's own host, and serves nothing on Knot's origin", async () => {
    const session = await h.server.anonymous.login('admin', 'correct-horse');
    const cookie = { cookie: session.cookie!, accept: 'text/html' };
    const paths: [string, string][] = [
      [`/spaces/${spaceId}/ports/${app.port}/page?x=1`, `http://admin--hostile--${app.port}.knot.test:3000/page?x=1`],
      [`/spaces/${spaceId}/desktop/vnc.html`, 'http://admin--hostile--desktop.knot.test:3000/vnc.html'],
      [`/spaces/${spaceId}/code-server/?folder=/root`, 'http://admin--hostile--code-server.knot.test:3000/?folder=/root'],
    ];
    for (const [path, location] of paths) {
      const res = await httpGet(`${h.server.url}${path}`, cookie);
      expect({ path, status: res.status, location: res.headers.location }).toEqual({ path, status: 302, location });
    }
    expect(app.seen.length).toBe(0);
    await session.request('mutation { logout }');
  });

  it('serves the desktop on its own host', async () => {
    const res = await httpGet(`${h.server.url}/`, { host: 'admin--hostile--desktop.knot.test', authorization: `Bearer ${h.admin.token}`, accept: 'text/html' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('navigator.serviceWorker.register');
  });
});

describe('the default wildcard domain', () => {
  it('is *.localhost for a server on localhost, and none elsewhere or when turned off', () => {
    expect(loadConfig({}).wildcardDomain).toBe('*.localhost');
    expect(loadConfig({ KNOT_URL: 'http://127.0.0.1:3000' }).wildcardDomain).toBe('*.localhost');
    expect(loadConfig({ KNOT_URL: 'https://knot.example.com' }).wildcardDomain).toBeUndefined();
    expect(loadConfig({ KNOT_WILDCARD_DOMAIN: 'none' }).wildcardDomain).toBeUndefined();
    expect(loadConfig({ KNOT_URL: 'https://knot.example.com', KNOT_WILDCARD_DOMAIN: '*.knot.example.com' }).wildcardDomain).toBe('*.knot.example.com');
  });
});

describe('a server on localhost (the default *.localhost wildcard domain), in Chromium', () => {
  let h: SpacesHarness;
  let app: SpaceApp;
  let agent: HostAgent | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    [h, app, browser] = await Promise.all([
      startSpacesHarness({ config: { wildcardDomain: '*.localhost' } }),
      startSpaceApp((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>the dev server</h1>')),
      launchBrowser(),
    ]);
    // As `npm start` has it: KNOT_URL on localhost, with the port the server really listens on.
    h.server.app.services.config.url = `http://localhost:${new URL(h.server.url).port}`;
    const running = await runManualSpace(h, h.admin.client, { name: 'dev', env: { KNOT_HTTP_PORT: `${app.port}=web` }, ready: (s) => (s?.services.ports.length ?? 0) === 1 });
    agent = running.agent;
  });
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await app?.close();
    await h?.dispose();
  });

  it("opens a port's link on its own *.localhost host through the login handoff", async () => {
    const knot = h.server.app.services.config.url;
    const session = await h.server.anonymous.login('admin', 'correct-horse');
    const [name, ...value] = session.cookie!.split('=');
    const context = await browser!.newContext();
    await context.addCookies([{ name: name!, value: value.join('='), url: knot, httpOnly: true, sameSite: 'Lax' }]);
    const page = await context.newPage();
    const { spaces } = await h.admin.client.data<{ spaces: { services: { ports: { url: string }[] } }[] }>(`{ spaces { services { ports { url } } } }`);
    const link = spaces[0]!.services.ports[0]!.url;
    expect(link).toBe(`http://admin--dev--${app.port}.localhost:${new URL(knot).port}/`);
    const opened = await page.goto(link);
    expect(opened!.status()).toBe(200);
    expect(page.url()).toBe(link);
    expect(await page.textContent('h1')).toBe('the dev server');
    await context.close();
  });
});
