import { randomBytes } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../logger.js';
import { parseSize, type TerminalBackend, type TerminalSize } from './backend.js';
import { RingBuffer } from '../../../protocol/ring-buffer.js';

/** How much output a reattaching client gets back (the contract promises at least 64 KiB). */
export const REPLAY_BYTES = 128 * 1024;
/** Output is paused while this much is queued for a slow client, so a runaway `cat` cannot fill memory. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

export interface TerminalSessionInfo {
  id: string;
  spaceId: string;
  userId: string;
  createdAt: Date;
  /** How many sockets show it now. */
  attached: number;
  /** When the last socket went away; null while attached. */
  detachedAt: Date | null;
  /** When it ends unless someone reattaches; null while attached. */
  expiresAt: Date | null;
  cols: number;
  rows: number;
}

interface Attachment {
  ws: WebSocket;
  /** Bytes sent to this socket that it has not taken yet. */
  queued: number;
}

/**
 * One shell that outlives the sockets showing it: output goes to every attached socket and into a
 * ring buffer; with no socket attached the shell keeps running for `detachMs`, then is hung up.
 * The id is 144 random bits, and the registry only hands a session to its own user and space.
 */
export class TerminalSession {
  readonly createdAt = new Date();
  private readonly ring: RingBuffer;
  private readonly clients = new Set<Attachment>();
  private detachedAt: Date | null = null;
  private expiry: NodeJS.Timeout | null = null;
  private paused = false;
  private ended = false;
  private size: TerminalSize;

  constructor(
    readonly spaceId: string,
    readonly userId: string,
    private readonly backend: TerminalBackend,
    size: TerminalSize,
    private readonly detachMs: number,
    private readonly log: Logger,
    private readonly onEnd: (session: TerminalSession) => void,
    /** A session taken over from a replica that died keeps its id, and its output positions go on from `origin`. */
    readonly id = randomBytes(18).toString('base64url'),
    origin = 0,
  ) {
    this.ring = new RingBuffer(REPLAY_BYTES, origin);
    this.size = size;
    backend.output.on('data', (chunk: Buffer) => this.output(chunk));
    backend.input.on('error', () => {});
    void backend.exited.then((code) => this.end(1000, code === null ? 'The shell ended.' : `The shell exited with code ${code}.`));
  }

  info(): TerminalSessionInfo {
    const expiresAt = this.detachedAt ? new Date(this.detachedAt.getTime() + this.detachMs) : null;
    return {
      id: this.id,
      spaceId: this.spaceId,
      userId: this.userId,
      createdAt: this.createdAt,
      attached: this.clients.size,
      detachedAt: this.detachedAt,
      expiresAt,
      cols: this.size.cols,
      rows: this.size.rows,
    };
  }

  /**
   * Shows the session on `ws`: first a text frame naming it and the output position the replay
   * starts at, then the output held since `from` (all of it when absent), then live output.
   */
  attach(ws: WebSocket, from: number | undefined, size: TerminalSize | null) {
    if (this.ended) return void ws.close(4410, 'That terminal session has ended.');
    const replay = this.ring.since(from ?? 0);
    ws.send(JSON.stringify({ session: this.id, position: replay.start }));
    if (replay.bytes.length) ws.send(replay.bytes, { binary: true });
    const client: Attachment = { ws, queued: 0 };
    this.clients.add(client);
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = null;
    this.detachedAt = null;
    if (size && (size.cols !== this.size.cols || size.rows !== this.size.rows)) this.resize(size);

    ws.on('message', (data: RawData, isBinary: boolean) => this.input(client, data, isBinary));
    ws.once('close', () => this.detach(client));
  }

  /** Ends the shell (and what it started) and closes every socket showing it. */
  end(code = 1000, reason = 'The terminal session was ended.') {
    if (this.ended) return;
    this.ended = true;
    if (this.expiry) clearTimeout(this.expiry);
    // Output has ended when the shell exited, so every byte is queued ahead of the close frame.
    for (const { ws } of this.clients) ws.close(code, reason);
    this.clients.clear();
    this.backend.close();
    this.onEnd(this);
  }

  private output(chunk: Buffer) {
    this.ring.append(chunk);
    for (const client of this.clients) {
      client.queued += chunk.length;
      client.ws.send(chunk, { binary: true }, () => {
        client.queued -= chunk.length;
        if (this.paused) this.resumeIfDrained();
      });
      if (client.queued > HIGH_WATER && !this.paused) {
        this.paused = true;
        this.backend.output.pause();
      }
    }
  }

  private resumeIfDrained() {
    for (const client of this.clients) if (client.queued >= LOW_WATER) return;
    this.paused = false;
    this.backend.output.resume();
  }

  private input(client: Attachment, data: RawData, isBinary: boolean) {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary) {
      if (!this.backend.input.write(bytes)) {
        client.ws.pause();
        this.backend.input.once('drain', () => client.ws.resume());
      }
      return;
    }
    const size = parseControl(bytes.toString('utf8'));
    if (!size) {
      this.log.info({ message: bytes.toString('utf8').slice(0, 200) }, 'closed a terminal socket on a malformed control message');
      client.ws.close(4400, 'Text frames must be JSON like {"type":"resize","cols":80,"rows":24}.');
      return;
    }
    this.resize(size);
  }

  private resize(size: TerminalSize) {
    this.size = size;
    this.backend.resize(size.cols, size.rows);
  }

  private detach(client: Attachment) {
    if (!this.clients.delete(client) || this.ended) return;
    // A slow client that left must not keep the shell paused for the others.
    if (this.paused) this.resumeIfDrained();
    if (this.clients.size) return;
    this.detachedAt = new Date();
    this.expiry = setTimeout(() => this.end(1000, 'The terminal session expired.'), this.detachMs);
    this.expiry.unref();
  }
}

function parseControl(text: string): TerminalSize | null {
  try {
    const message = JSON.parse(text) as { type?: unknown; cols?: unknown; rows?: unknown };
    return message?.type === 'resize' ? parseSize(message.cols, message.rows) : null;
  } catch {
    return null;
  }
}
