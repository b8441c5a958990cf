/**
 * The web UI in headless Chromium against a real Knot, Postgres and Docker:
 *  - live status: from sending startSpace to the word "Running" on the Spaces page, against the
 *    same RUNNING event arriving on a bare graphql-ws client in the same run (target ≤ 1.5);
 *  - the Spaces page with 200 spaces: navigation start to the list first shown (target < 1 s), and
 *    to all 200 rows, on a first and a second visit, next to the bare `spaces` query it waits for;
 *  - the JavaScript the UI ships (every .js in web/build, raw and gzipped).
 * Timestamps on both sides are epoch-based high-resolution clocks of the same machine.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { print } from 'graphql';
import { setupAdmin, startTestServer } from '../test/helpers/server.js';
import { ensureWebBuild } from '../test/e2e/build-web.js';
import { contextAs, launchBrowser, open, screenshot } from '../test/e2e/browser.js';
import { CREATE_SPACE, CREATE_TEMPLATE, SPACE_CHANGED, START_SPACE, STOP_SPACE, busyboxJob } from '../test/spaces/fixture.js';
import { SPACES as SPACES_QUERY } from '../web/src/lib/api/documents.js';
import { median } from './docker-floor.js';
import type { BenchResult } from './types.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const LOADS = Number(process.env.BENCH_LOADS ?? 5);
const SPACES = 200;
const now = () => performance.timeOrigin + performance.now();

export async function benchUi(): Promise<BenchResult[]> {
  await ensureWebBuild();
  const server = await startTestServer();
  const { client } = await setupAdmin(server);
  const browser = await launchBrowser();
  try {
    const { createTemplate } = await client.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, { input: { name: 'bench', job: busyboxJob() } });
    const createSpace = async (name: string) =>
      (await client.data<{ createSpace: { id: string } }>(CREATE_SPACE, { input: { templateId: createTemplate.id, name } })).createSpace.id;

    const live = await measureLiveStatus(browser, server, client, await createSpace('live'));
    for (let i = 1; i < SPACES; i++) await createSpace(`space-${String(i).padStart(3, '0')}`);
    const load = await measurePageLoad(browser, server);
    const js = shippedJavaScript();

    return [
      {
        name: `startSpace sent → "Running" on the Spaces page (median of ${RUNS})`,
        value: median(live.page),
        unit: 'ms',
        baseline: { name: 'RUNNING on a bare graphql-ws client', value: median(live.socket) },
        better: 'lower',
        target: 1.5,
      },
      {
        name: `"Running" on the page after the bare client had it (median of ${RUNS})`,
        value: median(live.page.map((p, i) => p - live.socket[i]!)),
        unit: 'ms',
      },
      {
        name: `Spaces page with ${SPACES} spaces: navigation → the list first shown (median of ${LOADS})`,
        value: median(load.first),
        unit: 'ms',
        baseline: { name: 'budget', value: 1000 },
        better: 'lower',
        target: 1,
      },
      { name: `the same, on a second visit (scripts cached) (median of ${LOADS})`, value: median(load.warm), unit: 'ms' },
      { name: `Spaces page with ${SPACES} spaces: navigation → all ${SPACES} rows rendered (median of ${LOADS})`, value: median(load.all), unit: 'ms' },
      { name: `the same page's \`spaces\` query from a bare HTTP client (median of ${LOADS})`, value: median(load.query), unit: 'ms' },
      { name: 'JavaScript in web/build (every .js file)', value: js.raw / 1024, unit: 'KiB' },
      { name: 'JavaScript in web/build, gzipped', value: js.gzip / 1024, unit: 'KiB' },
      { name: 'JavaScript the Spaces page downloads (served uncompressed)', value: load.jsBytes / 1024, unit: 'KiB' },
    ];
  } finally {
    await browser.close();
    await client.close();
    await server.stop();
  }
}

type Server = Awaited<ReturnType<typeof startTestServer>>;
type Client = Awaited<ReturnType<typeof setupAdmin>>['client'];

async function measureLiveStatus(browser: Awaited<ReturnType<typeof launchBrowser>>, server: Server, client: Client, id: string) {
  const { context, page } = await contextAs(browser, server, 'admin');
  await open(page, '/spaces');
  await page.locator('li.space-row[data-space="live"] [data-status="STOPPED"]').waitFor();
  // The page notes when each status first shows, by its own clock.
  await page.evaluate(() => {
    const w = window as unknown as { shown: Record<string, number> };
    w.shown = {};
    new MutationObserver(() => {
      const status = document.querySelector('li.space-row[data-space="live"] [data-status]')?.getAttribute('data-status');
      if (status && !(status in w.shown)) w.shown[status] = performance.timeOrigin + performance.now();
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  const shown = () => page.evaluate(() => (window as unknown as { shown: Record<string, number> }).shown);
  const reset = () => page.evaluate(() => ((window as unknown as { shown: Record<string, number> }).shown = {}));

  const sub = client.subscribe<{ spaceChanged: { space: { status: string } } }>(SPACE_CHANGED, { id });
  await sub.next();
  const result = { page: [] as number[], socket: [] as number[] };
  for (let i = 0; i < RUNS + 1; i++) {
    await reset();
    const t0 = now();
    await client.data(START_SPACE, { id });
    await sub.next((e) => e.spaceChanged.space.status === 'RUNNING');
    const socket = now() - t0;
    await page.locator('li.space-row[data-space="live"] [data-status="RUNNING"]').waitFor();
    const onPage = (await shown()).RUNNING! - t0;
    await client.data(STOP_SPACE, { id });
    await sub.next((e) => e.spaceChanged.space.status === 'STOPPED');
    await page.locator('li.space-row[data-space="live"] [data-status="STOPPED"]').waitFor();
    if (i === 0) continue; // warm-up
    result.socket.push(socket);
    result.page.push(onPage);
  }
  sub.close();
  await context.close();
  return result;
}

async function measurePageLoad(browser: Awaited<ReturnType<typeof launchBrowser>>, server: Server) {
  const first: number[] = [];
  const all: number[] = [];
  const query: number[] = [];
  const warm: number[] = [];
  const api = await server.anonymous.login('admin', 'correct-horse');
  let jsBytes = 0;
  for (let i = 0; i < LOADS + 1; i++) {
    // A fresh context each time: an empty cache, as on a first visit.
    const { context, page } = await contextAs(browser, server, 'admin');
    await page.addInitScript((expected: number) => {
      const w = window as unknown as { rendered: { first?: number; all?: number } };
      w.rendered = {};
      new MutationObserver(() => {
        const rows = document.querySelectorAll('li.space-row').length;
        if (rows && w.rendered.first === undefined) w.rendered.first = performance.now();
        if (rows >= expected && w.rendered.all === undefined) w.rendered.all = performance.now();
      }).observe(document, { subtree: true, childList: true });
    }, SPACES);
    let bytes = 0;
    page.on('response', async (response) => {
      if (response.url().endsWith('.js')) bytes += Number(response.headers()['content-length'] ?? (await response.body()).length);
    });
    const visit = async () => {
      try {
        await page.waitForFunction((expected: number) => document.querySelectorAll('li.space-row').length >= expected, SPACES);
      } catch (err) {
        const rows = await page.evaluate(() => document.querySelectorAll('li.space-row').length);
        throw new Error(`${rows} of ${SPACES} rows after 30 s (screenshot: ${await screenshot(page, 'bench-ui-failure')}): ${(err as Error).message}`, { cause: err });
      }
      return page.evaluate(() => (window as unknown as { rendered: { first: number; all: number } }).rendered);
    };
    await open(page, '/spaces');
    const rendered = await visit();
    // A second visit, with the immutable scripts in the browser's cache, as on most visits.
    page.removeAllListeners('response');
    await open(page);
    const again = await visit();
    await context.close();
    const t0 = performance.now();
    await api.data(print(SPACES_QUERY), {});
    const bare = performance.now() - t0;
    if (i === 0) continue;
    query.push(bare);
    first.push(rendered.first);
    all.push(rendered.all);
    warm.push(again.first);
    jsBytes = bytes;
  }
  await api.close();
  return { first, all, warm, query, jsBytes };
}

function shippedJavaScript(): { raw: number; gzip: number } {
  const build = fileURLToPath(new URL('../web/build', import.meta.url));
  let raw = 0;
  let gzip = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (name.endsWith('.js')) {
        const content = readFileSync(file);
        raw += content.length;
        gzip += gzipSync(content, { level: 9 }).length;
      }
    }
  };
  walk(build);
  return { raw, gzip };
}
