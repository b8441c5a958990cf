/**
 * The Webhooks admin page in Chromium: an admin creates a webhook with event checkboxes, sees its
 * deliveries (status, HTTP answer) after a real event reaches a local receiver, redelivers one,
 * reads the server's refusal of a private address at the URL field, and edits a webhook's URL,
 * events and secret (the next delivery goes to the new URL, signed as the form said).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { startReceiver, verify } from '../webhooks/receiver.js';
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
    expect(await card.getByRole('list', { name: 'Events' }).getByRole('listitem').allInnerTexts()).toEqual(['user.created']);

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

  it('edits a webhook: refusals at their fields change nothing; a new URL and events take the next delivery, signed with the kept secret', async () => {
    const { page } = admin;
    const oldUrl = receiver.url('/ui');
    const newUrl = receiver.url('/moved');
    const sentToOld = receiver.on('/ui').length;
    await open(page, '/admin/webhooks');
    const card = page.locator(`section[data-webhook="${oldUrl}"]`);
    await card.getByRole('button', { name: 'Edit' }).click();
    const url = card.getByLabel('URL', { exact: true });
    const secret = card.getByLabel('New secret', { exact: true });
    // The secret is write-only: the form starts empty, the URL and events as they are.
    expect(await url.inputValue()).toBe(oldUrl);
    expect(await secret.inputValue()).toBe('');
    expect(await card.getByRole('checkbox', { name: 'user.created' }).isChecked()).toBe(true);

    h.server.app.services.config.webhookAllowPrivate = false;
    try {
      await url.fill('http://169.254.169.254/latest');
      await card.getByRole('button', { name: 'Save changes' }).click();
      await card.locator('.field-error').getByText(/does not send webhooks to 169\.254\.169\.254: it is a link-local address/).waitFor();
    } finally {
      h.server.app.services.config.webhookAllowPrivate = true;
    }
    await url.fill(newUrl);
    await secret.fill('too short');
    await card.getByRole('button', { name: 'Save changes' }).click();
    await card.locator('.field-error').getByText(/at least 16 characters/).waitFor();
    const unchanged = await h.admin.client.data<{ webhooks: { url: string; events: string[] }[] }>(`{ webhooks { url events } }`);
    expect(unchanged.webhooks).toEqual([{ url: oldUrl, events: ['user.created'] }]);

    // An empty secret field keeps the secret; the new URL and events are saved.
    await secret.fill('');
    await card.getByRole('checkbox', { name: 'user.created' }).uncheck();
    await card.getByRole('checkbox', { name: 'user.deleted' }).check();
    await card.getByRole('button', { name: 'Save changes' }).click();
    const moved = page.locator(`section[data-webhook="${newUrl}"]`);
    await moved.getByRole('list', { name: 'Events' }).waitFor();
    expect(await moved.getByRole('list', { name: 'Events' }).getByRole('listitem').allInnerTexts()).toEqual(['user.deleted']);
    await screenshot(page, 'webhooks-edited');

    // user.created is no longer asked for (no delivery is even written); user.deleted goes to the new URL.
    const { userId } = await createUser(h.server, h.admin.client, 'edited-hook');
    await h.admin.client.data(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: userId });
    await waitFor(() => receiver.on('/moved').length === 1, { what: 'the delivery to the new URL' });
    const delivered = receiver.on('/moved')[0]!;
    expect(delivered.json.event).toBe('user.deleted');
    expect(verify('a-secret-typed-in-the-browser', delivered.headers, delivered.body)).toBe(true);
    expect(receiver.on('/ui')).toHaveLength(sentToOld);

    // A new secret signs the next delivery.
    await moved.getByRole('button', { name: 'Edit' }).click();
    await moved.getByLabel('New secret', { exact: true }).fill('a-brand-new-secret-from-the-form');
    await moved.getByRole('button', { name: 'Save changes' }).click();
    await moved.getByRole('list', { name: 'Events' }).waitFor();
    const again = await createUser(h.server, h.admin.client, 'resigned-hook');
    await h.admin.client.data(`mutation($id: ID!) { deleteUser(id: $id) }`, { id: again.userId });
    await waitFor(() => receiver.on('/moved').length === 2, { what: 'the delivery signed with the new secret' });
    const resigned = receiver.on('/moved')[1]!;
    expect(verify('a-brand-new-secret-from-the-form', resigned.headers, resigned.body)).toBe(true);
    expect(verify('a-secret-typed-in-the-browser', resigned.headers, resigned.body)).toBe(false);
  });
});
