import { finished } from 'node:stream/promises';
import type { MuxStream } from '../../protocol/mux.js';
import { RingBuffer } from '../../protocol/ring-buffer.js';
import type { Log } from './log.js';
import type { PtyProcess } from './pty.js';

/** Output a kept shell holds for the server to replay after a lost connection (the contract promises at least 64 KiB). */
export const KEPT_OUTPUT_BYTES = 128 * 1024;

/**
 * A shell of a web terminal, and the stream that shows it while the server is connected. Its
 * output goes into a ring buffer whose positions count every byte, so the server resumes exactly
 * where its copy stopped.
 */
export class Shell {
  readonly ring = new RingBuffer(KEPT_OUTPUT_BYTES);
  stream: MuxStream | null = null;
  /** Set once the shell exited and its last output is in the ring. */
  exitCode: number | null = null;
  expiry: NodeJS.Timeout | null = null;
  private paused = false;

  constructor(
    readonly pty: PtyProcess,
    /** The server's name for it when it is kept through a lost connection; null for a shell that ends with its stream. */
    readonly key: string | null,
  ) {
    pty.output.on('data', (chunk: Buffer) => this.output(chunk));
    pty.input.on('error', () => {});
  }

  private output(chunk: Buffer) {
    this.ring.append(chunk);
    const stream = this.stream;
    if (!stream || stream.destroyed || stream.writableEnded) return;
    // Held back while the server is slow to take it; a detached shell runs on and only the ring keeps its output.
    if (!stream.write(chunk)) {
      this.paused = true;
      this.pty.output.pause();
      stream.once('drain', () => this.unpause());
    }
  }

  unpause() {
    if (!this.paused) return;
    this.paused = false;
    this.pty.output.resume();
  }
}

/**
 * The shells of this agent, across its connections to the server: a kept shell whose connection
 * is lost runs on for `detachMs`, buffering its output, and a `resume` on the next connection
 * shows it again from the byte the server had. Shells without a key end with their stream.
 */
export class KeptShells {
  private byKey = new Map<string, Shell>();
  private all = new Set<Shell>();

  constructor(
    private readonly detachMs: number,
    private readonly log: Log,
  ) {}

  /** Starts following a new shell; its exit is sent after its last output, now or on the stream that resumes it. */
  add(pty: PtyProcess, key: string | null): Shell {
    const shell = new Shell(pty, key);
    this.all.add(shell);
    if (key) this.byKey.set(key, shell);
    Promise.all([pty.exited, finished(pty.output).catch(() => {})]).then(([code]) => {
      shell.exitCode = code;
      if (shell.stream) this.finish(shell, shell.stream);
    }, (err: unknown) => this.log.warn(`shell: ${(err as Error).message}`));
    return shell;
  }

  find(key: string): Shell | undefined {
    return this.byKey.get(key);
  }

  /**
   * Shows the shell on `stream`, first its output from byte `from` (as far back as the ring holds),
   * then live. A stream that still shows it (the server gave up on it first) is let go.
   */
  attach(shell: Shell, stream: MuxStream, from: number) {
    if (shell.expiry) clearTimeout(shell.expiry);
    shell.expiry = null;
    const previous = shell.stream;
    shell.stream = stream;
    previous?.destroy();
    shell.unpause();
    const replay = shell.ring.since(from);
    if (replay.start > from) this.log.warn(`shell: ${replay.start - from} bytes of output were lost while the server was away`);
    if (replay.bytes.length) stream.write(replay.bytes);
    if (shell.exitCode !== null) this.finish(shell, stream);
  }

  /** The stream is gone. A kept shell whose connection was lost waits for a resume; any other ends. */
  streamClosed(shell: Shell, stream: MuxStream, connectionLost: boolean) {
    if (shell.stream !== stream) return;
    shell.stream = null;
    shell.unpause();
    if (!connectionLost || !shell.key || this.detachMs === 0 || this.byKey.get(shell.key) !== shell) return this.end(shell);
    this.log.info(`shell kept for ${Math.round(this.detachMs / 1000)} s while the server is away`);
    shell.expiry = setTimeout(() => {
      this.log.info('a kept shell ended: the server did not resume it in time');
      this.end(shell);
    }, this.detachMs);
    shell.expiry.unref();
  }

  /** The agent is stopping: every shell ends now (it may exit before any stream's close is heard). */
  endAll() {
    for (const shell of [...this.all]) this.end(shell);
  }

  private finish(shell: Shell, stream: MuxStream) {
    if (shell.key) this.byKey.delete(shell.key);
    if (stream.destroyed || stream.writableEnded) return;
    stream.exitCode = shell.exitCode;
    stream.end();
  }

  private end(shell: Shell) {
    if (shell.expiry) clearTimeout(shell.expiry);
    shell.expiry = null;
    if (shell.key && this.byKey.get(shell.key) === shell) this.byKey.delete(shell.key);
    this.all.delete(shell);
    shell.pty.kill();
  }
}
