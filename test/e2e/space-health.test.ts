/**
 * The health dot on the Spaces page, live: a space whose health check passes shows "Healthy"; once
 * its web server stops answering it shows "Unhealthy" with the check's reason, without a reload.
 * The template form shows the job's check and saves auto-restart.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentJob } from '../agent/fixture.js';
import type { SpacesHarness } from '../spaces/fixture.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { chooseSpaceMenuItem, open, screenshot, spaceRow } from './browser.js';
import { startAdminInBrowser, stopAdminInBrowser } from './admin-in-browser.js';

const JOB = `${agentJob()}\nhealthcheck:\n  http: { port: 8080, path: / }\n  interval: 1s\n  retries: 1`;

describe('space health in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let spaceId: string;
  let templateId: string;

  beforeAll(async () => {
    ({ h, browser, admin } = await startAdminInBrowser({ agent: true, harness: { host: '0.0.0.0' } }));
    templateId = (await h.createTemplate({ name: 'Checked', job: JOB })).id;
    spaceId = (await h.createSpace({ templateId, name: 'checked' })).id;
  }, 180_000);

  afterAll(() => stopAdminInBrowser({ h, browser }));
  screenshotsOnFailure(() => [admin?.page]);

  it('shows Healthy, then Unhealthy with the reason as the service stops answering', async () => {
    const { page } = admin;
    await open(page, '/spaces');
    await chooseSpaceMenuItem(page, 'checked', 'Start');
    const row = spaceRow(page, 'checked');
    await row.locator('[data-health="HEALTHY"]').waitFor({ timeout: 60_000 });
    expect(await row.locator('[data-health]').getAttribute('title')).toBe('Healthy: the health check passes');

    await h.exec(spaceId, ['sh', '-c', 'kill $(cat /tmp/web.pid)']);
    const dot = row.locator('[data-health="UNHEALTHY"]');
    await dot.waitFor({ timeout: 30_000 });
    expect(await dot.getAttribute('title')).toBe('Unhealthy: GET http://127.0.0.1:8080/ failed: nothing listens on the port');
    expect(await row.locator('[data-health-reason]').textContent()).toBe('Unhealthy: GET http://127.0.0.1:8080/ failed: nothing listens on the port');
    await screenshot(page, 'spaces-unhealthy');
  });

  it("shows the job's health check in the template form and saves auto-restart", async () => {
    const { page } = admin;
    await open(page, `/templates/${templateId}/edit`);
    expect(await page.locator('[data-healthcheck]').textContent()).toBe('healthcheck:\n  http: { port: 8080, path: / }\n  interval: 1s\n  retries: 1');
    await page.getByRole('checkbox', { name: /Auto-restart/ }).check();
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.waitForURL(/\/templates$/);
    const saved = await h.admin.client.data<{ template: { autoRestart: boolean } }>(`query($id: ID!) { template(id: $id) { autoRestart } }`, { id: templateId });
    expect(saved.template.autoRestart).toBe(true);
  });
});
