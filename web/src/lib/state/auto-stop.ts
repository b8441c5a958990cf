/**
 * What the Spaces page says about Knot stopping a space by itself: the countdown before a planned
 * stop ("Stops in 9 min — idle") and why a stopped space was stopped. Plain functions of the
 * space's fields and the time, so the row re-renders them each second without asking the server.
 */

/** The server's reasons (Space.autoStopReason, Space.stoppedReason). */
export type AutoStopReason = 'SCHEDULE' | 'MAX_UPTIME' | 'IDLE';

const REASON_WORDS: Record<AutoStopReason, string> = {
  IDLE: 'idle',
  MAX_UPTIME: 'maximum uptime',
  SCHEDULE: 'end of schedule',
};

const STOPPED_BECAUSE: Record<AutoStopReason, string> = {
  IDLE: 'Stopped by Knot: nobody used it for the template’s idle timeout.',
  MAX_UPTIME: 'Stopped by Knot: it reached the template’s maximum uptime.',
  SCHEDULE: 'Stopped by Knot: its schedule window ended.',
};

/** "45 s", "9 min", "2 h 5 min": rounded up, so "Stops in 1 min" never means it already stopped. */
export function formatRemaining(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}

/** The countdown for a running space with a planned stop; null when none is planned. */
export function autoStopCountdown(autoStopAt: string | null | undefined, reason: AutoStopReason | null | undefined, now: number): string | null {
  if (!autoStopAt || !reason) return null;
  const left = new Date(autoStopAt).getTime() - now;
  if (Number.isNaN(left)) return null;
  return left <= 0 ? `Stopping now — ${REASON_WORDS[reason]}` : `Stops in ${formatRemaining(left)} — ${REASON_WORDS[reason]}`;
}

/** Whether Keep running can help: it moves idle and uptime stops, never a schedule's end. */
export const canKeepRunning = (reason: AutoStopReason | null | undefined): boolean => reason === 'IDLE' || reason === 'MAX_UPTIME';

/** Why a stopped space was stopped by Knot; null after a stop by a person. */
export function stoppedBecause(reason: AutoStopReason | null | undefined): string | null {
  return reason ? STOPPED_BECAUSE[reason] : null;
}
