/**
 * A fresh Knot offers its starter templates as cards: the admin adds the Linux shell from the empty
 * Spaces page, sees its image is there on the Templates page, and a space made from it runs.
 * The starters run local stand-ins (KNOT_STARTER_IMAGES), as in test/templates-api/starters.test.ts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { chooseSpaceMenuItem, contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

const STAND_INS = {
  shell: BUSYBOX_IMAGE,
  'code-server': 'knot-test/starter-code-server:latest',
  desktop: 'knot-test/starter-desktop:latest',
};

describe('starter cards in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness({ config: { starterImages: STAND_INS } }), launchBrowser()]);
    admin = await contextAs(browser, h.server, 'admin');
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    // Spaces made through the UI are unknown to the harness: hand them over for the Docker cleanup.
    const left = await h?.admin.client.data<{ spaces: { id: string }[] }>('{ spaces { id } }').catch(() => null);
    for (const s of left?.spaces ?? []) h.spaceIds.add(s.id);
    await h?.dispose();
  });
  screenshotsOnFailure(() => [admin?.page]);

  it('offers the starters on the empty Spaces page; the Linux shell is added, its image shown present, and a space from it runs', async () => {
    const { page } = admin;
    await open(page, '/spaces');
    await page.getByText('No spaces yet.').waitFor();
    const cards = page.getByRole('region', { name: 'Starter templates' });
    await cards.locator('li[data-starter="shell"]').waitFor();
    expect(await cards.locator('li[data-starter]').evaluateAll((els) => els.map((el) => el.getAttribute('data-starter')))).toEqual([
      'shell',
      'code-server',
      'desktop',
      'manual',
    ]);
    const shellCard = cards.locator('li[data-starter="shell"]');
    expect(await shellCard.locator('h3').textContent()).toBe('Linux shell');
    expect(await shellCard.locator('.gives li').count()).toBeGreaterThan(0);
    await screenshot(page, 'starter-cards');

    await shellCard.getByRole('button', { name: 'Add Linux shell' }).click();
    await page.waitForURL('**/templates');
    const row = page.locator('li.template-row[data-template="Linux shell"]');
    await row.waitFor();
    // The stand-in is on the engine: once any pull on save is over, the row says the image is present.
    await row.locator('[data-image-pull="present"]').waitFor({ timeout: 60_000 });
    expect(await row.getByRole('button', { name: 'Pull now' }).count()).toBe(0);
    await screenshot(page, 'templates-with-starter');

    await page.getByRole('button', { name: 'Actions for template Linux shell' }).click();
    await page.getByRole('menuitem', { name: 'Create Space', exact: true }).click();
    await page.getByRole('heading', { name: 'Create Space' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('shell-1');
    await page.getByRole('button', { name: 'Create Space' }).click();
    await page.waitForURL('**/spaces');
    await spaceRow(page, 'shell-1').waitFor();
    const { spaces } = await h.admin.client.data<{ spaces: { id: string }[] }>('{ spaces { id } }');
    for (const s of spaces) h.spaceIds.add(s.id);

    await chooseSpaceMenuItem(page, 'shell-1', 'Start');
    await spaceRow(page, 'shell-1').locator('[data-status="RUNNING"]').waitFor({ timeout: 60_000 });
  });
});
