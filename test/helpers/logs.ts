import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../server/src/logger.js';

/** A JSON logger whose lines a test can read back, to assert that something was logged. */
export function captureLogs(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  // The server's own logger (its redaction and serializers), writing where the test can read.
  return { logger: createLogger(level, sink), lines };
}
