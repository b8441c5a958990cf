import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const LAUNCHER = fileURLToPath(new URL('../../cli/bin/knot.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a person with their own home directory (and so their own ~/.config and ~/.ssh). */
function env(home: string): NodeJS.ProcessEnv {
  const { XDG_CONFIG_HOME: _x, ...rest } = process.env;
  return { ...rest, HOME: home };
}

/** `knot <args>` with raw pipes, for a test that speaks bytes to it (ssh's ProxyCommand). */
export function spawnCli(home: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [LAUNCHER, ...args], { env: env(home), stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs `knot <args>` to the end, as a user would from a shell. */
export function runCli(home: string, args: string[], input?: string): Promise<CliResult> {
  const child = spawn(process.execPath, [LAUNCHER, ...args], { env: env(home), stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  child.stderr.on('data', (c: Buffer) => err.push(c));
  child.stdin.end(input ?? '');
  return new Promise((resolve) =>
    child.once('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() })),
  );
}

/** A long-running `knot <args>` (watch, forward) whose output lines a test can wait for. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(home: string, args: string[]) {
    this.child = spawn(process.execPath, [LAUNCHER, ...args], { env: env(home), stdio: ['pipe', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code) => {
        this.wake();
        resolve(code);
      }),
    );
  }

  /** Waits for an output line (from index `from`) that matches; returns it and its index. */
  async line(match: (line: string) => boolean, { from = 0, timeout = 30_000 } = {}): Promise<{ line: string; index: number }> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const index = this.lines.findIndex((l, i) => i >= from && match(l));
      if (index >= 0) return { line: this.lines[index]!, index };
      if (this.child.exitCode !== null) throw new Error(`knot exited ${this.child.exitCode}; stdout: ${this.lines.join('\n')}; stderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching line within ${timeout} ms; stdout: ${this.lines.join('\n')}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }

  private wake() {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
