import { and, asc, eq, isNotNull, lte, min, sql } from 'drizzle-orm';
import { spaces } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { SpaceDeps } from '../spaces/deps.js';
import type { SpaceJobs } from '../spaces/jobs.js';
import { autoStopSpace, SCHEDULER } from '../spaces/lifecycle.js';
import { publishSpace } from '../spaces/store.js';
import { recordSpaceEvent } from '../webhooks/events.js';
import { warningAt } from './plan.js';
import { planFor, readPlanRows, unchangedSince, writePlan, type PlanRow } from './replan.js';

/**
 * Takes the automatic actions that come due: the warning before a planned stop, then the stop.
 * The due times live on the rows (spaces.scheduler_due_at, indexed), so a restarted server loses
 * nothing; each replica sleeps until the earliest one, and wakes earlier when any replica
 * publishes an earlier one (the `schedule` event). An action is a conditional UPDATE of the row
 * as it was read, so when several replicas wake for the same due time exactly one takes it.
 */

/** Asked again at least this often, in case an event was lost (a dropped LISTEN). */
const MAX_SLEEP_MS = 30_000;
/** Due spaces handled per query; a backlog is worked off batch by batch. */
const BATCH = 200;
/** After a failure (the database went away), the next look. */
const RETRY_MS = 1_000;
/** How many due spaces are handled at once. */
const PARALLEL = 8;

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private working: Promise<void> | undefined;
  /** The earliest wake-up asked for while working (epoch ms). */
  private wakeAfterWork = Infinity;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: SpaceDeps,
    private readonly jobs: SpaceJobs,
  ) {}

  start(): void {
    this.unsubscribe = this.deps.pubsub.on('schedule', ({ dueAt }) => this.wakeBy(dueAt));
    this.wakeBy(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.working;
  }

  /** Makes sure the scheduler looks no later than `dueAt` (epoch ms). */
  wakeBy(dueAt: number): void {
    if (this.stopped) return;
    if (this.working) {
      this.wakeAfterWork = Math.min(this.wakeAfterWork, dueAt);
      return;
    }
    if (dueAt >= this.wakeAt) return;
    this.wakeAt = dueAt;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), Math.max(0, Math.min(dueAt - Date.now(), MAX_SLEEP_MS)));
    this.timer.unref();
  }

  private run() {
    this.wakeAt = Infinity;
    this.working = this.work()
      .catch((err) => {
        this.deps.log.warn({ err }, 'the scheduler failed; trying again shortly');
        return Date.now() + RETRY_MS;
      })
      .then((next) => {
        this.working = undefined;
        const asked = this.wakeAfterWork;
        this.wakeAfterWork = Infinity;
        this.wakeBy(Math.min(asked, next ?? Date.now() + MAX_SLEEP_MS));
      });
  }

  /** Handles everything due now; resolves to the next due time (epoch ms), or null when none. */
  private async work(): Promise<number | null> {
    let failed = false;
    for (;;) {
      const now = new Date();
      const due = await this.deps.db
        .select({ id: spaces.id })
        .from(spaces)
        .where(and(isNotNull(spaces.schedulerDueAt), lte(spaces.schedulerDueAt, now)))
        .orderBy(asc(spaces.schedulerDueAt))
        .limit(BATCH);
      for (let i = 0; i < due.length && !this.stopped; i += PARALLEL) {
        await Promise.all(
          due.slice(i, i + PARALLEL).map(({ id }) =>
            this.handle(id).catch((err) => {
              failed = true;
              this.deps.log.warn({ err, spaceId: id }, 'scheduler: could not act on a space; trying again in a second');
            }),
          ),
        );
      }
      if (this.stopped) return null;
      if (failed || due.length < BATCH) break;
    }
    const [next] = await this.deps.db.select({ at: min(spaces.schedulerDueAt) }).from(spaces).where(isNotNull(spaces.schedulerDueAt));
    const at = next?.at ? new Date(next.at).getTime() : null;
    // A space that failed is still due: not again at once, or a lasting fault would spin.
    return failed ? Math.max(at ?? 0, Date.now() + RETRY_MS) : at;
  }

  /** One due space: stop it, warn its owner, or (when activity or Keep running moved it) plan again. */
  async handle(spaceId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const [row] = await readPlanRows(this.deps.db, eq(spaces.id, spaceId));
      if (!row) {
        // Not running any more: leaving RUNNING clears the due time, so this is a leftover of a crash.
        await this.deps.db.update(spaces).set({ schedulerDueAt: null }).where(and(eq(spaces.id, spaceId), sql`${spaces.status} <> 'RUNNING'`));
        return;
      }
      if (await this.act(row, new Date())) return;
    }
  }

  /** False when another writer moved the row meanwhile (read it again). */
  private async act(row: PlanRow, now: Date): Promise<boolean> {
    const stop = planFor(row, now);
    if (stop && stop.at <= now) {
      // Lost to another replica or to fresh activity: either way, not ours to stop (false re-reads).
      const stopped = await autoStopSpace(this.deps, this.jobs, row.id, stop.reason, unchangedSince(row), stop.at);
      if (stopped) this.deps.log.info({ spaceId: row.id, reason: stop.reason, lateMs: now.getTime() - stop.at.getTime() }, 'stopped a space automatically');
      return stopped;
    }
    const stillWarned = !!row.autoStopWarnedAt && !!row.autoStopAt && !!stop && stop.at <= row.autoStopAt;
    if (stop && !stillWarned && warningAt(stop, this.deps.config.autoStopWarningSeconds) <= now) {
      const warned = await this.deps.db.transaction(async (tx) => {
        const [moved] = await tx
          .update(spaces)
          .set({ autoStopAt: stop.at, autoStopReason: stop.reason, autoStopWarnedAt: now, schedulerDueAt: stop.at })
          .where(and(eq(spaces.id, row.id), unchangedSince(row)))
          .returning();
        // Only the replica whose write won warns, so a webhook hears it once.
        if (moved) await recordSpaceEvent(tx, 'space.auto_stop_warning', moved, { reason: stop.reason, stopsAt: stop.at.toISOString() });
        return moved;
      });
      if (!warned) return false;
      await Promise.all([
        publishSpace(this.deps.pubsub, row, 'AUTO_STOP_WARNING'),
        recordAudit(this.deps.db, { id: null, name: SCHEDULER.system }, {
          action: 'warnAutoStop',
          objectType: 'space',
          objectId: row.id,
          details: { reason: stop.reason, stopsAt: stop.at.toISOString() },
        }),
        this.deps.pubsub.publish('schedule', { dueAt: stop.at.getTime() }),
      ]);
      return true;
    }
    return writePlan(this.deps, row, now);
  }
}
