// Nothing Knot made outlives its purpose: a crash between two steps of a lifecycle job (or a
// lost database write) can leave a container or volume behind. The collector sweeps them up,
// at boot and then periodically, touching only objects that carry this installation's id and
// a space's id, and only once they are older than the grace period (so work in flight, here or
// on another replica, is never taken for garbage).
import { inArray } from 'drizzle-orm';
import { spaces } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { Database } from '../db.js';
import { FILL_HELPER_LABEL, FILL_HELPER_MAX_AGE_SECONDS, FILL_OWNER_LABEL, RuntimeError, type ContainerSummary, type VolumeSummary } from '../runtime/index.js';
import { isUuid } from '../templates/store.js';
import { LABELS, type SpaceDeps } from './deps.js';
import { GARBAGE_COLLECTOR } from './lifecycle.js';
import { findSpace, type SpaceRow } from './store.js';

/** Any constant works; it only has to be the same in every replica (and differ from the migration lock). */
export const SWEEP_LOCK_KEY = 4_242_002;
/** A process in a container that should not run still gets a moment to save its work. */
const STOP_GRACE_SECONDS = 5;


export interface SweepResult {
  /** False when another replica was sweeping: this one left it to them. */
  swept: boolean;
  removedContainers: string[];
  removedVolumes: string[];
}

type SpaceState = Pick<SpaceRow, 'id' | 'status' | 'updatedAt'>;

export class GarbageCollector {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: SpaceDeps,
    private readonly database: Pick<Database, 'tryExclusive'>,
  ) {}

  /** Sweeps now, then every `gcIntervalSeconds` (counted from the end of the previous sweep). */
  start(): void {
    this.schedule(0);
  }

  /** Stops the schedule; a sweep under way stops before its next removal and is awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  private schedule(delayMs: number) {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep()
        .catch((err) => this.deps.log.warn({ err }, 'garbage collection failed; trying again at the next sweep'))
        .finally(() => {
          this.sweeping = undefined;
          this.schedule(this.deps.config.gcIntervalSeconds * 1000);
        });
    }, delayMs);
    // A pending sweep never keeps the process alive.
    this.timer.unref();
  }

  /**
   * One pass over this installation's containers and volumes; one replica at a time. `now` is
   * the moment ages are measured at (a test may look ahead instead of waiting).
   */
  async sweep(now = new Date()): Promise<SweepResult> {
    const result: SweepResult = { swept: false, removedContainers: [], removedVolumes: [] };
    result.swept = await this.database.tryExclusive(SWEEP_LOCK_KEY, async () => {
      const mine = { [LABELS.managed]: 'true', [LABELS.instance]: this.deps.instanceId };
      const [containers, volumes] = await Promise.all([
        this.deps.runtime.listContainers(mine),
        this.deps.runtime.listVolumeSummaries(mine),
      ]);
      // Shared volumes carry no space id: they are the template's, and never the collector's.
      const oldContainers = containers.filter((c) => c.labels[LABELS.space] && this.pastGrace(c.createdAt, now));
      const oldVolumes = volumes.filter((v) => v.labels[LABELS.space] && this.pastGrace(v.createdAt, now));
      // A volume fill's helper is never started and lives only while its copy runs; one past the
      // longest copy was left by a server killed mid-fill (on any replica of this installation).
      // Sooner when it names the replica that made it and that replica is gone (killed: nobody
      // else would remove it); a live replica's helper is its copy in flight.
      const helperAge = Math.max(this.deps.config.gcGraceSeconds, FILL_HELPER_MAX_AGE_SECONDS);
      const helpers = containers.filter((c) => c.labels[FILL_HELPER_LABEL] && !c.running && this.pastGrace(c.createdAt, now));
      const owners = helpers.map((h) => h.labels[FILL_OWNER_LABEL]).filter((o): o is string => !!o && o !== this.deps.replicas.id);
      const liveOwners = await this.deps.replicas.live([...new Set(owners)]);
      for (const helper of helpers) {
        if (this.stopped) return;
        const owner = helper.labels[FILL_OWNER_LABEL];
        const reason = this.pastGrace(helper.createdAt, now, helperAge)
          ? 'a volume fill helper left by a stopped server'
          : owner && owner !== this.deps.replicas.id && !liveOwners.has(owner)
            ? 'a volume fill helper of a server that is gone'
            : null;
        if (!reason) continue;
        await this.deps.runtime.stopAndRemoveContainer(helper.id, { timeoutSeconds: 0 });
        await this.record('collectContainer', 'container', helper.name, { containerId: helper.id, reason });
        result.removedContainers.push(helper.name);
      }
      if (!oldContainers.length && !oldVolumes.length) return;
      const known = await this.spaceStates([...oldContainers, ...oldVolumes].map((o) => o.labels[LABELS.space]!));
      // Containers first: a volume is still in use while a container holds it.
      for (const container of oldContainers) {
        if (this.stopped) return;
        if (await this.collectContainer(container, known, now)) result.removedContainers.push(container.name);
      }
      for (const volume of oldVolumes) {
        if (this.stopped) return;
        if (await this.collectVolume(volume, known)) result.removedVolumes.push(volume.name);
      }
    });
    return result;
  }

  private async collectContainer(container: ContainerSummary, known: Map<string, SpaceState>, now: Date): Promise<boolean> {
    const spaceId = container.labels[LABELS.space]!;
    if (!this.containerVerdict(known.get(spaceId) ?? null, now)) return false;
    // Read once more right before acting: a start may have begun since the list was read.
    const reason = this.containerVerdict(await this.currentState(spaceId), now);
    if (!reason) return false;
    await this.deps.runtime.stopAndRemoveContainer(container.id, { timeoutSeconds: STOP_GRACE_SECONDS });
    await this.record('collectContainer', 'container', container.name, { containerId: container.id, spaceId, reason });
    return true;
  }

  private async collectVolume(volume: VolumeSummary, known: Map<string, SpaceState>): Promise<boolean> {
    const spaceId = volume.labels[LABELS.space]!;
    // A space's volumes outlive its stops: only a volume whose space is gone is garbage.
    if (known.has(spaceId) || (await this.currentState(spaceId))) return false;
    try {
      await this.deps.runtime.removeVolume(volume.name);
    } catch (err) {
      // Still mounted by a container (maybe another installation's): not ours to force.
      if (err instanceof RuntimeError && err.reason === 'in-use') {
        this.deps.log.info({ volume: volume.name, spaceId }, 'garbage collector left a volume that is still in use');
        return false;
      }
      throw err;
    }
    await this.record('collectVolume', 'volume', volume.name, { spaceId, reason: 'its space no longer exists' });
    return true;
  }

  /** Why a container of this space should go, or null when it may stay. */
  private containerVerdict(space: SpaceState | null, now: Date): string | null {
    if (!space) return 'its space no longer exists';
    if (space.status === 'RUNNING' || !this.pastGrace(space.updatedAt, now)) return null;
    return `its space is ${space.status}`;
  }

  private pastGrace(at: Date, now: Date, seconds = this.deps.config.gcGraceSeconds): boolean {
    return now.getTime() - at.getTime() >= seconds * 1000;
  }

  private async spaceStates(ids: string[]): Promise<Map<string, SpaceState>> {
    const valid = [...new Set(ids)].filter(isUuid);
    const rows = valid.length
      ? await this.deps.db
          .select({ id: spaces.id, status: spaces.status, updatedAt: spaces.updatedAt })
          .from(spaces)
          .where(inArray(spaces.id, valid))
      : [];
    return new Map(rows.map((r) => [r.id, r]));
  }

  private async currentState(spaceId: string): Promise<SpaceState | null> {
    return isUuid(spaceId) ? findSpace(this.deps.db, spaceId) : null;
  }

  private async record(action: string, objectType: string, objectId: string, details: Record<string, string>) {
    this.deps.log.info({ [objectType]: objectId, ...details }, `garbage collector removed a ${objectType}`);
    try {
      // No space changes state here, so the audit is written directly, in the lifecycle's name for the collector.
      await recordAudit(this.deps.db, { id: null, name: GARBAGE_COLLECTOR.system }, { action, objectType, objectId, details });
    } catch (err) {
      this.deps.log.error({ err, [objectType]: objectId }, 'could not audit a garbage collector removal');
    }
  }
}
