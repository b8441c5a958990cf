/**
 * The preamble most Chromium tests share: the built UI (and, for spaces with the agent, its
 * bundle), a spaces harness, a browser and a context signed in as the harness's admin.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { agentBundle } from '../agent/fixture.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { contextAs, launchBrowser } from './browser.js';

export interface AdminInBrowser {
  h: SpacesHarness;
  browser: Browser;
  admin: { context: BrowserContext; page: Page };
}

export async function startAdminInBrowser(
  options: { harness?: Parameters<typeof startSpacesHarness>[0]; agent?: boolean } = {},
): Promise<AdminInBrowser> {
  await Promise.all([ensureWebBuild(), options.agent ? agentBundle() : undefined]);
  const [harness, launched] = await Promise.allSettled([startSpacesHarness(options.harness), launchBrowser()]);
  const h = harness.status === 'fulfilled' ? harness.value : undefined;
  const browser = launched.status === 'fulfilled' ? launched.value : undefined;
  try {
    if (!h || !browser) throw harness.status === 'rejected' ? harness.reason : (launched as PromiseRejectedResult).reason;
    return { h, browser, admin: await contextAs(browser, h.server, 'admin') };
  } catch (err) {
    // The caller's afterAll never sees what was started here: nothing may be left behind.
    await stopAdminInBrowser({ h, browser });
    throw err;
  }
}

/** For afterAll: whatever started, even when beforeAll failed halfway. */
export async function stopAdminInBrowser(started: { h?: SpacesHarness | undefined; browser?: Browser | undefined }): Promise<void> {
  await started.browser?.close();
  await started.h?.dispose();
}
