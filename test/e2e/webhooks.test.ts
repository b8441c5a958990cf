/**
 * The Webhooks admin page in Chromium: an admin creates a webhook with event checkboxes, sees its
 * deliveries (status, HTTP answer) after a real event reaches a local receiver, redelivers one,
 * and reads the server's refusal of a private address at the URL field.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { startReceiver } from '../webhooks/receiver.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { contextAs, launchBrowser, open, screenshot } from './browser.js';

describe('the Webhooks page', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    await ensureWebBuild();
    receiver = await startReceiver();
    [h, browser] = await Promise.all([startSpacesHarness({ config: { webhookAllowPrivate: true } }), launchBrowser()]);
    admin = await contextAs(browser, h.server, 'admin');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.dispose();
    await receiver?.close();
  });
  screenshotsOnFailure(() => [admin?.page]);

  it('creates a webhook, shows its deliveries and redelivers one', async () => {
    const { page } = admin;
    await open(page, '/admin/webhooks');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).waitFor();
    await page.getByLabel('URL').fill(receiver.url('/ui'));
    await page.getByLabel('Secret').fill('a-secret-typed-in-the-browser');
    await page.getByRole('checkbox', { name: 'user.created' }).check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const card = page.locator(`section[data-webhook="${receiver.url('/ui')}"]`);
    await card.waitFor();
    expect(await card.getByRole('checkbox', { name: 'user.created' }).isChecked()).toBe(true);
    expect(await card.getByRole('checkbox', { name: 'space.started' }).isChecked()).toBe(false);

    await createUser(h.server, h.admin.client, 'hooked');
    await waitFor(() => receiver.on('/ui').length === 1, { what: 'the delivery' });
    await page.reload();
    await card.getByRole('button', { name: 'Show deliveries' }).click();
    const row = card.locator('tbody tr[data-delivery]');
    await row.first().waitFor();
    expect(await row.first().locator('td').nth(0).innerText()).toBe('user.created');
    expect(await row.first().locator('td').nth(1).innerText()).toBe('delivered');
    expect(await row.first().locator('td').nth(3).innerText()).toContain('HTTP 200');
    await screenshot(page, 'webhooks-page');

    await row.first().getByRole('button', { name: 'Redeliver' }).click();
    await waitFor(() => receiver.on('/ui').length === 2, { what: 'the redelivery' });
    expect(receiver.on('/ui')[1]!.json.id).toBe(receiver.on('/ui')[0]!.json.id);
  });

  it('shows the refusal of a private address at the URL field, and saves nothing', async () => {
    const { page } = admin;
    h.server.app.services.config.webhookAllowPrivate = false;
    try {
      await open(page, '/admin/webhooks');
      await page.getByLabel('URL').fill('http://169.254.169.254/latest');
      await page.getByLabel('Secret').fill('a-secret-typed-in-the-browser');
      await page.getByRole('region', { name: 'New webhook' }).getByRole('checkbox', { name: 'space.started' }).check();
      await page.getByRole('button', { name: 'Create webhook' }).click();
      await page.getByText(/does not send webhooks to 169\.254\.169\.254: it is a link-local address/).waitFor();
      const list = await h.admin.client.data<{ webhooks: { url: string }[] }>(`{ webhooks { url } }`);
      expect(list.webhooks.map((w) => w.url)).toEqual([receiver.url('/ui')]);
    } finally {
      h.server.app.services.config.webhookAllowPrivate = true;
    }
  });
});
