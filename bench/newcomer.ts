/**
 * A newcomer's path, as the README's quick start tells it, scripted in headless Chromium on a fresh
 * data directory: `node scripts/start.mjs` (what `npm start` runs) with its embedded PostgreSQL →
 * the first-run form → the Linux shell starter added from its card on the empty Spaces page → a
 * space created from it and started → its Terminal window answering a command. Reports the seconds
 * from launching the server to the command's output on the page (target under 20 s), and how much
 * of it the server's first start took (initdb of the embedded database included).
 * Image pulls are excluded as the issue asks: the starter runs the local busybox stand-in
 * (KNOT_STARTER_IMAGES), which is already on the engine. Run as root, as the README's install is.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, loadavg, availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUSYBOX_IMAGE } from '../test/helpers/env.js';
import { ensureWebBuild } from '../test/e2e/build-web.js';
import { chooseSpaceMenuItem, launchBrowser, open, spaceRow } from '../test/e2e/browser.js';
import { GraphQLTestClient } from '../test/helpers/graphql.js';
import type { BenchResult } from './types.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function healthy(url: string, deadline: number): Promise<void> {
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error('the server did not answer /healthz in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function benchNewcomer(): Promise<BenchResult[]> {
  await ensureWebBuild();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-newcomer-'));
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const browser = await launchBrowser();
  const t0 = performance.now();
  const server = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), KNOT_URL: url, KNOT_DATA_DIR: dataDir, KNOT_STARTER_IMAGES: `shell=${BUSYBOX_IMAGE}`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await healthy(url, Date.now() + 120_000);
    const serverUp = performance.now() - t0;

    const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await open(page, '/');
    await page.waitForURL('**/setup');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Email').fill('admin@example.com');
    await page.getByLabel('Password').fill('correct-horse');
    await page.getByRole('button', { name: 'Create admin' }).click();
    await page.waitForURL('**/spaces');

    const card = page.getByRole('region', { name: 'Starter templates' }).locator('li[data-starter="shell"]');
    await card.getByRole('button', { name: 'Add Linux shell' }).click();
    await page.waitForURL('**/templates');
    await page.getByRole('button', { name: 'Actions for template Linux shell' }).click();
    await page.getByRole('menuitem', { name: 'Create Space', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('first');
    await page.getByRole('button', { name: 'Create Space' }).click();
    await page.waitForURL('**/spaces');
    await chooseSpaceMenuItem(page, 'first', 'Start');
    const row = spaceRow(page, 'first');
    await row.locator('[data-status="RUNNING"]').waitFor({ timeout: 60_000 });
    const [terminal] = await Promise.all([page.waitForEvent('popup'), row.getByRole('button', { name: 'Terminal' }).click()]);
    await terminal.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
    await terminal.locator('.xterm-helper-textarea').focus();
    await terminal.keyboard.type('echo knot-$((6*7))\n');
    await terminal.locator('.xterm-rows', { hasText: 'knot-42' }).waitFor({ timeout: 30_000 });
    const total = performance.now() - t0;

    // Leave nothing in Docker: the space is stopped and deleted (its container and home volume go).
    const client = await new GraphQLTestClient(url).login('admin', 'correct-horse');
    const spaceIds = (await client.data<{ spaces: { id: string }[] }>('{ spaces { id } }')).spaces.map((s) => s.id);
    for (const id of spaceIds) {
      await client.data('mutation($id: ID!) { stopSpace(id: $id) { id } }', { id });
      for (let i = 0; i < 300; i++) {
        const { space } = await client.data<{ space: { status: string } }>('query($id: ID!) { space(id: $id) { status } }', { id });
        if (space.status === 'STOPPED') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await client.data('mutation($id: ID!) { deleteSpace(id: $id) }', { id });
    }
    await context.close();

    const load = `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
    return [
      {
        name: `newcomer: server launch on a fresh data directory → first-run form → starter → space running → terminal answering (${load}; no image pull)`,
        value: total / 1000,
        unit: 's',
        better: 'lower',
      },
      { name: 'of which the server\'s first start to /healthz (embedded PostgreSQL initdb included)', value: serverUp / 1000, unit: 's', better: 'lower' },
    ];
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
