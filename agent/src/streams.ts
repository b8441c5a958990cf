import { connect } from 'node:net';
import type { KeptShells, Shell } from './kept-shells.js';
import type { Log } from './log.js';
import { Mux, type MuxStream } from '../../protocol/mux.js';
import { MAX_STREAMS, type AgentMessage, type ServerMessage } from '../../protocol/agent-wire.js';
import type { PtyLauncher } from './pty.js';

/**
 * Opens what the server asks for inside the space and pipes it to a multiplexed stream, for one
 * connection. Shells belong to `kept`, which outlives the connection.
 */
export class AgentStreams {
  private shells = new Map<number, Shell>();
  /** Ids asked for and not yet answered (a dial still connecting). */
  private opening = new Set<number>();
  private closed = false;

  constructor(
    private mux: Mux,
    private send: (message: AgentMessage) => void,
    private launcher: PtyLauncher,
    private kept: KeptShells,
    private log: Log,
  ) {}

  handle(message: ServerMessage): void {
    switch (message.t) {
      case 'open':
        if (this.mux.has(message.id) || this.opening.has(message.id)) return this.refuse(message.id, 'that stream id is in use');
        if (this.mux.size + this.opening.size >= MAX_STREAMS) return this.refuse(message.id, `too many open streams (at most ${MAX_STREAMS})`);
        if (message.kind === 'dial') this.dial(message.id, message.port);
        else if (message.kind === 'resume') this.resume(message.id, message.keep, message.from);
        else this.shell(message.id, message.shell, message.cols, message.rows, message.keep ?? null);
        return;
      case 'resize':
        this.shells.get(message.id)?.pty.resize(message.cols, message.rows);
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

  private shell(id: number, shellName: string, cols: number, rows: number, key: string | null) {
    if (key && this.kept.find(key)) return this.refuse(id, 'a shell by that name is already kept');
    let shell: Shell;
    try {
      shell = this.kept.add(this.launcher.spawn(shellName, cols, rows), key);
    } catch (err) {
      return this.refuse(id, `could not start a shell: ${(err as Error).message}`);
    }
    this.show(id, shell, 0);
  }

  /** A kept shell on this (newer) connection, from the server's byte `from` on. */
  private resume(id: number, key: string, from: number) {
    const shell = this.kept.find(key);
    if (!shell) return this.refuse(id, 'that shell has ended');
    this.log.info(`shell resumed from byte ${from}`);
    this.show(id, shell, from);
  }

  private show(id: number, shell: Shell, from: number) {
    const stream = this.mux.add(id);
    this.shells.set(id, shell);
    this.send({ t: 'opened', id });
    // The server never half-closes a shell's stream; its input stays open for the next stream.
    stream.pipe(shell.pty.input, { end: false });
    stream.on('error', () => {});
    stream.once('close', () => {
      stream.unpipe(shell.pty.input);
      this.shells.delete(id);
      // Detached: the server lost whoever showed the shell (a replica died) and will resume it.
      this.kept.streamClosed(shell, stream, this.closed || stream.detached);
    });
    this.kept.attach(shell, stream, from);
  }

  closeAll(reason: string): void {
    this.closed = true;
    // Each shell's stream closes: kept shells wait for the next connection, the others end (KeptShells.streamClosed).
    this.mux.closeAll(reason);
  }
}

export type { MuxStream };
