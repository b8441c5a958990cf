/**
 * Sharing and handing over a space in Chromium: the owner shares from the Share dialog, the other
 * user's list shows the space marked with its owner (live) and offers only what they may do,
 * removing them takes it from their list at once; the Transfer dialog refuses a running space and
 * says why, then hands a stopped one over.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { chooseSpaceMenuItem, contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

type User = Awaited<ReturnType<typeof createUser>>;

describe('sharing and handing over a space in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let alice: User;
  let carol: User;
  let spaceId: string;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];

  async function pageOf(username: string): Promise<Page> {
    const { context, page } = await contextAs(browser, h.server, username);
    contexts.push(context);
    pages.push(page);
    await open(page, '/spaces');
    return page;
  }

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness(), launchBrowser()]);
    alice = await createUser(h.server, h.admin.client, 'alice');
    await createUser(h.server, h.admin.client, 'bob');
    carol = await createUser(h.server, h.admin.client, 'carol');
    const template = await h.createTemplate({ name: 'Busybox' });
    spaceId = (await h.createSpace({ templateId: template.id, name: 'pair' }, alice.client)).id;
  }, 180_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await h?.dispose();
  });
  screenshotsOnFailure(() => pages);

  it('shares from the Share dialog; the other user sees it marked with its owner, live, and loses it when removed', async () => {
    const owner = await pageOf('alice');
    const bob = await pageOf('bob');
    await bob.getByText('No spaces yet.').waitFor();

    await chooseSpaceMenuItem(owner, 'pair', 'Share');
    const dialog = owner.getByRole('dialog', { name: 'Share space' });
    await dialog.getByRole('list', { name: 'Who has access' }).getByText('Owner').waitFor();
    await dialog.getByPlaceholder('Search by username').fill('bo');
    await dialog.getByRole('button', { name: 'Share with bob' }).click();
    await dialog.getByRole('list', { name: 'Who has access' }).locator('[data-user="bob"]').waitFor();
    // Someone already sharing it is not offered again.
    expect(await dialog.getByRole('button', { name: 'Share with bob' }).count()).toBe(0);
    await screenshot(owner, 'share-dialog');

    // Bob's list shows it without a reload, marked with its owner; he may start it, not edit or delete it.
    const row = spaceRow(bob, 'pair');
    await row.locator('[data-shared-by="alice"]').waitFor();
    await row.getByRole('button', { name: 'Actions for pair' }).click();
    expect(await bob.getByRole('menuitem').allTextContents()).toEqual(['Start']);
    await bob.keyboard.press('Escape');
    await screenshot(bob, 'shared-space-in-list');

    await dialog.getByRole('button', { name: 'Remove bob' }).click();
    await row.waitFor({ state: 'detached' });
    expect(await dialog.getByRole('list', { name: 'Who has access' }).locator('[data-user="bob"]').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Done' }).click();
  });

  it('keeps Transfer disabled with the reason while the space runs, then hands the stopped space over', async () => {
    await h.startAndWait(spaceId, alice.client);
    const owner = await pageOf('alice');
    await spaceRow(owner, 'pair').locator('[data-status="RUNNING"]').waitFor();
    await chooseSpaceMenuItem(owner, 'pair', 'Transfer');
    const dialog = owner.getByRole('dialog', { name: 'Transfer space' });
    await dialog.getByText('stop it first').waitFor();
    expect(await dialog.getByRole('button', { name: 'Transfer', exact: true }).isDisabled()).toBe(true);
    await screenshot(owner, 'transfer-dialog-running');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await h.stopAndWait(spaceId, alice.client);
    await spaceRow(owner, 'pair').locator('[data-status="STOPPED"]').waitFor();
    await chooseSpaceMenuItem(owner, 'pair', 'Transfer');
    await dialog.getByPlaceholder('Search by username').fill('car');
    await dialog.getByLabel('carol').check();
    await dialog.getByRole('button', { name: 'Transfer', exact: true }).click();
    // It leaves alice's list at once and is carol's now.
    await spaceRow(owner, 'pair').waitFor({ state: 'detached' });
    const theirs = await carol.client.data<{ spaces: { name: string; owner: { username: string } }[] }>(`{ spaces { name owner { username } } }`);
    expect(theirs.spaces).toEqual([{ name: 'pair', owner: { username: 'carol' } }]);
  });
});
