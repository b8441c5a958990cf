/**
 * A fresh Knot offers its starter templates as cards: the admin adds the Linux shell from the empty
 * Spaces page, sees its image is there on the Templates page, and a space made from it runs.
 * The starters run local stand-ins (KNOT_STARTER_IMAGES), as in test/templates-api/starters.test.ts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { BUSYBOX_IMAGE, TEST_REGISTRY } from '../helpers/env.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { deleteFromRegistry } from './registry-image.js';
import { chooseSpaceMenuItem, contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

const run = promisify(execFile);

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

  it('shows a failed pull with its reason and "Pull now", which pulls it once the image exists', async () => {
    const { page } = admin;
    // Not in the local registry yet: the pull on save fails.
    const repository = `knot-test/ui-pull-now-${randomBytes(4).toString('hex')}`;
    const ref = `${TEST_REGISTRY}/${repository}:latest`;
    try {
      await h.createTemplate({ name: 'Pull me', job: `image: ${ref}\ncommand: [sleep, '3600']\n` });
      await open(page, '/templates');
      const row = page.locator('li.template-row[data-template="Pull me"]');
      await row.locator('[data-image-pull="error"]').waitFor({ timeout: 60_000 });
      expect(await row.textContent()).toMatch(/Pull failed/);
      await screenshot(page, 'template-pull-failed');

      await run('docker', ['tag', BUSYBOX_IMAGE, ref]);
      await run('docker', ['push', ref]);
      await h.runtime.removeImage(ref);
      await row.getByRole('button', { name: 'Pull now' }).click();
      // Followed live, without a reload: the row ends on "Image present" and the button is gone.
      await row.locator('[data-image-pull="present"]').waitFor({ timeout: 60_000 });
      expect(await row.getByRole('button', { name: 'Pull now' }).count()).toBe(0);
      expect(await h.runtime.hasImage(ref)).toBe(true);
    } finally {
      await h.runtime.removeImage(ref).catch(() => {});
      await deleteFromRegistry(repository);
    }
  });
});

