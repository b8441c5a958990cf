/**
 * The web terminal survives the network: with the connection to Knot cut while a command runs,
 * the page says it is reconnecting, reattaches by itself once the network is back, shows what the
 * shell printed meanwhile and goes on in the same shell; a refresh reattaches too; the session
 * list ends it.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkCut } from '../helpers/network-cut.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { contextAs, launchBrowser, screenshot } from './browser.js';

describe('a terminal across a network drop and a refresh', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let network: NetworkCut;
  let page: Page;
  let context: BrowserContext;
  let spaceId: string;

  const screenText = async () => (await page.locator('.xterm-rows').textContent()) ?? '';
  const waitForScreen = (pattern: RegExp, what: string) => waitFor(async () => pattern.test(await screenText()), { what, timeout: 30_000 });
  const status = () => page.getByRole('status');
  const type = async (text: string) => {
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.type(text);
  };

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness(), launchBrowser()]);
    const templateId = (await h.createTemplate({ name: 'busybox' })).id;
    spaceId = (await h.createSpace({ templateId, name: 'durable', shell: 'sh' })).id;
    await h.startAndWait(spaceId);
    network = await NetworkCut.before(h.server.url);
    ({ context, page } = await contextAs(browser, { url: network.url, anonymous: h.server.anonymous }, 'admin'));
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await network?.close();
    await h?.dispose();
  });
  screenshotsOnFailure(() => [page]);

  it('reattaches by itself after the connection is cut and shows what was printed while away', async () => {
    await page.goto(`/terminal/${spaceId}`);
    await status().filter({ hasText: 'Connected' }).waitFor();
    await type('export KEPT=kept-$((40 + 2)); echo ready-$((1 + 1))\n');
    await waitForScreen(/ready-2/, 'the first command');

    const marker = `printed-${Date.now()}`;
    await type(`sleep 2; echo "away-$((3 * 3))-done"; touch /tmp/${marker}\n`);
    network.cut();
    await status().filter({ hasText: 'Reconnecting' }).waitFor();
    // The shell printed while the page could not hear it.
    await waitFor(async () => (await h.exec(spaceId, ['ls', '/tmp'])).includes(marker), { what: 'the command to finish while away' });
    expect(await screenText()).not.toMatch(/away-9-done/);
    network.heal();

    await status().filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
    await waitForScreen(/away-9-done/, 'the output printed while away');
    await type('echo "still $KEPT"\n');
    await waitForScreen(/still kept-42/, 'the same shell after the reconnect');
    // Printed once: the reattach asked only for what the page had missed.
    expect((await screenText()).match(/away-9-done/g)).toHaveLength(1);
    await screenshot(page, 'terminal-reattached');
  });

  it('reattaches to the same shell after a refresh, with its output replayed', async () => {
    await page.reload();
    await status().filter({ hasText: 'Connected' }).waitFor();
    await waitForScreen(/still kept-42/, 'the replayed output');
    await type('echo "again $KEPT"\n');
    await waitForScreen(/again kept-42/, 'the same shell after the refresh');
  });

  it('lists the session and ends it from the list', async () => {
    await page.getByRole('button', { name: 'Sessions' }).click();
    const row = page.getByTestId('terminal-session');
    await row.filter({ hasText: 'this tab' }).waitFor();
    expect(await row.count()).toBe(1);
    await row.getByRole('button', { name: 'End' }).click();
    await waitForScreen(/The terminal session was ended/, 'the ended session');
    await page.getByText('No terminal sessions.').waitFor();
    const { space } = await h.admin.client.data<{ space: { terminalSessions: unknown[] } }>(`query($id: ID!) { space(id: $id) { terminalSessions { id } } }`, { id: spaceId });
    expect(space.terminalSessions).toEqual([]);
  });
});
