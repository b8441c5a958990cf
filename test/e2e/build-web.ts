/**
 * The e2e tests drive the real built UI (web/build, served by the Knot server). This builds it
 * once when it is missing or older than its sources, so a stale build never passes or fails a
 * test. Test files run in parallel; a lock directory makes the second one wait for the first.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../..', import.meta.url));
const web = path.join(root, 'web');
const marker = path.join(web, 'build', 'index.html');
const lock = path.join(web, '.build-lock');
// The UI's GraphQL documents are typed by schema/client, outside web/.
const SOURCES = ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json', '../schema/client'];

function newestSource(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(entry).reduce((newest, name) => Math.max(newest, newestSource(path.join(entry, name))), stat.mtimeMs);
}

function isFresh(): boolean {
  if (!existsSync(marker)) return false;
  const built = statSync(marker).mtimeMs;
  return SOURCES.every((s) => newestSource(path.join(web, s)) <= built);
}

function tryLock(): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    // A lock left by a killed run must not block every later run.
    if (Date.now() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
    return false;
  }
}

export async function ensureWebBuild(): Promise<void> {
  for (;;) {
    if (isFresh()) return;
    if (tryLock()) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    if (isFresh()) return;
    // vitest sets NODE_ENV=test, which would make vite bundle Svelte's development runtime (bigger
    // and slower, with dev-only checks): build exactly what `npm start` serves.
    await promisify(execFile)('npm', ['run', 'build', '-w', 'web'], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NODE_ENV: 'production' },
    });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
