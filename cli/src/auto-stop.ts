/**
 * How the CLI words Knot's automatic stops: the countdown of a planned stop ("stops in 9 min — idle")
 * and why Knot stopped a space. Same words as the Spaces page (web/src/lib/state/auto-stop.ts); the
 * CLI may not import the web UI, so the few lines are its own.
 */
import type { Space } from './documents.js';

type Reason = NonNullable<Space['autoStopReason']>;

const REASON_WORDS: Record<Reason, string> = { IDLE: 'idle', MAX_UPTIME: 'maximum uptime', SCHEDULE: 'end of schedule' };

const STOPPED_BECAUSE: Record<Reason, string> = {
  IDLE: 'stopped by Knot: idle',
  MAX_UPTIME: 'stopped by Knot: maximum uptime reached',
  SCHEDULE: 'stopped by Knot: schedule window ended',
};

/** "45 s", "9 min", "2 h 5 min": rounded up, so "1 min" never means it already stopped. */
function remaining(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const rest = minutes % 60;
  return `${Math.floor(minutes / 60)} h${rest ? ` ${rest} min` : ''}`;
}

/** The planned stop of a running space ("stops in 9 min — idle"), or null when none is planned. */
export function countdown(space: Pick<Space, 'autoStopAt' | 'autoStopReason'>, now = Date.now()): string | null {
  if (!space.autoStopAt || !space.autoStopReason) return null;
  const left = new Date(space.autoStopAt).getTime() - now;
  const words = REASON_WORDS[space.autoStopReason];
  return left <= 0 ? `stopping now — ${words}` : `stops in ${remaining(left)} — ${words}`;
}

/** Why Knot stopped a space, or null after a stop by a person. */
export const stoppedBecause = (space: Pick<Space, 'stoppedReason'>): string | null => (space.stoppedReason ? STOPPED_BECAUSE[space.stoppedReason] : null);
