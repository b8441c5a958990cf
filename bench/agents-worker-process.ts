/**
 * Starts agents-worker.ts in a child process with its input in a file under `dir`, and reads its
 * stdout a line at a time (READY, then the JSON result after it is sent GO).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AgentsWorkerInput } from './agents-worker.js';

const worker = fileURLToPath(new URL('./agents-worker.ts', import.meta.url));

export function startAgentsWorker(dir: string, input: AgentsWorkerInput): { proc: ChildProcess; nextLine: () => Promise<string> } {
  const inputFile = path.join(dir, 'input.json');
  writeFileSync(inputFile, JSON.stringify(input));
  const proc = spawn(process.execPath, ['--import', 'tsx', worker, inputFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`the agents worker exited (${code}) early`)));
    });
  return { proc, nextLine };
}
