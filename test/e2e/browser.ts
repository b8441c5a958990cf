/**
 * Headless Chromium (Debian's, through playwright-core) against a real Knot server, with helpers
 * to log a browser context in and to save screenshots as test artifacts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TEST_CHROMIUM } from '../helpers/env.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

export const ARTIFACTS = fileURLToPath(new URL('./artifacts', import.meta.url));

/** `extraArgs`, e.g. `--host-resolver-rules=…` to give test servers real-looking host names. */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: TEST_CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

export const WIDE = { width: 1280, height: 800 };
export const NARROW = { width: 390, height: 844 };

/** A browser context holding the session cookie of `username` (logged in through the API). */
export async function contextAs(
  browser: Browser,
  server: { url: string; anonymous: GraphQLTestClient },
  username: string,
  password = 'correct-horse',
  viewport = WIDE,
): Promise<{ context: BrowserContext; page: Page }> {
  const session = await server.anonymous.login(username, password);
  const [name, ...value] = session.cookie!.split('=');
  const context = await browser.newContext({ viewport, baseURL: server.url });
  await context.addCookies([{ name: name!, value: value.join('='), url: server.url, httpOnly: true, sameSite: 'Lax' }]);
  const page = await context.newPage();
  return { context, page };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // A full-page shot of a scrolled page paints the sticky header mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** True when the page fits the window's width (no sideways scrolling in a narrow window). */
export function fitsWidth(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

/**
 * Navigates and waits until the app has started. Docker adding or removing a container's network
 * interface makes Chromium abort in-flight loads with ERR_NETWORK_CHANGED (even on loopback); the
 * suite starts containers all the time, so a boot cut short that way is retried, as a person
 * would reload. Anything else that keeps the app from starting still fails the test.
 */
export async function open(page: Page, path?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const aborted: string[] = [];
    const onFailed = (request: { failure(): { errorText: string } | null; url(): string }) => {
      if (request.failure()?.errorText.includes('ERR_NETWORK_CHANGED')) aborted.push(request.url());
    };
    page.on('requestfailed', onFailed);
    try {
      if (path === undefined) await page.reload();
      else await page.goto(path);
      await page.waitForSelector('body[data-knot-ready]', { timeout: 20_000 });
      // The shell started but the page's own code was cut off: the error page says so.
      if (aborted.length && (await page.locator('[data-knot-error]').count())) throw new Error(`page code aborted: ${aborted.join(', ')}`);
      return;
    } catch (err) {
      if (!aborted.length || attempt >= 3) throw err;
    } finally {
      page.off('requestfailed', onFailed);
    }
  }
}

/** The row of a space on the Spaces page. */
export const spaceRow = (page: Page, name: string) => page.locator(`li.space-row[data-space="${name}"]`);

/** Opens a space's menu and picks an item by its exact label. */
export async function chooseSpaceMenuItem(page: Page, name: string, item: string): Promise<void> {
  await spaceRow(page, name).getByRole('button', { name: `Actions for ${name}` }).click();
  await page.getByRole('menuitem', { name: item, exact: true }).click();
}

