// A stop must end in a few seconds whatever its peers do: a frozen browser tab never answers a
// close frame, a start job may be pulling a large image, a stop job waits out its grace period.
// Each wait is bounded; whatever is cut off is settled at the next start (boot reconciliation
// and the garbage collector).
import type { Duplex } from 'node:stream';
import type { Logger } from './logger.js';

/** Resolves true when `work` settled within `ms`, false (with a log line) when it was cut off. */
export async function waitAtMost(log: Logger, what: string, ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const cutOff = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = work.then(
    () => true as const,
    (err: unknown) => {
      log.warn({ err }, `shutdown: ${what} failed`);
      return true as const;
    },
  );
  const settled = await Promise.race([done, cutOff]);
  clearTimeout(timer);
  if (!settled) log.warn({ waitedMs: ms }, `shutdown: stopped waiting for ${what}`);
  return settled;
}

/** Sockets taken over by an upgrade: the HTTP server no longer cuts them, so shutdown must. */
export class UpgradedSockets {
  private readonly open = new Set<Duplex>();

  add(socket: Duplex): void {
    this.open.add(socket);
    socket.once('close', () => this.open.delete(socket));
  }

  destroyAll(): number {
    const count = this.open.size;
    for (const socket of this.open) socket.destroy();
    this.open.clear();
    return count;
  }
}
