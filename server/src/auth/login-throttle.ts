/** Five free tries, then the wait doubles with each failure, up to fifteen minutes. */
const FREE_ATTEMPTS = 5;
const MAX_WAIT_MS = 15 * 60_000;

export function loginWaitMs(failedLogins: number, lastFailedAt: Date | null, now = Date.now()): number {
  if (failedLogins < FREE_ATTEMPTS || !lastFailedAt) return 0;
  const wait = Math.min(1000 * 2 ** (failedLogins - FREE_ATTEMPTS), MAX_WAIT_MS);
  return Math.max(0, lastFailedAt.getTime() + wait - now);
}
