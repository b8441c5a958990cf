/**
 * The qualities the issue asks of every page: keyboard-reachable menus with visible focus, narrow
 * windows, a failed start that says why, and a progress bar while an image is pulled.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REGISTRY } from '../helpers/env.js';
import { busyboxJob, removeImageAfterSavePull, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { NARROW, chooseSpaceMenuItem, contextAs, fitsWidth, launchBrowser, open, screenshot, spaceRow } from './browser.js';
import { pushRegistryOnlyImage } from './registry-image.js';

const VOLUMES = 'volumes:\n  data_${{ .space.id }}:\n';

describe('keyboard, narrow windows, failures and pulls in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let templateId: string;
  let image: Awaited<ReturnType<typeof pushRegistryOnlyImage>> | undefined;

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness(), launchBrowser()]);
    templateId = (await h.createTemplate({ name: 'Busybox', volumes: VOLUMES })).id;
    await h.createSpace({ templateId, name: 'keyboard' });
    admin = await contextAs(browser, h.server, 'admin');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.dispose();
    await image?.remove();
  });
  screenshotsOnFailure(() => [admin?.page]);

  it('reaches a space menu with Tab and works it with Enter, arrows, Home, End and Escape, with a visible focus ring', async () => {
    const { page } = admin;
    await open(page, '/spaces');
    await spaceRow(page, 'keyboard').waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent?.trim() ?? '');

    let reached = false;
    for (let i = 0; i < 20 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await focused()) === 'Actions for keyboard';
    }
    expect(reached).toBe(true);
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(ring).not.toBe('none');
    await screenshot(page, 'keyboard-focus');

    await page.keyboard.press('Enter');
    expect(await focused()).toBe('Start');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Edit');
    await page.keyboard.press('End');
    expect(await focused()).toBe('Delete');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Start');
    await page.keyboard.press('ArrowUp');
    expect(await focused()).toBe('Delete');
    await page.keyboard.press('Home');
    expect(await focused()).toBe('Start');
    await page.keyboard.press('Escape');
    expect(await page.getByRole('menu').count()).toBe(0);
    expect(await focused()).toBe('Actions for keyboard');

    // Space opens it too; Enter on an item runs it (Edit opens its dialog; Escape closes that).
    await page.keyboard.press(' ');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Edit space' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Edit space' }).waitFor({ state: 'hidden' });
  });

  it('fits a narrow window on every main page', async () => {
    const narrow = await contextAs(browser, h.server, 'admin', 'correct-horse', NARROW);
    try {
      const pages: [string, string][] = [
        ['/spaces', 'spaces-narrow'],
        ['/templates', 'templates-narrow'],
        [`/templates/${templateId}/create-space`, 'create-space-narrow'],
        [`/templates/${templateId}/edit`, 'template-edit-narrow'],
        ['/profile', 'profile-narrow'],
        ['/admin/users', 'users-narrow'],
        ['/admin/roles', 'roles-narrow'],
        ['/admin/variables', 'variables-narrow'],
        ['/admin/groups', 'groups-narrow'],
      ];
      for (const [path, name] of pages) {
        await open(narrow.page, path);
        await narrow.page.locator('main h1').waitFor();
        await narrow.page.waitForLoadState('networkidle');
        await screenshot(narrow.page, name);
        expect({ path, fits: await fitsWidth(narrow.page) }).toEqual({ path, fits: true });
      }
      // The menu still opens and stays inside the window.
      await open(narrow.page, '/spaces');
      await spaceRow(narrow.page, 'keyboard').getByRole('button', { name: 'Actions for keyboard' }).click();
      const menu = await narrow.page.getByRole('menu').boundingBox();
      expect(menu!.x).toBeGreaterThanOrEqual(0);
      expect(menu!.x + menu!.width).toBeLessThanOrEqual(NARROW.width);
    } finally {
      await narrow.context.close();
    }
  });

  it('shows why a start failed, in the row', async () => {
    const broken = await h.createTemplate({ name: 'Missing image', job: busyboxJob('', `${TEST_REGISTRY}/knot-test/ui-missing:latest`), volumes: VOLUMES });
    await h.createSpace({ templateId: broken.id, name: 'broken' });
    const { page } = admin;
    await open(page, '/spaces');
    await chooseSpaceMenuItem(page, 'broken', 'Start');
    const row = spaceRow(page, 'broken');
    await row.locator('[data-status="FAILED"]').waitFor({ timeout: 30_000 });
    expect(await row.getByRole('alert').textContent()).toMatch(/could not be pulled/);
    await screenshot(page, 'spaces-failed');
  });

  it('shows a progress bar while the image is pulled, gone once the space runs', async () => {
    image = await pushRegistryOnlyImage(h.runtime);
    const pulled = await h.createTemplate({ name: 'From the registry', job: busyboxJob('', image.ref), volumes: VOLUMES });
    await removeImageAfterSavePull(h, pulled.id, image.ref);
    await h.createSpace({ templateId: pulled.id, name: 'pulled' });
    const { page } = admin;
    await open(page, '/spaces');
    await spaceRow(page, 'pulled').waitFor();
    await page.evaluate(() => {
      const w = window as unknown as { progressSeen: number[] };
      w.progressSeen = [];
      new MutationObserver(() => {
        const bar = document.querySelector<HTMLProgressElement>('li.space-row[data-space="pulled"] progress');
        if (bar && w.progressSeen.at(-1) !== bar.value) w.progressSeen.push(bar.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await chooseSpaceMenuItem(page, 'pulled', 'Start');
    const row = spaceRow(page, 'pulled');
    await row.locator('[data-status="RUNNING"]').waitFor({ timeout: 60_000 });
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(100);
    expect(await row.locator('progress').count()).toBe(0);
  });
});
