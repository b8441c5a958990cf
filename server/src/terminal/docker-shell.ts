import { randomBytes } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Runtime } from '../runtime/index.js';
import type { TerminalBackend, TerminalSize } from './backend.js';

/**
 * Runs the space's shell as a login shell, or `sh` when the image does not have it. One exec
 * instead of a probe and then the shell, so the prompt appears sooner.
 */
const LOGIN_SHELL = 'if command -v "$0" >/dev/null 2>&1; then exec "$0" -l; fi; exec sh -l';

/**
 * Docker does not end an exec'd process when its connection closes, so every terminal carries a
 * marker in its environment (inherited by everything started from it) and closing sends SIGHUP to
 * each process that has it: what a terminal emulator does when its window closes.
 */
const HANG_UP = 'for f in $(grep -l "KNOT_TERMINAL_SESSION=$0" /proc/[0-9]*/environ 2>/dev/null); do p=${f#/proc/}; kill -HUP "${p%/environ}" 2>/dev/null; done; true';

export async function openDockerShell(
  runtime: Runtime,
  log: Logger,
  containerId: string,
  shell: string,
  size: TerminalSize,
): Promise<TerminalBackend> {
  const marker = randomBytes(16).toString('hex');
  const session = await runtime.exec(containerId, {
    cmd: ['sh', '-c', LOGIN_SHELL, shell],
    tty: true,
    env: { TERM: 'xterm-256color', COLORTERM: 'truecolor', KNOT_TERMINAL_SESSION: marker },
  });
  const resize = (cols: number, rows: number) =>
    void session.resize(cols, rows).catch((err) => log.debug({ err, containerId }, 'terminal resize failed'));
  // Wait for the first size before any input flows: a command typed at once (`stty size`, a
  // full-screen editor) would otherwise see a 0×0 terminal.
  await session.resize(size.cols, size.rows).catch((err) => log.debug({ err, containerId }, 'terminal resize failed'));

  let closed = false;
  return {
    output: session.output,
    input: session.stdin,
    resize,
    exited: session.exitCode().catch(() => null),
    close() {
      if (closed) return;
      closed = true;
      session.close();
      void runtime
        .execCollect(containerId, ['sh', '-c', HANG_UP, marker])
        .catch((err) => log.warn({ err, containerId }, 'could not end the processes of a closed terminal'));
    },
  };
}
