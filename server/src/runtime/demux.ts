// Without a tty the engine multiplexes stdout and stderr on one connection: each frame is
// an 8-byte header (stream type, 3 zero bytes, big-endian payload size) and the payload.
import type { Readable, Writable } from 'node:stream';

const HEADER = 8;
const STDERR = 2;

/** Splits a live multiplexed stream; ends both outputs when the source ends or breaks. */
export function demuxStream(source: Readable, stdout: Writable, stderr: Writable): void {
  let pending: Buffer = Buffer.alloc(0);
  source.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= HEADER) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER + size) break;
      (pending[0] === STDERR ? stderr : stdout).write(pending.subarray(HEADER, HEADER + size));
      pending = pending.subarray(HEADER + size);
    }
  });
  source.once('close', () => {
    stdout.end();
    stderr.end();
  });
}

/** Splits a complete multiplexed buffer (container logs); a raw (tty) buffer is all stdout. */
export function demuxBuffer(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let at = 0;
  while (at + HEADER <= buf.length) {
    const type = buf[at]!;
    if (type > STDERR || buf.readUIntBE(at + 1, 3) !== 0) return { stdout: buf.toString('utf8'), stderr: '' };
    const size = buf.readUInt32BE(at + 4);
    (type === STDERR ? err : out).push(buf.subarray(at + HEADER, at + HEADER + size));
    at += HEADER + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
