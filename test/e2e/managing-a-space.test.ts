/**
 * The user's guide to managing a space, click by click, in a real browser against a real Knot, Postgres and
 * Docker: create a space from the Templates menu, start it and watch `Running` arrive without a
 * reload, open its terminal, see `Update Available` after the template is edited elsewhere, stop
 * and start it, edit it, and delete it with its volumes.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { busyboxJob, containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { chooseSpaceMenuItem, contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

const VOLUMES = 'volumes:\n  data_${{ .space.id }}:\n';

describe('Managing a Space, as the guide describes it', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let alice: { context: BrowserContext; page: Page };
  let aliceId: string;
  let spaceId: string;

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness(), launchBrowser()]);
    aliceId = (await createUser(h.server, h.admin.client, 'alice')).userId;
    admin = await contextAs(browser, h.server, 'admin');
    alice = await contextAs(browser, h.server, 'alice');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    // Spaces made through the UI are unknown to the harness: hand them over for the Docker cleanup.
    const left = await h?.admin.client.data<{ spaces: { id: string }[] }>(`query($u: ID) { spaces(userId: $u) { id } }`, { u: aliceId }).catch(() => null);
    for (const s of left?.spaces ?? []) h.spaceIds.add(s.id);
    await h?.dispose();
  });
  screenshotsOnFailure(() => [admin?.page, alice?.page]);

  it('lets a template manager write a template, showing a YAML mistake on its line', async () => {
    const { page } = admin;
    await open(page, '/templates');
    await page.getByText('No templates yet.').waitFor();
    await page.getByRole('link', { name: 'New template' }).first().click();
    await page.getByLabel('Name', { exact: true }).fill('Busybox');
    // A new template opens in the wizard; this one is written by hand.
    await page.getByRole('button', { name: 'YAML editor' }).click();
    await page.getByLabel('Job').fill(`image: knot-test/busybox:latest\ncommand: [sleep, '3600']\nmemory: lots\n`);
    await page.getByLabel('Volumes').fill(VOLUMES);
    await page.getByRole('button', { name: 'Create template' }).click();

    // Line 3 of the job is marked in the gutter and named under the editor; nothing was saved.
    const bad = page.locator('.yaml-field:has(#template-job) .num.bad');
    await bad.waitFor();
    expect(await bad.allTextContents()).toEqual(['3']);
    expect(await page.locator('#template-job-problems').textContent()).toMatch(/Line 3.*memory/s);
    await screenshot(page, 'template-yaml-error');
    expect(await h.admin.client.data<{ templates: unknown[] }>('{ templates { id } }')).toEqual({ templates: [] });

    await page.getByLabel('Job').fill(busyboxJob('volumes:\n  - data_${{ .space.id }}:/data\n'));
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.waitForURL('**/templates');
    await page.locator('li.template-row[data-template="Busybox"]').waitFor();
    await screenshot(page, 'templates');
  });

  it('creates a space from the Templates menu: `Create Space`, a name, `Terminal Shell` left as Bash, an additional name', async () => {
    const { page } = alice;
    await open(page, '/templates');
    await page.getByRole('button', { name: 'Actions for template Busybox' }).click();
    // alice may not manage spaces or templates: only `Create Space` is offered.
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Create Space']);
    await page.getByRole('menuitem', { name: 'Create Space', exact: true }).click();

    await page.getByRole('heading', { name: 'Create Space' }).waitFor();
    const shell = page.getByLabel('Terminal Shell');
    expect(await shell.inputValue()).toBe('bash');
    expect(await shell.locator('option:checked').textContent()).toBe('Bash');

    // A refused name is explained next to the name field, and the form stays.
    await page.getByLabel('Name', { exact: true }).fill('my test');
    await page.getByRole('button', { name: 'Create Space' }).click();
    await page.locator('#space-name-error').waitFor();
    expect(await page.locator('#space-name-error').textContent()).toMatch(/letters, digits and "-"/);

    await page.getByLabel('Name', { exact: true }).fill('mytest');
    await page.getByRole('button', { name: 'Add name' }).click();
    await page.getByLabel('Additional name 1', { exact: true }).fill('mytest-api');
    await screenshot(page, 'create-space-form');
    await page.getByRole('button', { name: 'Create Space' }).click();

    // The Spaces page loads with the new space, stopped.
    await page.waitForURL('**/spaces');
    const row = spaceRow(page, 'mytest');
    await row.waitFor();
    expect(await row.locator('[data-status]').textContent()).toMatch(/Stopped/);
    expect(await row.textContent()).toContain('mytest-api');
    expect(await row.textContent()).toContain('Busybox');
    const [space] = (await h.admin.client.data<{ spaces: { id: string; status: string; shell: string; altNames: string[] }[] }>(
      `query($u: ID) { spaces(userId: $u) { id status shell altNames } }`,
      { u: aliceId },
    )).spaces;
    expect(space).toMatchObject({ status: 'STOPPED', shell: 'bash', altNames: ['mytest-api'] });
    spaceId = space!.id;
    h.spaceIds.add(spaceId);
    expect(await h.runtime.inspectContainer(containerOf(spaceId))).toBeNull();
    await screenshot(page, 'spaces-stopped');
  });

  it('starts it from the menu: "Starting", then `Running` next to `Status` on its own, without a reload, and the row does not move', async () => {
    const { page } = alice;
    const row = spaceRow(page, 'mytest');
    const statusBox = await row.locator('[data-status]').boundingBox();
    const servicesBox = await row.locator('.services').boundingBox();
    // Record every status the row shows, and mark the document: a reload would drop the mark.
    await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; noReload: boolean };
      w.noReload = true;
      w.seen = [];
      const record = () => {
        const s = document.querySelector('li.space-row[data-space="mytest"] [data-status]')?.getAttribute('data-status');
        if (s && w.seen.at(-1) !== s) w.seen.push(s);
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });

    await chooseSpaceMenuItem(page, 'mytest', 'Start');
    await row.locator('[data-status="RUNNING"]').waitFor({ timeout: 30_000 });
    expect(await row.locator('[data-status]').textContent()).toMatch(/Running/);
    expect(await row.textContent()).toMatch(/Status\s*Running/);
    const { seen, noReload } = await page.evaluate(() => {
      const w = window as unknown as { seen: string[]; noReload: boolean };
      return { seen: w.seen, noReload: w.noReload };
    });
    expect(noReload).toBe(true);
    expect(seen).toEqual(['STOPPED', 'STARTING', 'RUNNING']);

    // The Terminal icon appears as the space reports it.
    await row.getByRole('button', { name: 'Terminal' }).waitFor();
    expect(await row.locator('[data-status]').boundingBox()).toEqual(statusBox);
    expect(await row.locator('.services').boundingBox()).toEqual(servicesBox);

    // While running, the menu offers Stop and Restart, and no Delete (the owner also shares and hands it over).
    await row.getByRole('button', { name: 'Actions for mytest' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Stop', 'Restart', 'Edit', 'Share', 'Transfer']);
    await page.keyboard.press('Escape');
    await screenshot(page, 'spaces-running');
  });

  it('opens the Terminal icon in a new window with the space\'s shell, which follows the window size', async () => {
    const { page } = alice;
    const [popup] = await Promise.all([page.waitForEvent('popup'), spaceRow(page, 'mytest').getByRole('button', { name: 'Terminal' }).click()]);
    await popup.waitForURL(`**/terminal/${spaceId}`);
    await popup.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await popup.locator('.xterm-helper-textarea').focus();
    await popup.keyboard.type('echo knot-$((6*7)); stty size\n');
    const screen = popup.locator('.xterm-rows');
    await waitFor(async () => /knot-42/.test((await screen.textContent()) ?? ''), { what: 'the echo in the terminal' });
    const before = await waitFor(() => sizeFromStty(popup), { what: 'stty to report the size' });
    await screenshot(popup, 'terminal');

    // Resize the window: the shell hears the new size (stty reports it).
    await popup.setViewportSize({ width: 620, height: 380 });
    await popup.keyboard.type('clear; stty size\n');
    const after = await waitFor(async () => {
      const size = await sizeFromStty(popup);
      return size && size !== before ? size : null;
    }, { what: 'stty to report the new size' });
    const [rows, cols] = after.split(' ').map(Number);
    expect(cols!).toBeLessThan(Number(before.split(' ')[1]));
    expect(rows!).toBeLessThan(Number(before.split(' ')[0]));
    await popup.close();
  });

  it('shows `Update Available` when the template is saved in another browser, and clears it after stop and start', async () => {
    const row = spaceRow(alice.page, 'mytest');
    expect(await row.getByText('Update Available').count()).toBe(0);

    // The admin edits the template in their own browser.
    const { page } = admin;
    await open(page, '/templates');
    await page.getByRole('button', { name: 'Actions for template Busybox' }).click();
    await page.getByRole('menuitem', { name: 'Edit', exact: true }).click();
    // The wizard can show this template, so it opens there; an environment variable needs the YAML editor.
    await page.getByRole('button', { name: 'YAML editor' }).click();
    await page.getByLabel('Job').waitFor();
    await page.getByLabel('Job').fill(busyboxJob('volumes:\n  - data_${{ .space.id }}:/data\nenvironment:\n  - GREETING=hello\n'));
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.waitForURL('**/templates');

    // alice's page, untouched, gets the badge.
    await row.getByText('Update Available').waitFor();
    await screenshot(alice.page, 'update-available');

    await chooseSpaceMenuItem(alice.page, 'mytest', 'Stop');
    await row.locator('[data-status="STOPPED"]').waitFor({ timeout: 30_000 });
    expect(await row.getByText('Update Available').count()).toBe(0);
    await chooseSpaceMenuItem(alice.page, 'mytest', 'Start');
    await row.locator('[data-status="RUNNING"]').waitFor({ timeout: 30_000 });
    expect(await row.getByText('Update Available').count()).toBe(0);
    expect(await h.exec(spaceId, ['sh', '-c', 'echo $GREETING'])).toBe('hello\n');
  });

  it('edits the name and the additional names from `Edit`', async () => {
    const { page } = alice;
    await chooseSpaceMenuItem(page, 'mytest', 'Edit');
    const dialog = page.getByRole('dialog', { name: 'Edit space' });
    await dialog.getByLabel('Additional name 1', { exact: true }).fill('mytest-web');
    await dialog.getByRole('button', { name: 'Add name' }).click();
    await dialog.getByLabel('Additional name 2', { exact: true }).fill('mytest');
    await dialog.getByRole('button', { name: 'Save' }).click();
    // The space's own name cannot also be an additional name: the dialog says so and stays.
    await dialog.getByText(/is the space's own name/).waitFor();
    await dialog.getByRole('button', { name: 'Remove additional name 2' }).click();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await waitFor(async () => (await spaceRow(page, 'mytest').textContent())?.includes('also mytest-web'), { what: 'the new additional name' });
  });

  it('deletes only a stopped space, after a confirmation that says the volumes and their data go too', async () => {
    const { page } = alice;
    const row = spaceRow(page, 'mytest');
    expect((await h.runtime.listVolumes({ 'knot.space': spaceId })).length).toBe(1);

    await chooseSpaceMenuItem(page, 'mytest', 'Stop');
    await row.locator('[data-status="STOPPED"]').waitFor({ timeout: 30_000 });
    await chooseSpaceMenuItem(page, 'mytest', 'Delete');
    const dialog = page.getByRole('dialog', { name: 'Delete space' });
    expect(await dialog.textContent()).toMatch(/delete its volumes and any data they contain/);
    await screenshot(page, 'delete-confirmation');

    // Cancel keeps it.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await row.count()).toBe(1);

    await chooseSpaceMenuItem(page, 'mytest', 'Delete');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByText('No spaces yet.').waitFor();
    expect(await h.runtime.listVolumes({ 'knot.space': spaceId })).toEqual([]);
    expect(await h.runtime.inspectContainer(containerOf(spaceId))).toBeNull();
  });
});

/** The last "rows cols" line stty printed in the terminal window. */
async function sizeFromStty(page: Page): Promise<string | null> {
  const lines = await page.locator('.xterm-rows > div').allTextContents();
  const sizes = lines.map((l) => l.trim()).filter((l) => /^\d+ \d+$/.test(l));
  return sizes.at(-1) ?? null;
}
