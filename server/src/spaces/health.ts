import { and, eq, or, ne, isNotNull, sql } from 'drizzle-orm';
import { spaces, templates } from '../../../schema/db/index.js';
import type { HealthState } from '../../../protocol/enums.js';
import type { ContainerEvent } from '../runtime/index.js';
import { LABELS, type SpaceDeps } from './deps.js';
import type { SpaceJobs } from './jobs.js';
import { HEALTH_MONITOR, restartSpace } from './lifecycle.js';
import { publishSpace } from './store.js';
import type { Db } from '../db.js';
import { recordSpaceEvent } from '../webhooks/events.js';

/** One check's outcome, from the agent (the template's check) or from Docker (the image's HEALTHCHECK). */
export interface HealthObservation {
  healthy: boolean;
  /** Failures in a row; `retries` of them make the space UNHEALTHY. Docker reports only once it got there. */
  failures: number;
  retries: number;
  reason: string | null;
}

export interface HealthPolicy {
  /** Wait before the second automatic restart; each later one waits twice as long (the first is at once). */
  restartBackoffMs: number;
  /** Automatic restarts in a row without the space becoming healthy; then it stays UNHEALTHY. */
  restartLimit: number;
}

const running = (id: string) => and(eq(spaces.id, id), eq(spaces.status, 'RUNNING'));

/**
 * Keeps `Space.health` and `healthReason` on the row (every replica's subscribers read them from
 * there) and, for templates with `autoRestart`, restarts a space whose check keeps failing through
 * lifecycle.ts, with exponential backoff up to a cap. The count of restarts is on the row too, and
 * each restart claims its number with a conditional UPDATE, so replicas that all hear Docker's
 * health events restart a space once, and a restarted server keeps counting where it was.
 */
export class SpaceHealth {
  /** Observations of a space are handled one after the other, in the order they came. */
  private queues = new Map<string, Promise<void>>();
  private pendingRestarts = new Map<string, NodeJS.Timeout>();
  private disposed = false;

  constructor(
    private deps: SpaceDeps,
    private jobs: SpaceJobs,
    private policy: HealthPolicy,
  ) {}

  observe(spaceId: string, observation: HealthObservation | Promise<HealthObservation>): void {
    const previous = this.queues.get(spaceId) ?? Promise.resolve();
    const next = previous
      .then(async () => this.handle(spaceId, await observation))
      .catch((err) => this.deps.log.error({ err, spaceId }, 'could not record a health check'))
      .finally(() => {
        if (this.queues.get(spaceId) === next) this.queues.delete(spaceId);
      });
    this.queues.set(spaceId, next);
  }

  /**
   * Docker's verdict on the image's own HEALTHCHECK (its `health_status` events), used where the
   * template declares no check of its own. Docker says "unhealthy" only after its own retries.
   */
  observeDocker(event: ContainerEvent): void {
    const spaceId = event.labels[LABELS.space];
    if (event.action !== 'health_status' || !spaceId || event.labels[LABELS.healthcheck] === 'agent') return;
    if (event.detail === 'healthy') return this.observe(spaceId, { healthy: true, failures: 0, retries: 1, reason: null });
    if (event.detail !== 'unhealthy') return;
    // Queued as a promise, so a later "healthy" cannot overtake the inspect that finds the reason.
    this.observe(
      spaceId,
      this.deps.runtime
        .inspectContainer(event.containerId)
        .catch(() => null)
        .then((info) => ({ healthy: false, failures: 1, retries: 1, reason: info?.health?.lastFailure ?? "the image's HEALTHCHECK failed" })),
    );
  }

  dispose(): void {
    this.disposed = true;
    for (const timer of this.pendingRestarts.values()) clearTimeout(timer);
    this.pendingRestarts.clear();
  }

  private async handle(spaceId: string, o: HealthObservation) {
    if (o.healthy) {
      this.cancelRestart(spaceId);
      // Healthy again: the next failure starts the backoff over.
      await this.write(spaceId, 'HEALTHY', null, { healthRestarts: 0 });
      return;
    }
    // Failing, but fewer times in a row than the check allows: nothing to say yet (as Docker).
    if (o.failures < o.retries) return;
    const [row] = await this.deps.db
      .select({ restarts: spaces.healthRestarts, autoRestart: templates.autoRestart })
      .from(spaces)
      .innerJoin(templates, eq(templates.id, spaces.templateId))
      .where(running(spaceId));
    if (!row) return;
    const reason = o.reason ?? 'the health check failed';
    const { restartLimit } = this.policy;
    if (!row.autoRestart) return void (await this.write(spaceId, 'UNHEALTHY', reason));
    if (row.restarts >= restartLimit) {
      await this.write(spaceId, 'UNHEALTHY', `${reason}. Knot restarted it ${row.restarts} time${row.restarts === 1 ? '' : 's'} and will not again; restart it yourself once it is fixed.`);
      return;
    }
    const delayMs = this.delayBefore(row.restarts);
    const when = delayMs < 1_000 ? 'now' : `in ${Math.round(delayMs / 1_000)} s`;
    await this.write(spaceId, 'UNHEALTHY', `${reason}. Restarting it ${when} (automatic restart ${row.restarts + 1} of ${restartLimit}).`);
    this.scheduleRestart(spaceId, row.restarts, delayMs, reason);
  }

  private delayBefore(restartsSoFar: number): number {
    return restartsSoFar === 0 ? 0 : this.policy.restartBackoffMs * 2 ** (restartsSoFar - 1);
  }

  /** Writes and announces only a change, and only while the space runs. */
  private async write(spaceId: string, health: HealthState, reason: string | null, also: { healthRestarts?: number } = {}) {
    const changed = or(
      ne(spaces.health, health),
      reason === null ? isNotNull(spaces.healthReason) : sql`${spaces.healthReason} is distinct from ${reason}`,
      ...(also.healthRestarts !== undefined ? [ne(spaces.healthRestarts, also.healthRestarts)] : []),
    );
    const update = (db: Db) =>
      db
        .update(spaces)
        .set({ health, healthReason: reason, ...also })
        .where(and(running(spaceId), changed))
        .returning();
    const row =
      health === 'UNHEALTHY'
        ? await this.deps.db.transaction(async (tx) => {
            // Webhooks hear of the space turning unhealthy, not of each new reason while it stays so.
            const [before] = await tx.select({ health: spaces.health }).from(spaces).where(eq(spaces.id, spaceId)).for('update');
            const [moved] = await update(tx);
            if (moved && before?.health !== 'UNHEALTHY') await recordSpaceEvent(tx, 'space.unhealthy', moved, { reason });
            return moved;
          })
        : (await update(this.deps.db))[0];
    if (row) await publishSpace(this.deps.pubsub, row, 'HEALTH');
  }

  private cancelRestart(spaceId: string) {
    clearTimeout(this.pendingRestarts.get(spaceId));
    this.pendingRestarts.delete(spaceId);
  }

  private scheduleRestart(spaceId: string, restartsSoFar: number, delayMs: number, reason: string) {
    if (this.pendingRestarts.has(spaceId) || this.disposed) return;
    const timer = setTimeout(() => {
      this.pendingRestarts.delete(spaceId);
      this.jobs.run(() => this.restart(spaceId, restartsSoFar, reason));
    }, delayMs);
    timer.unref();
    this.pendingRestarts.set(spaceId, timer);
  }

  private async restart(spaceId: string, restartsSoFar: number, reason: string) {
    // Claim this restart's number: another replica (or a check that passed meanwhile) wins or stops it.
    const [claimed] = await this.deps.db
      .update(spaces)
      .set({ healthRestarts: restartsSoFar + 1 })
      .where(and(running(spaceId), eq(spaces.health, 'UNHEALTHY'), eq(spaces.healthRestarts, restartsSoFar)))
      .returning({ id: spaces.id });
    if (!claimed) return;
    this.deps.log.info({ spaceId, attempt: restartsSoFar + 1, reason }, 'restarting an unhealthy space');
    await restartSpace(this.deps, this.jobs, HEALTH_MONITOR, spaceId, {
      reason: `health check failing: ${reason}`,
      attempt: restartsSoFar + 1,
      limit: this.policy.restartLimit,
    }).catch((err) => this.deps.log.warn({ err, spaceId }, 'could not restart an unhealthy space'));
  }
}
