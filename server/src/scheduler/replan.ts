import { and, eq, sql, type SQL } from 'drizzle-orm';
import { spaces, templates, users } from '../../../schema/db/index.js';
import type { Config } from '../config.js';
import type { SpaceDeps } from '../spaces/deps.js';
import { publishSpace } from '../spaces/store.js';
import { planAutoStop, planColumns, type AutoStop } from './plan.js';

/**
 * Writes a running space's planned automatic stop (the scheduler's four columns on the row).
 * Every write is conditional on the inputs read (activity, uptime start, the warning), so a
 * plan made from stale inputs is retried from fresh ones instead of overwriting newer news.
 */

export type PlanDeps = Pick<SpaceDeps, 'db' | 'pubsub'> & { config: Pick<Config, 'autoStopWarningSeconds'> };

/** A running space as the planner reads it. */
export async function readPlanRows(db: PlanDeps['db'], where: SQL) {
  return db
    .select({
      id: spaces.id,
      ownerId: spaces.ownerId,
      uptimeSince: spaces.uptimeSince,
      lastActivityAt: spaces.lastActivityAt,
      autoStopAt: spaces.autoStopAt,
      autoStopReason: spaces.autoStopReason,
      autoStopWarnedAt: spaces.autoStopWarnedAt,
      schedulerDueAt: spaces.schedulerDueAt,
      platform: templates.platform,
      schedule: templates.schedule,
      maxUptimeSeconds: templates.maxUptimeSeconds,
      idleTimeoutSeconds: templates.idleTimeoutSeconds,
      timezone: users.timezone,
    })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .innerJoin(users, eq(users.id, spaces.ownerId))
    .where(and(eq(spaces.status, 'RUNNING'), where));
}
export type PlanRow = Awaited<ReturnType<typeof readPlanRows>>[number];

export const planFor = (row: PlanRow, now: Date): AutoStop | null => planAutoStop(row, row, row.timezone, now);

/** A raw parameter is not mapped by the column: the driver takes a string. */
const timestamp = (at: Date | null) => sql`${at ? at.toISOString() : null}::timestamptz`;

/** The row is still as it was read: nothing the plan depends on moved meanwhile. */
export function unchangedSince(row: PlanRow): SQL {
  return and(
    eq(spaces.status, 'RUNNING'),
    sql`${spaces.lastActivityAt} is not distinct from ${timestamp(row.lastActivityAt)}`,
    sql`${spaces.uptimeSince} is not distinct from ${timestamp(row.uptimeSince)}`,
    sql`${spaces.autoStopWarnedAt} is not distinct from ${timestamp(row.autoStopWarnedAt)}`,
  )!;
}

const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/**
 * Recomputes and writes one row's plan; true when the write held (or nothing changed). Subscribers
 * hear AUTO_STOP when what they see moved, and every scheduler when the next due time came earlier.
 */
export async function writePlan(deps: PlanDeps, row: PlanRow, now: Date, extra: Partial<typeof spaces.$inferInsert> = {}): Promise<boolean> {
  const columns = planColumns(planFor({ ...row, ...(extra as object) } as PlanRow, now), now, deps.config.autoStopWarningSeconds, row);
  const visible =
    !sameTime(columns.autoStopAt, row.autoStopAt) || columns.autoStopReason !== row.autoStopReason || !sameTime(columns.autoStopWarnedAt, row.autoStopWarnedAt);
  if (!visible && !Object.keys(extra).length && sameTime(columns.schedulerDueAt, row.schedulerDueAt)) return true;
  const [written] = await deps.db
    .update(spaces)
    .set({ ...extra, ...columns })
    .where(and(eq(spaces.id, row.id), unchangedSince(row)))
    .returning({ id: spaces.id });
  if (!written) return false;
  await announcePlan(deps, row, columns.schedulerDueAt, visible);
  return true;
}

export async function announcePlan(deps: PlanDeps, row: Pick<PlanRow, 'id' | 'ownerId' | 'schedulerDueAt'>, dueAt: Date | null, visible: boolean) {
  await Promise.all([
    visible && publishSpace(deps.pubsub, row, 'AUTO_STOP'),
    dueAt && (!row.schedulerDueAt || dueAt < row.schedulerDueAt) && deps.pubsub.publish('schedule', { dueAt: dueAt.getTime() }),
  ]);
}

/** Re-plans every running space `where` selects (after a template or an owner's time zone changed). */
export async function replanSpaces(deps: PlanDeps, where: SQL): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = new Date();
    const rows = await readPlanRows(deps.db, where);
    const lost: string[] = [];
    for (const row of rows) if (!(await writePlan(deps, row, now))) lost.push(row.id);
    if (!lost.length) return;
    where = sql`${spaces.id} in ${lost}`;
  }
}
