import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { PtyMethod } from './config.js';
import { TelnetDecoder, TelnetEncoder, nawsFrame } from './telnet.js';

/**
 * Shells in a pseudo-terminal without a native module (the agent is one JavaScript file on plain
 * Node). A helper that is already in the space allocates the pty:
 *  - `script` (util-linux, or busybox's applet): most distributions have it. The window size is
 *    set with `stty` on the pty's slave, whose path the wrapper writes down.
 *  - busybox `telnetd -i`: in busybox-only images. It speaks telnet on its stdin/stdout; the
 *    window size travels as NAWS.
 *  - none: the shell runs on pipes (`sh -i`): commands work, full-screen programs and resize do not.
 * Either way a small wrapper runs the login shell and leaves its exit code in a file.
 */
export interface PtyProcess {
  /** What the terminal shows. */
  output: Readable;
  /** What the user types. */
  input: Writable;
  resize(cols: number, rows: number): void;
  /** The shell's exit code (-1 when unknown, e.g. it was killed). */
  exited: Promise<number>;
  kill(): void;
}

const WRAPPER = `#!/bin/sh
# knot agent: runs in the pty that script or telnetd made. Sizes the terminal, writes down which
# tty it is (later resizes go there), runs the login shell and leaves its exit code behind.
[ -n "$KNOT_PTY_TTY_FILE" ] && tty > "$KNOT_PTY_TTY_FILE" 2>/dev/null
stty cols "$KNOT_PTY_COLS" rows "$KNOT_PTY_ROWS" 2>/dev/null
knot_shell=$KNOT_PTY_SHELL
knot_exit_file=$KNOT_PTY_EXIT_FILE
unset KNOT_PTY_TTY_FILE KNOT_PTY_COLS KNOT_PTY_ROWS KNOT_PTY_SHELL KNOT_PTY_EXIT_FILE
export TERM=xterm-256color
cd "\${HOME:-/}" 2>/dev/null
"$knot_shell" -l
echo $? > "$knot_exit_file"
`;

export function findExecutable(name: string, envPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): string | null {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  for (const dir of envPath.split(':').filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The space's shell by name or path, or `sh` when it is not installed. */
export function resolveShell(shell: string): string {
  return findExecutable(shell) ?? findExecutable('sh') ?? '/bin/sh';
}

/** The command that runs busybox telnetd, if there is one. */
function telnetdCommand(): string[] | null {
  const telnetd = findExecutable('telnetd');
  if (telnetd) return [telnetd];
  const busybox = findExecutable('busybox');
  if (!busybox) return null;
  const applets = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout ?? '';
  return applets.split('\n').includes('telnetd') ? [busybox, 'telnetd'] : null;
}

export function detectPtyMethod(forced: PtyMethod | null): PtyMethod {
  if (forced) return forced;
  if (findExecutable('script')) return 'script';
  if (telnetdCommand()) return 'telnetd';
  return 'pipe';
}

export class PtyLauncher {
  private dir: string;
  private wrapper: string;
  private telnetd: string[] | null = null;
  private sessions = 0;

  constructor(readonly method: PtyMethod) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'knot-agent-'));
    this.wrapper = path.join(this.dir, 'login-shell');
    writeFileSync(this.wrapper, WRAPPER, { mode: 0o700 });
    if (method === 'telnetd') {
      this.telnetd = telnetdCommand();
      if (!this.telnetd) throw new Error('KNOT_PTY=telnetd, but neither telnetd nor busybox with telnetd is installed');
    }
    if (method === 'script' && !findExecutable('script')) throw new Error('KNOT_PTY=script, but script is not installed');
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  spawn(shellName: string, cols: number, rows: number): PtyProcess {
    const shell = resolveShell(shellName);
    if (this.method === 'pipe') return spawnOnPipes(shell);
    const session = ++this.sessions;
    const exitFile = path.join(this.dir, `exit-${session}`);
    const ttyFile = path.join(this.dir, `tty-${session}`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SHELL: '/bin/sh',
      KNOT_PTY_SHELL: shell,
      KNOT_PTY_EXIT_FILE: exitFile,
      KNOT_PTY_TTY_FILE: ttyFile,
      KNOT_PTY_COLS: String(cols),
      KNOT_PTY_ROWS: String(rows),
    };
    const [command, ...args] =
      this.method === 'script' ? ['script', '-qfc', this.wrapper, '/dev/null'] : [...this.telnetd!, '-i', '-K', '-f', '/dev/null', '-l', this.wrapper];
    const child = spawn(command!, args, { env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    const cleanup = () => {
      rmSync(exitFile, { force: true });
      rmSync(ttyFile, { force: true });
    };
    const exited = exitOf(child).then(() => {
      const code = readExitCode(exitFile);
      cleanup();
      return code;
    });

    if (this.method === 'telnetd') {
      const encoder = new TelnetEncoder();
      const decoder = new TelnetDecoder();
      encoder.pipe(child.stdin!);
      child.stdout!.pipe(decoder);
      let lastSize = nawsFrame(cols, rows);
      child.stdin!.write(lastSize);
      return {
        output: decoder,
        input: encoder,
        resize: (c, r) => {
          lastSize = nawsFrame(c, r);
          // Straight to telnetd, not through the encoder: these IACs are commands.
          if (child.stdin!.writable) child.stdin!.write(lastSize);
        },
        exited,
        kill: () => killTree(child),
      };
    }
    // One stty at a time, so quick successive resizes land in order.
    let resizing = Promise.resolve();
    return {
      output: child.stdout!,
      input: child.stdin!,
      resize: (c, r) => {
        resizing = resizing.then(() => setTtySize(ttyFile, c, r));
      },
      exited,
      kill: () => killTree(child),
    };
  }
}

function spawnOnPipes(shell: string): PtyProcess {
  const child = spawn(shell, ['-i'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, TERM: 'dumb' } });
  const output = new PassThrough();
  let open = 2;
  for (const source of [child.stdout!, child.stderr!]) {
    source.pipe(output, { end: false });
    source.once('end', () => --open === 0 && output.end());
  }
  return {
    output,
    input: child.stdin!,
    resize: () => {},
    exited: exitOf(child).then(({ code }) => code ?? -1),
    kill: () => killTree(child),
  };
}

function exitOf(child: ChildProcess): Promise<{ code: number | null }> {
  return new Promise((resolve) => {
    child.once('error', () => resolve({ code: null }));
    child.once('close', (code) => resolve({ code }));
  });
}

function readExitCode(file: string): number {
  try {
    const code = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(code) ? code : -1;
  } catch {
    return -1;
  }
}

/** The helper leads its own process group: the whole session goes, not only the helper. */
function killTree(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, 'SIGHUP');
  } catch {
    child.kill('SIGHUP');
  }
  const force = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 2_000);
  force.unref();
  child.once('close', () => clearTimeout(force));
}

/**
 * TIOCSWINSZ needs an ioctl, which Node cannot make; `stty` can, on the slave given as its stdin.
 * The kernel then sends SIGWINCH to the shell's foreground job, as a real terminal resize does.
 */
async function setTtySize(ttyFile: string, cols: number, rows: number): Promise<void> {
  const tty = await waitForTtyPath(ttyFile);
  if (!tty) return;
  let fd: number;
  try {
    fd = openSync(tty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch {
    return;
  }
  await new Promise<void>((resolve) => {
    const stty = spawn('stty', ['cols', String(cols), 'rows', String(rows)], { stdio: [fd, 'ignore', 'ignore'] });
    stty.once('error', () => resolve());
    stty.once('close', () => resolve());
  });
  closeSync(fd);
}

/** The wrapper writes its tty first thing; a resize sent right after opening may beat it by a moment. */
async function waitForTtyPath(ttyFile: string): Promise<string | null> {
  for (let attempt = 0; attempt < 40; attempt++) {
    if (existsSync(ttyFile)) {
      const tty = readFileSync(ttyFile, 'utf8').trim();
      if (tty.startsWith('/dev/')) return tty;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}
