import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadOptions, LoadResult } from './load-worker.js';

const worker = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/** Runs the load loop in a separate Node process (tsx as loader) and returns its figures. */
export function loadInChildProcess(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', worker, JSON.stringify(options)],
      { timeout: options.warmupMs + options.durationMs + 60_000, maxBuffer: 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`load generator failed: ${err.message}\n${stderr}`));
        const last = stdout.trim().split('\n').at(-1) ?? '';
        try {
          resolve(JSON.parse(last) as LoadResult);
        } catch {
          reject(new Error(`load generator printed no result: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}
