/**
 * `npm start` on an unchanged checkout rebuilds nothing and runs the compiled server (no
 * transpiler at run time); a real change to the server's sources rebuilds the server, and only it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
/** `node scripts/build.mjs`: what it said (stderr) about each part. */
const build = async () => (await run(process.execPath, ['scripts/build.mjs'], { cwd: root, maxBuffer: 64 * 1024 * 1024 })).stderr;

describe('npm start', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-fast-start-'));
  const probe = path.join(root, 'server', 'src', `.build-probe-${process.pid}.ts`);
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Whatever state the checkout is in, bring the build up to date first.
    await build();
  }, 300_000);

  afterAll(async () => {
    try {
      // Whatever of the tree is left after a failure.
      if (child?.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // The group has exited already.
    }
    rmSync(probe, { force: true });
    await build();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 300_000);

  it('on an unchanged checkout builds nothing and runs compiled JavaScript', async () => {
    // Its own process group, so the whole tree (npm, sh, node) can be signalled.
    child = spawn('npm', ['start'], {
      cwd: root,
      detached: true,
      env: { ...process.env, PORT: '0', KNOT_DATA_DIR: dataDir, DATABASE_URL: database.url, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const port = await waitFor(() => /"port":(\d+)[^\n]*"msg":"knot is listening"/.exec(stdout)?.[1], { timeout: 90_000, what: 'knot to listen' });
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);

    expect(stderr).not.toMatch(/building/);
    const { stdout: tree } = await run('ps', ['-o', 'args=', '-g', String(child.pid)]);
    expect(tree).toMatch(/node scripts\/start\.mjs/);
    expect(tree).not.toMatch(/tsx|vite|esbuild/);

    const exited = new Promise((resolve) => child!.once('exit', resolve));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  });

  it('rebuilds nothing when files were only touched, and the server alone when its sources change', async () => {
    const main = path.join(root, 'server', 'src', 'main.ts');
    const { atime, mtime } = statSync(main);
    try {
      utimesSync(main, new Date(), new Date());
      expect(await build()).toMatch(/up to date: server, web, agent/);
    } finally {
      utimesSync(main, atime, mtime);
    }
    writeFileSync(probe, 'export {};\n');
    const said = await build();
    expect(said).toMatch(/built server in/);
    expect(said).toMatch(/up to date: web, agent/);
  });
});
