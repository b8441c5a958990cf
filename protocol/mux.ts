import { Duplex } from 'node:stream';
import { ACK_THRESHOLD, MAX_DATA, STREAM_WINDOW, type StreamControl } from './agent-wire.js';

/** How a multiplexer puts frames on its WebSocket. */
export interface MuxTransport {
  sendControl(message: StreamControl | { t: 'exit'; id: number; code: number }): void;
  sendData(id: number, payload: Buffer): void;
}

/**
 * The streams multiplexed over one agent WebSocket, on either side. Both sides run the same code:
 * the server for the Duplex it hands to terminals and proxies, the agent for the one it pipes to a
 * TCP socket or a pty.
 */
export class Mux {
  private streams = new Map<number, MuxStream>();

  constructor(readonly transport: MuxTransport) {}

  get size(): number {
    return this.streams.size;
  }

  has(id: number): boolean {
    return this.streams.has(id);
  }

  get(id: number): MuxStream | undefined {
    return this.streams.get(id);
  }

  add(id: number): MuxStream {
    const stream = new MuxStream(id, this);
    this.streams.set(id, stream);
    return stream;
  }

  /** @internal called by a stream once it is gone. */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** Data for a stream that is already gone is dropped: it was in flight when we closed it. */
  handleData(id: number, payload: Buffer): void {
    this.streams.get(id)?.receive(payload);
  }

  handleControl(message: StreamControl): void {
    const stream = this.streams.get(message.id);
    if (!stream) return;
    if (message.t === 'ack') stream.credit(message.n);
    else if (message.t === 'end') stream.remoteEnded();
    else stream.remoteClosed(message.message, message.detach === true);
  }

  /** The WebSocket is gone: every stream fails. */
  closeAll(reason: string): void {
    for (const stream of [...this.streams.values()]) stream.remoteClosed(reason);
    this.streams.clear();
  }
}

/**
 * One stream: writes become data frames within the peer's credit (a write's callback waits for
 * credit, which is how backpressure reaches a piped producer); received data is acknowledged as
 * the reader consumes it. `end()` half-closes like TCP; `destroy()` aborts the stream on both sides.
 * When the other side aborts, the stream is destroyed without an 'error' event (an unheard 'error'
 * would crash the server): 'close' comes without 'end', which `finished()`/`pipeline()` report as
 * a premature close, and `closeReason` says why.
 */
export class MuxStream extends Duplex {
  /** Set by the agent before end() on a shell stream: sent ahead of the end, after all output. */
  exitCode: number | null = null;
  /** Why the other side (or a protocol violation) ended the stream, if it did not end cleanly. */
  closeReason: string | null = null;
  /** The other side closed it with `detach` (StreamControl): a kept shell behind it waits for a resume. */
  detached = false;
  /** Set by detach() before destroying: the close sent says so. */
  private detaching = false;
  private sendCredit = STREAM_WINDOW;
  private pending: { chunk: Buffer; callback: (error?: Error | null) => void } | null = null;
  /** Received and pushed to our reader, not yet acknowledged. */
  private unacked = 0;
  private sentEnd = false;
  private gotEnd = false;
  /** The other side has closed or aborted: nothing more is sent. */
  private gone = false;

  constructor(readonly id: number, private mux: Mux) {
    super({ allowHalfOpen: true, readableHighWaterMark: MAX_DATA, writableHighWaterMark: MAX_DATA });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.pending = { chunk, callback };
    this.flush();
  }

  private flush() {
    const pending = this.pending;
    if (!pending) return;
    if (this.gone) {
      this.pending = null;
      pending.callback();
      return;
    }
    while (pending.chunk.length > 0 && this.sendCredit > 0) {
      const n = Math.min(pending.chunk.length, MAX_DATA, this.sendCredit);
      this.mux.transport.sendData(this.id, pending.chunk.subarray(0, n));
      this.sendCredit -= n;
      pending.chunk = pending.chunk.subarray(n);
    }
    if (pending.chunk.length === 0) {
      this.pending = null;
      pending.callback();
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.gone) {
      if (this.exitCode !== null) this.mux.transport.sendControl({ t: 'exit', id: this.id, code: this.exitCode });
      this.mux.transport.sendControl({ t: 'end', id: this.id });
    }
    this.sentEnd = true;
    callback();
  }

  override _read(): void {
    if (this.unacked >= ACK_THRESHOLD) this.acknowledge();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.gone && !(this.sentEnd && this.gotEnd)) {
      const message = error?.message ?? this.closeReason ?? undefined;
      this.mux.transport.sendControl(this.detaching ? { t: 'close', id: this.id, message, detach: true } : { t: 'close', id: this.id, message });
    }
    this.gone = true;
    this.mux.forget(this.id);
    if (this.pending) {
      const { callback: pendingCallback } = this.pending;
      this.pending = null;
      // Not an error: the destroy itself tells the writer; an extra 'error' could go unheard and crash.
      pendingCallback();
    }
    callback(error);
  }

  private acknowledge() {
    if (this.unacked === 0 || this.gone) return;
    this.mux.transport.sendControl({ t: 'ack', id: this.id, n: this.unacked });
    this.unacked = 0;
  }

  /** @internal */
  receive(payload: Buffer): void {
    if (this.gotEnd || this.destroyed) return;
    if (this.unacked + payload.length > STREAM_WINDOW) {
      // The peer ignored our window: it is broken or hostile, and we will not buffer for it.
      this.closeReason = 'the other side sent more than the flow-control window allows';
      this.destroy();
      return;
    }
    this.unacked += payload.length;
    if (this.push(payload) && this.unacked >= ACK_THRESHOLD) this.acknowledge();
  }

  /** @internal */
  credit(n: number): void {
    this.sendCredit = Math.min(this.sendCredit + n, STREAM_WINDOW);
    this.flush();
  }

  /** @internal */
  remoteEnded(): void {
    if (this.gotEnd) return;
    this.gotEnd = true;
    this.push(null);
  }

  /** Closes the stream telling the other side to keep what is behind it (a kept shell) for a resume. */
  detach(): void {
    this.detaching = true;
    this.destroy();
  }

  /** @internal The other side closed: after a clean end it is a normal close, before it an abort. */
  remoteClosed(message?: string, detach = false): void {
    if (this.destroyed) return;
    this.detached = detach;
    this.gone = true;
    this.flush();
    if (this.gotEnd) {
      // Let our reader finish what was already received before the stream goes.
      if (this.readableEnded) this.destroy();
      else this.once('end', () => this.destroy());
      return;
    }
    this.closeReason = message || 'the stream was closed by the other side';
    this.destroy();
  }
}
