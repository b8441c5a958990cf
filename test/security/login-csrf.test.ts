/**
 * The victim's UI acting in the attacker's account: a page of another
 * site posted a hidden form to `/graphql` with `login(attacker's name and password)`. Forms need no
 * CORS preflight, and `login` needs no cookie, so Knot answered with a session cookie that the
 * browser stored: the victim's next visit to Knot was in the attacker's account. The same form
 * with `setup` took a fresh install's first (admin) account. In the real Chromium.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, contextAs } from '../e2e/browser.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

/** An attacker's page, on another site (`localhost` while Knot is `127.0.0.1`), that posts `query` to Knot on load. */
function attackerSite(knotUrl: string, query: string): Promise<{ url: string; close(): Promise<void> }> {
  const page = `<!doctype html><form id="f" method="POST" action="${knotUrl}/graphql" enctype="application/x-www-form-urlencoded">
    <input type="hidden" name="query" value='${query}'></form><script>document.getElementById('f').submit()</script>`;
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://localhost:${(server.address() as AddressInfo).port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

describe('no cross-site logins', () => {
  let browser: Browser;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    for (const server of servers) await server.stop();
  });

  /** Who Knot's own page is logged in as now. */
  const whoAmI = (page: import('playwright-core').Page, knotUrl: string) =>
    page.goto(`${knotUrl}/healthz`).then(() =>
      page.evaluate(async () => {
        const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { username } }' }) });
        return ((await res.json()) as { data?: { me: { username: string } | null } }).data?.me?.username ?? null;
      }),
    );

  it("a form on another site cannot log the visitor into the attacker's account", async () => {
    const server = await startTestServer();
    servers.push(server);
    const admin = await setupAdmin(server);
    await createUser(server, admin.client, 'alice');
    await createUser(server, admin.client, 'mallory');
    const attacker = await attackerSite(server.url, 'mutation { login(username: "mallory", password: "correct-horse") { id } }');
    const { context, page } = await contextAs(browser, server, 'alice');
    try {
      expect(await whoAmI(page, server.url)).toBe('alice');
      const posted = page.waitForResponse((res) => res.url() === `${server.url}/graphql`);
      await page.goto(attacker.url);
      const answer = await posted;
      expect(answer.status()).toBe(403);
      expect(await whoAmI(page, server.url)).toBe('alice');
    } finally {
      await context.close();
      await attacker.close();
    }
  });

  it("a form on another site cannot set up a fresh install's admin account", async () => {
    const server = await startTestServer();
    servers.push(server);
    const attacker = await attackerSite(
      server.url,
      'mutation { setup(input: { username: "mallory", email: "m@example.com", password: "attacker-chosen" }) { id } }',
    );
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const posted = page.waitForResponse((res) => res.url() === `${server.url}/graphql`);
      await page.goto(attacker.url);
      expect((await posted).status()).toBe(403);
      const info = await server.anonymous.data<{ serverInfo: { setupRequired: boolean } }>('{ serverInfo { setupRequired } }');
      expect(info.serverInfo.setupRequired).toBe(true);
    } finally {
      await context.close();
      await attacker.close();
    }
  });

  it('still serves scripts from other origins that bring their own API token', async () => {
    const server = await startTestServer();
    servers.push(server);
    const admin = await setupAdmin(server);
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://dashboard.example.com', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ query: '{ me { username } }' }),
    });
    expect(await res.json()).toEqual({ data: { me: { username: 'admin' } } });
  });
});
