/**
 * `npm start` to a 200 from `/healthz` on an unchanged checkout (built, database migrated by a
 * first start that is not counted), next to a bare graphql-yoga server (bare-yoga-server.mjs)
 * started as a plain Node process, in alternating rounds of the same run. Each time runs from the
 * spawn to the first 200; the figure is the median of the rounds. Knot uses a fresh database on
 * the provisioned PostgreSQL (DATABASE_URL), as the embedded one's own start is not Knot's code.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase } from '../test/helpers/database.js';
import type { BenchResult } from './types.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const root = fileURLToPath(new URL('..', import.meta.url));
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

/** Spawns `cmd` in its own process group; resolves with the ms from spawn to the first 200 on /healthz, then stops it. */
async function timeToHealthy(cmd: string, args: string[], env: NodeJS.ProcessEnv, portFrom: RegExp): Promise<number> {
  const started = performance.now();
  const child = spawn(cmd, args, { cwd: root, detached: true, env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} exited before it was healthy:\n${out.slice(-2000)}`);
      if (performance.now() - started > 120_000) throw new Error(`${cmd} ${args.join(' ')} not healthy within 120 s:\n${out.slice(-2000)}`);
      const port = portFrom.exec(out)?.[1];
      if (port) {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
        if (res?.status === 200) return performance.now() - started;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

export async function benchStart(): Promise<BenchResult[]> {
  await promisify(execFile)(process.execPath, ['scripts/build.mjs'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-bench-start-'));
  const knotEnv = { DATABASE_URL: database.url, KNOT_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
  const knotPort = /"port":(\d+)[^\n]*"msg":"knot is listening"/;
  const knot = () => timeToHealthy('npm', ['start'], knotEnv, knotPort);
  const bare = () => timeToHealthy(process.execPath, ['bench/bare-yoga-server.mjs'], {}, /"port":(\d+)/);
  try {
    // Not counted: the first start migrates the fresh database.
    await knot();
    const knotTimes: number[] = [];
    const bareTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bareTimes.push(await bare());
      knotTimes.push(await knot());
    }
    console.log(`  npm start: ${knotTimes.map((t) => t.toFixed(0)).join(', ')} ms; bare yoga: ${bareTimes.map((t) => t.toFixed(0)).join(', ')} ms`);
    return [
      {
        name: '`npm start` to /healthz 200, unchanged checkout (median)',
        value: median(knotTimes),
        unit: 'ms',
        baseline: { name: 'bare graphql-yoga server start', value: median(bareTimes) },
        better: 'lower',
      },
    ];
  } finally {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
