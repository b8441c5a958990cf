/**
 * Knot's own pages: GraphiQL loaded its scripts from a public CDN on Knot's origin
 * (third-party code with the user's session; broken offline), and no page had a CSP, a framing
 * rule, nosniff or a Referrer-Policy. Now GraphiQL comes from a pinned local package, and the web
 * UI and GraphiQL carry a CSP (scripts: Knot's files and the hashes of its own inline scripts,
 * `frame-ancestors 'none'`), `X-Content-Type-Options: nosniff` and `Referrer-Policy`. In
 * Chromium both work under their policy, with no request leaving Knot and no violation.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, contextAs, open } from '../e2e/browser.js';
import { ensureWebBuild } from '../e2e/build-web.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

function expectPageHeaders(headers: Headers) {
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toMatch(/script-src 'self'( 'sha256-[\w+/=]+')+(;|$)/);
  expect(csp).not.toContain('unsafe-eval');
  expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('same-origin');
}

/** Records CSP violations and every request that does not go to Knot. */
async function watchPage(page: Page, knot: string) {
  const outside: string[] = [];
  const violations: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(knot) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await page.exposeFunction('__violation', (text: string) => violations.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __violation(t: string): void }).__violation(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return { outside, violations };
}

describe("Knot's own pages", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureWebBuild();
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
    await setupAdmin(server);
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('serves the web UI with a CSP, frame-ancestors, nosniff and a Referrer-Policy', async () => {
    for (const path of ['/', '/spaces', '/favicon.svg']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(200);
      expectPageHeaders(res.headers);
    }
  });

  it('serves GraphiQL from local assets only, with its own policy', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('renderYogaGraphiQL');
    expect(html).not.toMatch(/<script[^>]+src=["']?https?:/i);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdn\./i);
    expectPageHeaders(res.headers);
    expect(res.headers.get('content-security-policy')).toContain('worker-src blob:');
    const json = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ me { id } }"}' });
    expect(json.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('in Chromium, the UI starts and its early queries run under the policy, with nothing fetched from elsewhere', async () => {
    const { context, page } = await contextAs(browser, server, 'admin');
    const watched = await watchPage(page, server.url);
    await open(page, '/spaces');
    await page.getByRole('heading', { name: 'Spaces' }).waitFor();
    expect(await page.evaluate(() => typeof (window as unknown as { __knotEarly?: unknown }).__knotEarly)).toBe('object');
    expect(watched).toEqual({ outside: [], violations: [] });
    await context.close();
  });

  it('in Chromium, GraphiQL renders and answers a query offline', async () => {
    const { context, page } = await contextAs(browser, server, 'admin');
    const watched = await watchPage(page, server.url);
    await page.goto(`${server.url}/graphql?query=${encodeURIComponent('{ me { username } }')}`);
    await page.locator('.graphiql-container').first().waitFor({ timeout: 60_000 });
    await page.locator('.graphiql-execute-button').click();
    await page.getByText('"username": "admin"').waitFor({ timeout: 30_000 });
    expect(watched).toEqual({ outside: [], violations: [] });
    await context.close();
  });
});
