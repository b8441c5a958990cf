/**
 * Automatic stops in the browser: a running space with an idle timeout shows the countdown with
 * its reason (emphasised once the warning went out), Keep running moves the stop later, and after
 * Knot stops it the row says why. The template form edits the schedule and the periods, and shows
 * the server's refusal of a window that ends before it starts.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpacesHarness } from '../spaces/fixture.js';
import { waitFor } from '../helpers/wait.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { open, screenshot, spaceRow } from './browser.js';
import { startAdminInBrowser, stopAdminInBrowser } from './admin-in-browser.js';

// Long enough that a loaded machine opens the page and clicks before the stop; the warning
// period is longer than it, so the warning is out as soon as the space runs.
const IDLE_SECONDS = 45;

describe('automatic stops in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let templateId: string;

  beforeAll(async () => {
    ({ h, browser, admin } = await startAdminInBrowser({ harness: { host: '0.0.0.0', config: { autoStopWarningSeconds: 600 } } }));
    templateId = (await h.createTemplate({ name: 'Idle stops', idleTimeoutSeconds: IDLE_SECONDS })).id;
  }, 180_000);

  afterAll(() => stopAdminInBrowser({ h, browser }));
  screenshotsOnFailure(() => [admin?.page]);

  it('counts down with the reason, Keep running moves the stop later, and the stopped row says why', async () => {
    const { page } = admin;
    const space = await h.createSpace({ templateId, name: 'idler' });
    await h.startAndWait(space.id);
    await open(page, '/spaces');
    const row = spaceRow(page, 'idler');
    const notice = row.locator('[data-auto-stop="IDLE"]');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.locator('span').textContent()).toMatch(/^Stops in \d+ s — idle$/);
    await row.locator('[data-auto-stop].warning').waitFor({ timeout: 30_000 });
    await screenshot(page, 'spaces-auto-stop-countdown');

    const before = new Date((await notice.getAttribute('data-auto-stop-at'))!).getTime();
    // The idle period restarts from the click, so the new time is later by however long passed.
    await waitFor(() => Date.now() > before - IDLE_SECONDS * 1000 + 1_000, { what: 'a second after the planned stop was computed' });
    await row.getByRole('button', { name: 'Keep idler running' }).click();
    await waitFor(async () => new Date((await notice.getAttribute('data-auto-stop-at'))!).getTime() > before, {
      timeout: 20_000,
      what: 'the planned stop to move later on the page',
    });

    const why = row.locator('[data-stopped-reason="IDLE"]');
    await why.waitFor({ timeout: (IDLE_SECONDS + 60) * 1000 });
    expect(await why.textContent()).toBe('Stopped by Knot: nobody used it for the template’s idle timeout.');
    expect(await row.locator('[data-auto-stop]').count()).toBe(0);
    await screenshot(page, 'spaces-stopped-by-knot');
  }, 240_000);

  it('edits schedule windows and periods in the template form, showing the server’s refusal', async () => {
    const { page } = admin;
    await open(page, `/templates/${templateId}/edit`);
    expect(await page.locator('#template-idle-timeout').inputValue()).toBe(String(IDLE_SECONDS));
    expect(await page.getByLabel('Unit of the idle timeout').inputValue()).toBe('seconds');

    await page.getByRole('button', { name: 'Add schedule window' }).click();
    await page.getByLabel('From, window 1').fill('18:00');
    await page.getByLabel('To, window 1').fill('08:00');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByRole('alert').filter({ hasText: 'Schedule window 1: "from" (18:00) must be before "to" (08:00)' }).waitFor();
    expect(page.url()).toMatch(/\/edit$/);

    await page.getByLabel('To, window 1').fill('23:30');
    await page.getByLabel('saturday in window 1').check();
    await page.locator('#template-max-uptime').fill('90');
    await page.locator('#template-idle-timeout').fill('');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.waitForURL(/\/templates$/);
    const saved = await h.admin.client.data<{ template: { schedule: unknown[]; maxUptimeSeconds: number | null; idleTimeoutSeconds: number | null } }>(
      `query($id: ID!) { template(id: $id) { schedule { days from to } maxUptimeSeconds idleTimeoutSeconds } }`,
      { id: templateId },
    );
    expect(saved.template).toEqual({
      schedule: [{ days: ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'], from: '18:00', to: '23:30' }],
      maxUptimeSeconds: 90 * 60,
      idleTimeoutSeconds: null,
    });
  }, 120_000);
});
