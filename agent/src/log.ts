import { createWriteStream } from 'node:fs';

/** One line per event on stderr, where a container's logs are collected. */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/**
 * `file` (KNOT_AGENT_LOG_FILE) replaces stderr: an agent that Knot starts with `docker exec` has no
 * one reading its stderr, so it writes where a person in the space can look. A file that cannot be
 * written leaves the lines on stderr.
 */
export function createLog(debug = false, file?: string): Log {
  let out: NodeJS.WritableStream = process.stderr;
  if (file) {
    const stream = createWriteStream(file, { flags: 'a' });
    stream.on('error', () => (out = process.stderr));
    out = stream;
  }
  const line = (level: string, message: string) => out.write(`${new Date().toISOString()} knot-agent ${level} ${message}\n`);
  return {
    info: (message) => line('info', message),
    warn: (message) => line('warn', message),
    debug: (message) => debug && line('debug', message),
  };
}
