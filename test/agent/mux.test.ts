import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Mux, type MuxStream } from '../../protocol/mux.js';
import { MAX_DATA, STREAM_WINDOW, type StreamControl } from '../../protocol/agent-wire.js';
import { waitFor } from '../helpers/wait.js';

/** Two multiplexers joined back to back, delivering each frame on a later tick, as a socket would. */
function pair() {
  const wire = { dataBytes: 0, largestFrame: 0 };
  const a: Mux = new Mux({
    sendControl: (m) => setImmediate(() => b.handleControl(m as StreamControl)),
    sendData: (id, payload) => {
      wire.dataBytes += payload.length;
      wire.largestFrame = Math.max(wire.largestFrame, payload.length);
      const copy = Buffer.from(payload);
      setImmediate(() => b.handleData(id, copy));
    },
  });
  const b: Mux = new Mux({
    sendControl: (m) => setImmediate(() => a.handleControl(m as StreamControl)),
    sendData: (id, payload) => {
      const copy = Buffer.from(payload);
      setImmediate(() => a.handleData(id, copy));
    },
  });
  return { a: a.add(1), b: b.add(1), wire };
}

/** A producer that makes 32 MiB as fast as it is asked, counting what it was asked for. */
function producer(total: number) {
  let made = 0;
  const hash = createHash('sha256');
  const stream = new Readable({
    read() {
      if (made >= total) return void this.push(null);
      const chunk = Buffer.alloc(Math.min(256 * 1024, total - made), made % 251);
      made += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, made: () => made, digest: () => hash.digest('hex') };
}

describe('stream flow control', () => {
  it('holds a fast producer back while the reader does not read, then delivers every byte in order', async () => {
    const { a, b, wire } = pair();
    const source = producer(32 * 1024 * 1024);
    source.stream.pipe(a);
    b.pause();

    // Let it run until it stalls: nothing more crosses the wire.
    let last = -1;
    await waitFor(
      () => {
        const stalled = wire.dataBytes === last && wire.dataBytes > 0;
        last = wire.dataBytes;
        return stalled;
      },
      { interval: 100, what: 'the producer to stall' },
    );
    expect(wire.dataBytes).toBeLessThanOrEqual(STREAM_WINDOW);
    expect(wire.largestFrame).toBeLessThanOrEqual(MAX_DATA);
    // Buffered: the window on the wire, plus a few stream buffers — not the 32 MiB on offer.
    expect(source.made()).toBeLessThan(2 * 1024 * 1024);

    const received = createHash('sha256');
    let count = 0;
    b.on('data', (chunk: Buffer) => {
      received.update(chunk);
      count += chunk.length;
    });
    b.resume();
    await new Promise((resolve) => b.once('end', resolve));
    expect(count).toBe(32 * 1024 * 1024);
    expect(received.digest('hex')).toBe(source.digest());
  });

  it('half-closes like TCP, and an abort reaches the other side as a close without an error event', async () => {
    const { a, b } = pair();
    const fromB: Buffer[] = [];
    a.on('data', (c: Buffer) => fromB.push(c));
    b.on('data', (c: Buffer) => b.write(c));
    b.once('end', () => b.end());
    a.end('ping');
    await new Promise((resolve) => a.once('end', resolve));
    expect(Buffer.concat(fromB).toString()).toBe('ping');

    const { a: a2, b: b2 } = pair();
    const errors: unknown[] = [];
    b2.on('error', (err) => errors.push(err));
    a2.on('error', () => {}); // the side that aborts hears its own error, as any Node stream does
    a2.destroy(new Error('the terminal closed'));
    await new Promise((resolve) => b2.once('close', resolve));
    expect((b2 as MuxStream).closeReason).toBe('the terminal closed');
    expect(errors).toEqual([]);
  });
});
