// The engine streams events as JSON objects, one per line; a chunk may hold several objects or
// end in the middle of one. Pulls are read with docker-modem's followProgress (streams.ts); events
// are not: it hands over only JSON.parse's result, which rounds an event's 19-digit timeNano to a
// multiple of 256 ns (1796068020804123456 → 1796068020804123392), and events.ts compares timeNano
// to skip what a replay after a reconnect delivers twice, so two events in one 256 ns step (a
// burst of containers dying together) would compare equal and the second be dropped. This reader
// passes the raw line for it, and skips a garbled line where followProgress would throw from its
// 'data' handler.
import type { Readable } from 'node:stream';

/**
 * Calls onObject for each JSON line (with the raw line, for numbers too big for a double);
 * resolves when the stream ends, rejects if it breaks.
 */
export function readJsonLines(stream: Readable, onObject: (obj: unknown, line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const flush = (final: boolean) => {
      const lines = buffered.split('\n');
      buffered = final ? '' : (lines.pop() ?? '');
      for (const line of lines) {
        if (!line.trim()) continue;
        let obj: unknown;
        try {
          obj = JSON.parse(line);
        } catch {
          continue; // one garbled line is not worth losing the stream for
        }
        try {
          onObject(obj, line);
        } catch (err) {
          stream.destroy();
          reject(err);
          return;
        }
      }
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      flush(false);
    });
    stream.once('end', () => {
      flush(true);
      resolve();
    });
    stream.once('error', reject);
    // A destroyed socket may emit only 'close'; then the stream did not end properly.
    stream.once('close', () => {
      if (!stream.readableEnded) reject(Object.assign(new Error('stream closed early'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
  });
}
