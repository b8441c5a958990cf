import type { Readable, Writable } from 'node:stream';

/** A shell in a pty inside a space, however it was reached (Docker exec or the agent). */
export interface TerminalBackend {
  /** Everything the terminal shows. Ends when the shell exits. */
  output: Readable;
  /** Keystrokes and pastes. */
  input: Writable;
  resize(cols: number, rows: number): void;
  /** Resolves with the exit code, or null when it is unknown (the connection broke). */
  exited: Promise<number | null>;
  /** Ends the shell and everything it started, as closing a terminal window does. */
  close(): void;
  /**
   * The name the space's agent keeps this shell under through a lost connection (manual spaces),
   * so another replica can resume it if this one dies; absent for a Docker exec, which dies with
   * the replica that holds it.
   */
  readonly keep?: string;
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

export const DEFAULT_SIZE: TerminalSize = { cols: 80, rows: 24 };
const MAX_DIMENSION = 1000;

/** A size from a client: whole numbers from 1 to 1000, anything else is refused. */
export function parseSize(cols: unknown, rows: unknown): TerminalSize | null {
  const c = typeof cols === 'string' ? Number(cols) : cols;
  const r = typeof rows === 'string' ? Number(rows) : rows;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_DIMENSION;
  return ok(c) && ok(r) ? { cols: c, rows: r } : null;
}
