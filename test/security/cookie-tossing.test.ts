/**
 * Cookie tossing, in the real Chromium: a port host's app plants `knot_session=<attacker's session>;
 * Domain=<Knot's domain>; Path=/graphql`, which the browser would then send to Knot before the
 * victim's own cookie, so the victim's UI acts in the attacker's account. Knot and the spaces get
 * real host names here (`knot.test` and `*.knot.test`, mapped to loopback in Chromium).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostAgent } from '../agent/fixture.js';
import { launchBrowser } from '../e2e/browser.js';
import { createUser } from '../helpers/server.js';
import { httpGet } from '../proxy/fixture.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { runManualSpace, startSpaceApp, type SpaceApp } from './space-app.js';

const DOMAIN = 'knot.test';

describe('cookie tossing from a port host', () => {
  let h: SpacesHarness;
  let app: SpaceApp;
  const agents: HostAgent[] = [];
  let browser: Browser;
  let knot: string;
  let malloryToken: string;
  let malloryCookie: string;
  let victim: Page;

  beforeAll(async () => {
    // Every page of the app plants the attacker's session on Knot's domain.
    app = await startSpaceApp((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': `knot_session=${malloryToken}; Domain=${DOMAIN}; Path=/graphql` }).end('<h1>an app</h1>'),
    );
    [h, browser] = await Promise.all([
      startSpacesHarness({ config: { wildcardDomain: `*.${DOMAIN}` } }),
      launchBrowser([`--host-resolver-rules=MAP ${DOMAIN} 127.0.0.1, MAP *.${DOMAIN} 127.0.0.1`]),
    ]);
    const port = new URL(h.server.url).port;
    knot = `http://${DOMAIN}:${port}`;
    h.server.app.services.config.url = knot;

    const mallory = await createUser(h.server, h.admin.client, 'mallory');
    const mallorySession = await h.server.anonymous.login('mallory', 'correct-horse');
    malloryCookie = mallorySession.cookie!;
    malloryToken = malloryCookie.split('=').slice(1).join('=');
    const ready = (s: { services: { ports: unknown[] } } | null) => (s?.services.ports.length ?? 0) === 1;
    const env = { KNOT_HTTP_PORT: `${app.port}=web` };
    agents.push((await runManualSpace(h, mallory.client, { name: 'evil', env, ready })).agent);
    agents.push((await runManualSpace(h, h.admin.client, { name: 'mine', env, ready })).agent);

    const victimSession = await h.server.anonymous.login('admin', 'correct-horse');
    const context = await browser.newContext();
    const [name, ...value] = victimSession.cookie!.split('=');
    await context.addCookies([{ name: name!, value: value.join('='), url: knot, httpOnly: true, sameSite: 'Lax' }]);
    victim = await context.newPage();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    for (const agent of agents) await agent.stop();
    await app?.close();
    await h?.dispose();
  });

  /** Who Knot's UI acts as in the victim's browser: `me` from a page on Knot's origin. */
  async function knotActsAs(): Promise<string | null> {
    await victim.goto(`${knot}/healthz`);
    return victim.evaluate(async () => {
      const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { username } }' }) });
      return ((await res.json()) as { data: { me: { username: string } | null } }).data.me?.username ?? null;
    });
  }

  it("an attacker's port-login link does not log the victim's browser in", async () => {
    expect(await knotActsAs()).toBe('admin');
    // Mallory asks for a ticket to his own port host, in his own "browser".
    const host = `mallory--evil--${app.port}.${DOMAIN}`;
    const first = await httpGet(`${h.server.url}/`, { host, accept: 'text/html' });
    const login = new URL(first.headers.location as string);
    const handoff = await httpGet(`${h.server.url}${login.pathname}${login.search}`, { cookie: malloryCookie });
    const link = new URL(handoff.headers.location as string);
    expect(link.pathname).toBe('/__knot/auth');

    const opened = await victim.goto(`http://${host}:${new URL(knot).port}${link.pathname}${link.search}`);
    expect(opened!.status()).toBe(401);
    expect(await knotActsAs()).toBe('admin');
  });

  it("the victim's own port host (through the real login handoff) cannot plant a session on Knot's domain", async () => {
    const host = `admin--mine--${app.port}.${DOMAIN}`;
    const opened = await victim.goto(`http://${host}:${new URL(knot).port}/`);
    expect(opened!.status()).toBe(200);
    expect(await victim.textContent('h1')).toBe('an app');
    // The app's cookie stayed on its own host.
    const planted = (await victim.context().cookies(`${knot}/graphql`)).filter((c) => c.name === 'knot_session');
    expect(planted.map((c) => c.domain)).toEqual([DOMAIN]);
    expect(await knotActsAs()).toBe('admin');
  });
});
