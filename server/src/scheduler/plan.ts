import type { AutoStopReason } from '../../../protocol/enums.js';
import type { ScheduleWindow } from '../../../schema/db/index.js';
import { scheduleEnd } from './schedule.js';

/**
 * When Knot will stop a running space by itself, and why: the earliest of the schedule window's
 * end, the maximum uptime and the idle timeout. Pure, so every replica that computes it from the
 * same row agrees; the scheduler stores it on the row (auto_stop_at) and acts on it.
 */

export interface AutoStop {
  at: Date;
  reason: AutoStopReason;
}

export interface PlanTemplate {
  platform: 'DOCKER' | 'MANUAL';
  schedule: ScheduleWindow[];
  maxUptimeSeconds: number | null;
  idleTimeoutSeconds: number | null;
}

export interface PlanSpace {
  uptimeSince: Date | null;
  lastActivityAt: Date | null;
}

export function planAutoStop(space: PlanSpace, template: PlanTemplate, timezone: string, now: Date): AutoStop | null {
  // A manual space runs while its agent is connected: Knot cannot stop it.
  if (template.platform !== 'DOCKER') return null;
  const since = space.uptimeSince ?? now;
  const candidates: AutoStop[] = [];
  // Listed first: on a tie the schedule is the reason, since Keep running cannot move it.
  const windowEnd = scheduleEnd(template.schedule, timezone, now);
  if (windowEnd) candidates.push({ at: windowEnd, reason: 'SCHEDULE' });
  if (template.maxUptimeSeconds) candidates.push({ at: new Date(since.getTime() + template.maxUptimeSeconds * 1000), reason: 'MAX_UPTIME' });
  if (template.idleTimeoutSeconds) {
    const active = Math.max(since.getTime(), space.lastActivityAt?.getTime() ?? 0);
    candidates.push({ at: new Date(active + template.idleTimeoutSeconds * 1000), reason: 'IDLE' });
  }
  return candidates.reduce<AutoStop | null>((best, c) => (!best || c.at < best.at ? c : best), null);
}

/** When the warning for a planned stop is due. */
export const warningAt = (stop: AutoStop, warningSeconds: number) => new Date(stop.at.getTime() - warningSeconds * 1000);

/**
 * The scheduler's columns for a plan made at `now`: it next looks at the space when the warning
 * is due, or (once warned) when the stop is. `warned` carries over only while the stop does not
 * move later (a warning about an earlier time is void).
 */
export function planColumns(stop: AutoStop | null, now: Date, warningSeconds: number, previous?: { autoStopAt: Date | null; autoStopWarnedAt: Date | null }) {
  if (!stop) return { autoStopAt: null, autoStopReason: null, autoStopWarnedAt: null, schedulerDueAt: null };
  const keepsWarning = !!previous?.autoStopWarnedAt && !!previous.autoStopAt && stop.at <= previous.autoStopAt;
  const warnAt = warningAt(stop, warningSeconds);
  const warned = keepsWarning ? previous!.autoStopWarnedAt : null;
  return {
    autoStopAt: stop.at,
    autoStopReason: stop.reason,
    autoStopWarnedAt: warned,
    schedulerDueAt: warned || warnAt <= now ? (warned ? stop.at : now) : warnAt,
  };
}
