/**
 * A manual template in the browser: written in the template form (no job, no volumes), a space
 * from it with no `Start`, `Agent Setup` handing out the agent's environment, and the space
 * showing `Running` by itself when an agent with that environment connects, `Stopped` after it goes.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAgent, agentBundle } from '../agent/fixture.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

describe('a manual space in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let bundle: string;
  let admin: { context: BrowserContext; page: Page };
  let agent: HostAgent | undefined;

  beforeAll(async () => {
    [bundle] = await Promise.all([agentBundle(), ensureWebBuild()]);
    [h, browser] = await Promise.all([startSpacesHarness({ config: { agentTimeoutMs: 2_000 } }), launchBrowser()]);
    admin = await contextAs(browser, h.server, 'admin');
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await browser?.close();
    await h?.dispose();
  });
  screenshotsOnFailure(() => [admin?.page]);

  it('creates a manual template in the form, with nothing to run', async () => {
    const { page } = admin;
    await open(page, '/templates/new');
    await page.getByLabel('Name', { exact: true }).fill('My laptop');
    await page.getByLabel('Platform').selectOption('MANUAL');
    expect(await page.getByLabel('Job').count()).toBe(0);
    await page.getByText(/A manual space is whatever machine runs the Knot agent/).waitFor();
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.waitForURL('**/templates');
    const { templates } = await h.admin.client.data<{ templates: { name: string; platform: string; job: string; volumes: string }[] }>(
      '{ templates { name platform job volumes } }',
    );
    expect(templates).toEqual([{ name: 'My laptop', platform: 'MANUAL', job: '', volumes: '' }]);
  });

  it('runs the space while an agent with the token from `Agent Setup` is connected', async () => {
    const { page } = admin;
    await page.getByRole('button', { name: 'Actions for template My laptop' }).click();
    await page.getByRole('menuitem', { name: 'Create Space', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('laptop');
    await page.getByRole('button', { name: 'Create Space' }).click();
    await page.waitForURL('**/spaces');
    const row = spaceRow(page, 'laptop');
    await row.waitFor();
    for (const s of (await h.admin.client.data<{ spaces: { id: string }[] }>('{ spaces { id } }')).spaces) h.spaceIds.add(s.id);

    // No Start: its agent starts it.
    await row.getByRole('button', { name: 'Actions for laptop' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Edit', 'Share', 'Transfer', 'Agent Setup', 'Delete']);
    await page.getByRole('menuitem', { name: 'Agent Setup' }).click();
    const dialog = page.getByRole('dialog', { name: 'Agent Setup' });
    await dialog.getByRole('button', { name: 'Create agent token' }).click();
    const environment = (await dialog.locator('pre').textContent())!;
    expect(environment).toMatch(/^export KNOT_AGENT_TOKEN='.+'$/m);
    await screenshot(page, 'agent-setup');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();

    const env = Object.fromEntries([...environment.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(env).sort()).toEqual(['KNOT_AGENT_TOKEN', 'KNOT_SERVER', 'KNOT_SPACE_ID']);
    // The environment names Knot's public URL; this test server listens on loopback.
    agent = new HostAgent(bundle, { ...env, KNOT_SERVER: h.server.url });
    await row.locator('[data-status="RUNNING"]').waitFor({ timeout: 30_000 });
    await row.getByRole('button', { name: 'Actions for laptop' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Edit', 'Share', 'Transfer', 'Agent Setup']);
    await page.keyboard.press('Escape');

    await agent.stop();
    await row.locator('[data-status="STOPPED"]').waitFor({ timeout: 30_000 });
  });
});
