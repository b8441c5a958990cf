import { connect } from 'node:net';
import { finished } from 'node:stream/promises';
import type { Log } from './log.js';
import { Mux, type MuxStream } from '../../protocol/mux.js';
import { MAX_STREAMS, type AgentMessage, type ServerMessage } from '../../protocol/agent-wire.js';
import type { PtyLauncher, PtyProcess } from './pty.js';

/** Opens what the server asks for inside the space and pipes it to a multiplexed stream. */
export class AgentStreams {
  private shells = new Map<number, PtyProcess>();
  /** Ids asked for and not yet answered (a dial still connecting). */
  private opening = new Set<number>();
  private closed = false;

  constructor(
    private mux: Mux,
    private send: (message: AgentMessage) => void,
    private launcher: PtyLauncher,
    private log: Log,
  ) {}

  handle(message: ServerMessage): void {
    switch (message.t) {
      case 'open':
        if (this.mux.has(message.id) || this.opening.has(message.id)) return this.refuse(message.id, 'that stream id is in use');
        if (this.mux.size + this.opening.size >= MAX_STREAMS) return this.refuse(message.id, `too many open streams (at most ${MAX_STREAMS})`);
        if (message.kind === 'dial') this.dial(message.id, message.port);
        else this.shell(message.id, message.shell, message.cols, message.rows);
        return;
      case 'resize':
        this.shells.get(message.id)?.resize(message.cols, message.rows);
        return;
      default:
        this.mux.handleControl(message);
    }
  }

  private refuse(id: number, reason: string) {
    this.send({ t: 'refused', id, message: reason });
  }

  private dial(id: number, port: number) {
    this.opening.add(id);
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('error', (err) => {
      if (!this.opening.delete(id)) return;
      this.refuse(id, `nothing answers on port ${port} in the space (${(err as NodeJS.ErrnoException).code ?? err.message})`);
    });
    socket.once('connect', () => {
      this.opening.delete(id);
      if (this.closed) return void socket.destroy();
      const stream = this.mux.add(id);
      this.send({ t: 'opened', id });
      socket.pipe(stream);
      stream.pipe(socket);
      socket.on('error', (err) => stream.destroy(err));
      stream.on('error', () => socket.destroy());
      stream.once('close', () => socket.destroy());
    });
  }

  private shell(id: number, shellName: string, cols: number, rows: number) {
    let pty: PtyProcess;
    try {
      pty = this.launcher.spawn(shellName, cols, rows);
    } catch (err) {
      return this.refuse(id, `could not start a shell: ${(err as Error).message}`);
    }
    const stream = this.mux.add(id);
    this.shells.set(id, pty);
    this.send({ t: 'opened', id });
    pty.output.pipe(stream, { end: false });
    stream.pipe(pty.input);
    pty.input.on('error', () => {});
    stream.on('error', () => {});
    stream.once('close', () => {
      this.shells.delete(id);
      pty.kill();
    });
    // The exit code goes after the last output, so the terminal shows everything the shell printed.
    Promise.all([pty.exited, finished(pty.output).catch(() => {})]).then(([code]) => {
      this.log.debug(`shell ${id} exited with ${code}`);
      if (stream.destroyed || stream.writableEnded) return;
      stream.exitCode = code;
      stream.end();
    }, (err: unknown) => this.log.warn(`shell ${id}: ${(err as Error).message}`));
  }

  closeAll(reason: string): void {
    this.closed = true;
    this.mux.closeAll(reason);
    for (const pty of this.shells.values()) pty.kill();
    this.shells.clear();
  }
}

export type { MuxStream };
