import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** KNOT_PROCESS_ROOT runs another checkout's server instead (e.g. `npm run chaos` against an older commit). */
const root = process.env.KNOT_PROCESS_ROOT ?? fileURLToPath(new URL('../..', import.meta.url));

export interface KnotProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the process wrote, for a failure message. */
  output(): string;
  /** SIGKILL, as a crash or an OOM killer would: nothing is flushed or closed. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * A real Knot server as a child process (`node --import tsx server/src/main.ts`) on a free port, so it can be
 * SIGKILLed like a real one. No DATABASE_URL in `env` means the embedded default under KNOT_DATA_DIR.
 */
export async function startKnotProcess(env: Record<string, string | undefined>, { timeout = 90_000 } = {}): Promise<KnotProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: '', ...env };
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
  // node with tsx's loader, not the tsx CLI: the CLI runs the server in a grandchild that a SIGKILL would miss.
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Knot did not listen within ${timeout} ms:\n${out.slice(-4000)}`)), timeout);
    const onData = (chunk: Buffer) => {
      // Read for as long as it runs (a full pipe would block its logging), keeping only the tail.
      out = (out + chunk.toString()).slice(-64_000);
      const m = /"port":(\d+)[^\n]*"msg":"knot is listening"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Knot exited with ${code} before listening:\n${out.slice(-4000)}`));
    });
  });
  const waitExit = async () => {
    await exited;
  };
  return {
    url,
    pid: child.pid!,
    child,
    exited,
    output: () => out,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await waitExit();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await waitExit();
    },
  };
}
