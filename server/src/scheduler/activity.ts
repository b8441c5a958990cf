import { inArray, sql } from 'drizzle-orm';
import { spaces } from '../../../schema/db/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { replanSpaces, type PlanDeps } from './replan.js';

/**
 * Activity that keeps a space from counting as idle: terminal input, proxied HTTP and WebSocket
 * traffic, forwarded TCP/SSH bytes, and what the agent reports (an SSH login, a busy
 * code-server). A touch costs a map write: each replica keeps the latest moment per space and
 * writes them all in one statement every `activityFlushMs` (a few seconds), so a space typed in
 * a thousand times a second is still one write per flush.
 *
 * The stored plan is not moved at every write: auto_stop_at stays a lower bound, and the
 * scheduler plans again when it comes due (see scheduler.ts). Only a plan already warned about,
 * or one that fell a minute or more behind, is planned again here, so subscribers hear it.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** How far the shown idle stop may lag behind the activity before subscribers are told. */
const STALE_PLAN_SECONDS = 60;

export class ActivityRecorder {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: PlanDeps & { log: Logger; config: Pick<Config, 'activityFlushMs'> },
  ) {}

  /** Counts activity in a space now; cheap enough for every keystroke and every proxied chunk. */
  touch(spaceId: string): void {
    // Only ids (one bad value would fail the whole batch's write).
    if (this.stopped || !UUID.test(spaceId)) return;
    this.pending.set(spaceId, Date.now());
    if (!this.timer && !this.flushing) this.arm();
  }

  private arm() {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush()
        .catch((err) => this.deps.log.warn({ err }, 'could not record space activity; keeping it for the next write'))
        .finally(() => {
          this.flushing = undefined;
          if (this.pending.size && !this.stopped) this.arm();
        });
    }, this.deps.config.activityFlushMs);
    this.timer.unref();
  }

  /** Writes what was coalesced (also at shutdown, so the last activity is not lost). */
  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const batch = [...this.pending].map(([id, at]) => ({ id, at: new Date(at).toISOString() }));
    this.pending.clear();
    let result;
    try {
      // Rows locked in id order, like the agent report writer's, so concurrent writers never deadlock.
      result = await this.deps.db.execute(sql`
        with v as (select * from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as v(id uuid, at timestamptz)),
        locked as (select spaces.id from spaces join v on v.id = spaces.id where spaces.status = 'RUNNING' order by spaces.id for update of spaces)
        update spaces set last_activity_at = greatest(coalesce(spaces.last_activity_at, v.at), v.at)
        from v, locked, templates
        where spaces.id = v.id and spaces.id = locked.id and templates.id = spaces.template_id
        returning spaces.id as id,
          (spaces.auto_stop_reason = 'IDLE' and (spaces.auto_stop_warned_at is not null
            or spaces.auto_stop_at + ${STALE_PLAN_SECONDS} * interval '1 second' <= spaces.last_activity_at + templates.idle_timeout_seconds * interval '1 second')) as stale`);
    } catch (err) {
      // Kept for the next write, unless newer activity arrived meanwhile.
      for (const { id, at } of batch) if (!this.pending.has(id)) this.pending.set(id, Date.parse(at));
      throw err;
    }
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { id: string; stale: boolean }[];
    const stale = rows.filter((r) => r.stale).map((r) => r.id);
    if (stale.length) await replanSpaces(this.deps, inArray(spaces.id, stale));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush().catch((err) => this.deps.log.warn({ err }, 'could not record the last space activity'));
  }
}
