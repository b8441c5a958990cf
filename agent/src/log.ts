/** One line per event on stderr, where a container's logs are collected. */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export function createLog(debug = false): Log {
  const line = (level: string, message: string) => process.stderr.write(`${new Date().toISOString()} knot-agent ${level} ${message}\n`);
  return {
    info: (message) => line('info', message),
    warn: (message) => line('warn', message),
    debug: (message) => debug && line('debug', message),
  };
}
