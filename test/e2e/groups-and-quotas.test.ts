/**
 * Groups and quotas in the browser: an admin makes a group with limits, puts a user and a
 * template in it and sizes the template; the user sees their usage meter follow their spaces
 * live, and the Create Space form says they are at a limit before, and after, submitting.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, START_SPACE, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

describe('groups, template sizes and the usage meter in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let carol: { context: BrowserContext; page: Page };
  let carolId: string;
  let templateId: string;
  let groupId: string;

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness(), launchBrowser()]);
    carolId = (await createUser(h.server, h.admin.client, 'carol')).userId;
    templateId = (await h.createTemplate({ name: 'Sized' })).id;
    admin = await contextAs(browser, h.server, 'admin');
    carol = await contextAs(browser, h.server, 'carol');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.dispose();
  });
  screenshotsOnFailure(() => [admin?.page, carol?.page]);

  const meterLine = (page: Page, label: string) => page.locator(`[data-quota="${label}"]`);

  it('lets an admin create a group with limits, add a member and open a template to it', async () => {
    const { page } = admin;
    await open(page, '/admin/groups');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).waitFor();
    await page.getByLabel('Name').fill('team');
    await page.getByLabel('Max spaces').fill('1');
    await page.getByLabel('Compute units').fill('2');
    await page.getByRole('button', { name: 'Create group' }).click();
    const row = page.locator('tr[data-group="team"]');
    await row.waitFor();
    expect(await row.locator('td').allInnerTexts()).toEqual(['team', '1', '2', 'unlimited']);

    await row.getByRole('link', { name: 'team' }).click();
    await page.getByRole('heading', { name: 'Members' }).waitFor();
    groupId = page.url().split('/').pop()!;
    await page.getByLabel('Add a member').selectOption({ label: 'carol' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.locator('li[data-member="carol"]').waitFor();
    await page.getByRole('checkbox', { name: /^Sized/ }).check();
    await page.getByText('Sized is open to the group.').waitFor();
    await screenshot(page, 'group-page');

    const read = await h.admin.client.data<{ template: { groupIds: string[] }; users: { username: string; groupIds: string[] }[] }>(
      `query($id: ID!) { template(id: $id) { groupIds } users { username groupIds } }`,
      { id: templateId },
    );
    expect(read.template.groupIds).toEqual([groupId]);
    expect(read.users.find((u) => u.username === 'carol')!.groupIds).toEqual([groupId]);
  });

  it('shows the group on the user form and the template form, and sizes the template', async () => {
    const { page } = admin;
    await open(page, '/admin/users');
    await page.locator('tr[data-user="carol"]').getByText('team').waitFor();
    await page.getByRole('button', { name: 'Actions for carol' }).click();
    await page.getByRole('menuitem', { name: 'Edit groups' }).click();
    const dialog = page.getByRole('dialog', { name: 'Groups of carol' });
    expect(await dialog.getByRole('checkbox', { name: 'team' }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await open(page, `/templates/${templateId}/edit`);
    expect(await page.getByRole('group', { name: 'Open to groups' }).getByRole('checkbox', { name: 'team' }).isChecked()).toBe(true);
    await page.getByLabel('Compute units').fill('2');
    await page.getByLabel('Storage units').fill('3');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.waitForURL(/\/templates$/);
    const listed = page.locator('li[data-template="Sized"]');
    await listed.getByText('2 compute').waitFor();
    await listed.getByText('3 storage').waitFor();
    await listed.getByText('Only team').waitFor();
  });

  it('refuses to delete a group a template is open to, and says why', async () => {
    const { page } = admin;
    await open(page, `/admin/groups/${groupId}`);
    await page.getByRole('button', { name: 'Delete group' }).click();
    await page.getByRole('dialog', { name: 'Delete group' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alert').filter({ hasText: 'The group "team" is used by the template "Sized"' }).waitFor();
    const groups = await h.admin.client.data<{ groups: { id: string }[] }>(`{ groups { id } }`);
    expect(groups.groups.map((g) => g.id)).toContain(groupId);
  });

  it('shows the member a live usage meter and says at the Create Space form when a limit is reached', async () => {
    const { page } = carol;
    await open(page, '/spaces');
    await expect.poll(() => meterLine(page, 'Spaces').innerText()).toMatch(/0 of 1/);
    expect(await meterLine(page, 'Compute units').innerText()).toMatch(/0 of 2/);
    expect(await meterLine(page, 'Storage units').innerText()).toMatch(/^Storage units\s*0 \(unlimited\)$/);

    await open(page, `/templates/${templateId}/create-space`);
    await page.getByText('From the template').waitFor();
    expect(await page.locator('[data-quota-notice]').count()).toBe(0);
    await page.getByLabel('Name', { exact: true }).fill('first');
    await page.getByRole('button', { name: 'Create Space' }).click();
    await page.waitForURL(/\/spaces$/);
    await spaceRow(page, 'first').waitFor();
    await expect.poll(() => meterLine(page, 'Spaces').innerText()).toMatch(/1 of 1/);
    const first = (await h.admin.client.data<{ spaces: { id: string; name: string }[] }>(`query($u: ID) { spaces(userId: $u) { id name } }`, { u: carolId })).spaces;
    for (const s of first) h.spaceIds.add(s.id);

    // Started by someone else: the meter follows on the subscription, with no reload.
    await h.admin.client.data(START_SPACE, { id: first[0]!.id });
    await expect.poll(() => meterLine(page, 'Compute units').innerText(), { timeout: 30_000 }).toMatch(/2 of 2/);
    await screenshot(page, 'usage-meter');
    // Compute units count from STARTING; the next page load waits until Docker has attached the
    // container's network (which aborts Chromium's requests in flight with ERR_NETWORK_CHANGED).
    await waitFor(async () => (await h.space(first[0]!.id)).status === 'RUNNING', { what: 'the space to run' });

    await open(page, `/templates/${templateId}/create-space`);
    await page.locator('[data-quota-notice]').filter({ hasText: 'You are at a limit: 1 of 1 space in use' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('second');
    await page.getByRole('button', { name: 'Create Space' }).click();
    await page.getByRole('alert').filter({ hasText: '1 of 1 space in use; delete one before creating another.' }).waitFor();
    await screenshot(page, 'create-space-at-limit');
    const after = await h.admin.client.data<{ spaces: { name: string }[] }>(`query($u: ID) { spaces(userId: $u) { name } }`, { u: carolId });
    expect(after.spaces.map((s) => s.name)).toEqual(['first']);
  });
});
