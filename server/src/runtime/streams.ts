// The engine's two stream formats, read with docker-modem's own helpers: multiplexed
// stdout/stderr frames (demuxStream; exec.ts uses it directly on a live exec) and JSON progress
// lines (followProgress).
import { PassThrough, Writable, type Readable } from 'node:stream';
import type Docker from 'dockerode';

type Modem = Docker['modem'];

/** Container logs, which arrive whole: multiplexed, or raw for a container with a tty (all stdout). */
export async function splitLogs(modem: Modem, logs: Buffer): Promise<{ stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const into = (chunks: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
  const source = new PassThrough();
  const ended = new Promise((resolve) => source.once('end', resolve));
  modem.demuxStream(source, into(out), into(err));
  source.end(logs);
  await ended;
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/**
 * Calls onMessage for each JSON line of a progress stream (an image pull); resolves when the
 * engine ends it, rejects when it breaks. followProgress reports a close without an end as a
 * finish, so that case is told apart here: a pull cut halfway is not a pull done.
 */
export function followProgress<T>(modem: Modem, stream: Readable, onMessage: (message: T) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    modem.followProgress(
      stream,
      (err: Error | null) => {
        if (err) reject(err);
        else if (!stream.readableEnded) reject(Object.assign(new Error('the engine closed the stream early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
        else resolve();
      },
      (message: T) => onMessage(message),
    );
  });
}
