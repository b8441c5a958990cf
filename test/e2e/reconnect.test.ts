/**
 * The Spaces page keeps its live connection through a server restart: it says it is reconnecting,
 * resubscribes by itself, drops the spaces deleted while it was away, and shows changes made
 * after the restart, all without a reload.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/src/app.js';
import { createLogger } from '../../server/src/logger.js';
import { createDockerRuntime } from '../../server/src/runtime/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { GraphQLTestClient } from '../helpers/graphql.js';
import { busyboxJob, containerOf } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

describe('the live connection across a server restart', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-e2e-reconnect-'));
  const runtime = createDockerRuntime();
  const running: App[] = [];
  const spaceIds: string[] = [];
  let browser: Browser;

  /** One Knot server on the shared database; port 0 picks a free one. */
  async function boot(port = 0): Promise<{ app: App; url: string; anonymous: GraphQLTestClient }> {
    const app = await createApp({ env: {}, config: { databaseUrl: database.url, dataDir, logLevel: 'silent' }, logger: createLogger('silent') });
    const url = await app.start(port, '127.0.0.1');
    running.push(app);
    return { app, url, anonymous: new GraphQLTestClient(url) };
  }
  async function stop(app: App) {
    await app.stop();
    running.splice(running.indexOf(app), 1);
  }

  beforeAll(async () => {
    await ensureWebBuild();
    database = await createTestDatabase();
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    for (const app of [...running]) await stop(app);
    for (const id of spaceIds) {
      await runtime.stopAndRemoveContainer(containerOf(id), { timeoutSeconds: 0 }).catch(() => {});
      for (const volume of await runtime.listVolumes({ 'knot.space': id })) await runtime.removeVolume(volume).catch(() => {});
    }
    runtime.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reconnects, resubscribes and catches up after the server restarts', async () => {
    const first = await boot();
    const port = Number(new URL(first.url).port);
    await first.anonymous.data(`mutation { setup(input: { username: "admin", email: "admin@example.com", password: "correct-horse" }) { id } }`);
    const api = (url: string) => new GraphQLTestClient(url).login('admin', 'correct-horse');
    const admin = await api(first.url);
    const { createTemplate } = await admin.data<{ createTemplate: { id: string } }>(
      `mutation($job: String!) { createTemplate(input: { name: "Busybox", job: $job }) { id } }`,
      { job: busyboxJob() },
    );
    for (const name of ['keep', 'gone']) {
      const { createSpace } = await admin.data<{ createSpace: { id: string } }>(
        `mutation($t: ID!, $n: String!) { createSpace(input: { templateId: $t, name: $n }) { id } }`,
        { t: createTemplate.id, n: name },
      );
      spaceIds.push(createSpace.id);
    }
    const [keepId, goneId] = spaceIds as [string, string];

    const { page } = await contextAs(browser, first, 'admin');
    await open(page, '/spaces');
    await spaceRow(page, 'gone').waitFor();
    await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));

    // The server goes away: the page says so.
    await stop(first.app);
    await page.getByText('Lost the live connection to Knot; reconnecting…').waitFor();
    await screenshot(page, 'reconnecting');

    // Meanwhile another server on the same database deletes a space: the page cannot hear it.
    const other = await boot();
    expect(await (await api(other.url)).data(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: goneId })).toEqual({ deleteSpace: true });
    await stop(other.app);

    // Knot is back where the page expects it.
    const back = await boot(port);
    await page.getByText('Lost the live connection to Knot; reconnecting…').waitFor({ state: 'hidden', timeout: 30_000 });
    await spaceRow(page, 'gone').waitFor({ state: 'detached' });

    // A change made after the restart arrives on the resubscribed socket.
    await (await api(back.url)).data(`mutation($id: ID!) { startSpace(id: $id) { id } }`, { id: keepId });
    await spaceRow(page, 'keep').locator('[data-status="RUNNING"]').waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
  });
});
