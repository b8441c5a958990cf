/**
 * A template with no agent lines, in an image with no Node.js (busybox only): Knot brings the
 * agent in, and the Spaces page shows the terminal, the HTTP port and SSH Info as for any space.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainJob } from '../agent/fixture.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import type { SpacesHarness } from '../spaces/fixture.js';
import { chooseSpaceMenuItem, open, screenshot, spaceRow } from './browser.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { startAdminInBrowser, stopAdminInBrowser } from './admin-in-browser.js';

describe('a space from a plain image, without a line about the agent', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let spaceId: string;

  beforeAll(async () => {
    ({ h, browser, admin } = await startAdminInBrowser({ agent: true, harness: { host: '0.0.0.0' } }));
    const template = await h.createTemplate({ name: 'Plain busybox', job: plainJob(BUSYBOX_IMAGE), withSSH: true });
    spaceId = (await h.createSpace({ templateId: template.id, name: 'plain' })).id;
  }, 180_000);

  afterAll(() => stopAdminInBrowser({ h, browser }));
  screenshotsOnFailure(() => [admin?.page]);

  const icons = () => spaceRow(admin.page, 'plain').getByRole('group', { name: 'Open plain' });

  it('shows the terminal and the HTTP port, and the port opens the page served in the space', async () => {
    const { page } = admin;
    await open(page, '/spaces');
    await chooseSpaceMenuItem(page, 'plain', 'Start');
    await spaceRow(page, 'plain').locator('[data-status="RUNNING"]').waitFor({ timeout: 60_000 });
    await icons().getByRole('button', { name: 'Ports', exact: true }).waitFor({ timeout: 30_000 });
    const labels = await icons().locator('[aria-label]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(labels).toEqual(['Terminal', 'Ports']);
    await screenshot(page, 'plain-image-icons');

    await icons().getByRole('button', { name: 'Ports', exact: true }).click();
    const web = page.getByRole('link', { name: /web 8080/ });
    const [tab] = await Promise.all([page.waitForEvent('popup'), web.click()]);
    await tab.waitForLoadState();
    expect(await tab.textContent('body')).toContain('hello from a plain image');
    await tab.close();
    await page.keyboard.press('Escape');

    const [terminal] = await Promise.all([page.waitForEvent('popup'), icons().getByRole('button', { name: 'Terminal', exact: true }).click()]);
    await terminal.waitForURL(`**/terminal/${spaceId}`);
    await terminal.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
    await terminal.locator('.xterm-helper-textarea').focus();
    await terminal.keyboard.type('echo plain-$((6*7))\n');
    const screen = terminal.locator('.xterm-rows');
    await waitFor(async () => /plain-42/.test((await screen.textContent()) ?? ''), { what: 'the echo in the terminal' });
    await terminal.close();
  });

  it('offers SSH Info in the menu', async () => {
    const { page } = admin;
    await chooseSpaceMenuItem(page, 'plain', 'SSH Info');
    const dialog = page.getByRole('dialog', { name: 'SSH Info' });
    expect(await dialog.locator('.command code').first().textContent()).toBe('ssh -o ProxyCommand="knot forward ssh %n" plain');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
  });
});
