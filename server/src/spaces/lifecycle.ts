import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { spaces, templates, users, type SpaceStatus } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db.js';
import { KnotError, notFound } from '../errors.js';
import { RuntimeUnavailableError, type ContainerInfo } from '../runtime/index.js';
import { formatMemory } from '../templates/job-fields.js';
import { planAutoStop, planColumns } from '../scheduler/plan.js';
import { describeInZone, nextAllowedStart } from '../scheduler/schedule.js';
import type { AutoStopReason } from '../../../protocol/enums.js';
import { isUuid, readVariables, type TemplateRow } from '../templates/store.js';
import { maySee, relationTo, type SpaceRelation } from './access.js';
import { containerName, type SpaceDeps } from './deps.js';
import type { SpaceJobs } from './jobs.js';
import { launchSpace, type StartInputs } from './start-job.js';
import { checkComputeQuota, lockOwner, requireTemplateOpen } from './quotas.js';
import { findSpace, publishSpace, type SpaceChanges, type SpaceRow } from './store.js';
import { removeOwnVolumes } from './volumes.js';
import { recordSpaceEvent, type WebhookEvent } from '../webhooks/events.js';

/**
 * The space state machine: the only module that writes a space's status. Every change is a named
 * edge of TRANSITIONS, written as one conditional UPDATE (… WHERE status IN (from)), so two racing
 * callers get one winner, and a change the table does not allow cannot be written at all. The
 * thin event goes out after the write commits. The engine work between the states lives in
 * start-job.ts and volumes.ts; this module orders it so that a crash between any two steps
 * leaves a state that boot reconciliation (reconcile.ts) or the garbage collector settles.
 */

// --- who acts ---

/** A part of the server acting on its own (the reconciler, the agent gateway, a scheduler…). */
export interface SystemActor {
  readonly system: string;
}
/** Who asks for a change: a person (their Viewer, whose rights are checked) or the server itself. */
export type Actor = Viewer | SystemActor;

export const systemActor = (name: string): SystemActor => ({ system: name });
export const RECONCILER = systemActor('reconciler');
export const AGENT_GATEWAY = systemActor('agent-gateway');
export const GARBAGE_COLLECTOR = systemActor('garbage-collector');
/** Restarts a space whose health check keeps failing, when its template asks for it (health.ts). */
export const HEALTH_MONITOR = systemActor('health-check');
/** Stops spaces at their schedule's end, maximum uptime or idle timeout (server/src/scheduler/). */
export const SCHEDULER = systemActor('scheduler');

const isSystem = (actor: Actor): actor is SystemActor => 'system' in actor;
const actorId = (actor: Actor) => (isSystem(actor) ? null : actor.user.id);
const auditActor = (actor: Actor) => (isSystem(actor) ? { id: null, name: actor.system } : actor);
/** How the actor stands to the space; the server itself acts on any space as a manager would. */
const relationOfActor = (db: Db, actor: Actor, space: Pick<SpaceRow, 'id' | 'ownerId'>): Promise<SpaceRelation> =>
  isSystem(actor) ? Promise.resolve({ owner: false, shared: false, manager: true }) : relationTo(db, actor, space);

// --- the table ---

interface Edge {
  readonly from: readonly SpaceStatus[];
  readonly to: SpaceStatus;
  /** The webhook event the move is (webhooks/events.ts), recorded in the same transaction as the write. */
  readonly event?: WebhookEvent;
}

/**
 * Every change of status Knot makes, and which of them webhooks hear of. A DELETING space ends by
 * its row being removed (see finishDelete, which records space.deleted).
 */
export const TRANSITIONS = {
  start: { from: ['STOPPED', 'FAILED'], to: 'STARTING' },
  started: { from: ['STARTING'], to: 'RUNNING', event: 'space.started' },
  startFailed: { from: ['STARTING'], to: 'FAILED', event: 'space.failed' },
  /** Boot reconciliation: a start cut off by a crash cannot be trusted (its agent token may be lost). */
  startAbandoned: { from: ['STARTING'], to: 'FAILED', event: 'space.failed' },
  stop: { from: ['RUNNING'], to: 'STOPPING' },
  stopped: { from: ['STOPPING'], to: 'STOPPED', event: 'space.stopped' },
  /** A restart goes on from STOPPING to STARTING on the server, so it does not depend on the client. */
  restarting: { from: ['STOPPING'], to: 'STARTING' },
  stopFailed: { from: ['STOPPING'], to: 'FAILED', event: 'space.failed' },
  /** The container exited or vanished without Knot asking. */
  died: { from: ['RUNNING'], to: 'FAILED', event: 'space.failed' },
  delete: { from: ['STOPPED', 'FAILED'], to: 'DELETING' },
  deleteFailed: { from: ['DELETING'], to: 'FAILED', event: 'space.failed' },
  /** Manual templates have no container: the space runs while its agent is connected. */
  agentConnected: { from: ['STOPPED', 'FAILED'], to: 'RUNNING', event: 'space.started' },
  agentSilent: { from: ['RUNNING'], to: 'STOPPED', event: 'space.stopped' },
} as const satisfies Record<string, Edge>;

export type TransitionName = keyof typeof TRANSITIONS;

const NO_AUTO_STOP = { autoStopAt: null, autoStopReason: null, autoStopWarnedAt: null, schedulerDueAt: null } as const;

/** Every space begins STOPPED, with nothing in Docker yet; give the caller's transaction, so space.created commits with the row. */
export async function insertSpace(db: Pick<Db, 'insert' | 'execute'>, values: Omit<typeof spaces.$inferInsert, 'status' | 'id'>): Promise<SpaceRow> {
  const [row] = await db
    .insert(spaces)
    .values({ ...values, status: 'STOPPED' })
    .returning();
  await recordSpaceEvent(db, 'space.created', row!);
  return row!;
}

interface Moved {
  row: SpaceRow;
  /** Settles once the audit row (if any) is written and the event is out; always awaited by the caller. */
  announced: Promise<void>;
}

interface TransitionOptions {
  set?: SpaceChanges;
  /** A further condition the row must meet (e.g. a manual space's agent still being silent). */
  where?: SQL;
  /** Recorded in the audit log alongside the event. */
  audit?: { actor: Actor; action: string; details?: Record<string, unknown> };
  /** An earlier event of the same space that this one must follow (the command's own). */
  after?: Promise<unknown>;
  /** Engine work that must follow the write and precede the event (a won write only). */
  beforeEvent?: () => Promise<unknown>;
  /**
   * The space's owner, when the move must fit their compute quota (quotas.ts): the write and the
   * check then commit together under the owner's lock, so racing starts cannot both fit.
   */
  computeQuotaOf?: string;
}

/**
 * The one step every change of status is: the conditional UPDATE, then (after it commits) the
 * audit row and the event, together. Null when the space is not in a state the edge leaves from,
 * or is gone.
 */
export async function transition(deps: Pick<SpaceDeps, 'db' | 'pubsub'>, id: string, edge: TransitionName, options: TransitionOptions = {}): Promise<Moved | null> {
  const { from, to, event } = TRANSITIONS[edge] as Edge;
  // A planned automatic stop belongs to one run: whatever leaves RUNNING drops it.
  const plan = to === 'RUNNING' ? {} : NO_AUTO_STOP;
  const write = async (db: Db) => {
    const [moved] = await db
      .update(spaces)
      .set({ ...plan, ...options.set, status: to, updatedAt: new Date() })
      .where(and(eq(spaces.id, id), inArray(spaces.status, [...from]), options.where))
      .returning();
    // The event commits with the move (or neither does): a webhook hears of every move, once.
    if (moved && event) await recordSpaceEvent(db, event, moved, eventDetails(edge, moved, options));
    return moved;
  };
  const ownerId = options.computeQuotaOf;
  const row = ownerId
    ? await deps.db.transaction(async (tx) => {
        // The owner's lock before the space's row, the order createSpace and updateSpace take them in.
        await lockOwner(tx, ownerId);
        const moved = await write(tx);
        if (moved) await checkComputeQuota(tx, ownerId, id);
        return moved;
      })
    : event
      ? await deps.db.transaction((tx) => write(tx))
      : await write(deps.db);
  if (!row) return null;
  const { audit, after, beforeEvent } = options;
  const announced = Promise.all([
    audit && recordAudit(deps.db, auditActor(audit.actor), { action: audit.action, objectType: 'space', objectId: id, ...(audit.details ? { details: audit.details } : {}) }),
    (async () => {
      await Promise.all([after?.catch(() => {}), beforeEvent?.()]);
      await publishSpace(deps.pubsub, row, 'STATUS');
    })(),
  ]).then(() => {});
  announced.catch(() => {}); // the caller awaits it; this only keeps an early failure from being "unhandled"
  return { row, announced };
}

/** What a webhook event says beyond the space itself: who asked, and why an automatic stop happened. */
function eventDetails(edge: TransitionName, row: SpaceRow, options: TransitionOptions): Record<string, unknown> {
  const actor = options.audit?.actor;
  return {
    transition: edge,
    ...(actor ? { actor: isSystem(actor) ? { system: actor.system } : { id: actor.user.id, username: actor.user.username } } : {}),
    ...(edge === 'stopped' && row.stoppedReason ? { reason: row.stoppedReason } : {}),
  };
}

/** Like transition, waiting for the event to be out. */
async function move(deps: Pick<SpaceDeps, 'db' | 'pubsub'>, id: string, edge: TransitionName, options?: TransitionOptions): Promise<SpaceRow | null> {
  const moved = await transition(deps, id, edge, options);
  await moved?.announced;
  return moved?.row ?? null;
}

const COMMAND_WORDS = { start: 'started', stop: 'stopped', restart: 'restarted', delete: 'deleted' } as const;
type Command = keyof typeof COMMAND_WORDS;

/** Why a command's transition found the space in the wrong state, read fresh; a space gone meanwhile is NOT_FOUND. */
async function refusal(deps: Pick<SpaceDeps, 'db'>, id: string, command: Command): Promise<KnotError> {
  const now = await findSpace(deps.db, id);
  if (!now) return notFound('That space');
  const state = now.status.toLowerCase();
  if (command === 'delete') {
    return new KnotError('SPACE_NOT_STOPPED', `"${now.name}" is ${state}; stop it before deleting it. Only stopped spaces can be deleted.`, {
      status: now.status,
    });
  }
  const allowed = TRANSITIONS[command === 'restart' ? 'stop' : command].from;
  return new KnotError(
    'INVALID_TRANSITION',
    `"${now.name}" is ${state}; only a ${allowed.map((s) => s.toLowerCase()).join(' or ')} space can be ${COMMAND_WORDS[command]}.`,
    { status: now.status },
  );
}

// --- commands ---

async function requireRuntime(deps: SpaceDeps) {
  try {
    await deps.runtime.ping();
  } catch (err) {
    if (err instanceof RuntimeUnavailableError) {
      throw new KnotError('RUNTIME_UNAVAILABLE', `${err.message}. Nothing was changed; try again when Docker is back.`);
    }
    throw err;
  }
}

/**
 * Runs `work` (the reads and checks before a transition) while the engine is pinged, instead of
 * one after the other: the ping is on the path of every start and stop. The work's refusal
 * (NOT_FOUND, a manual template…) wins over RUNTIME_UNAVAILABLE.
 */
async function whileCheckingRuntime<T>(deps: SpaceDeps, work: Promise<T>): Promise<T> {
  const ping = requireRuntime(deps);
  ping.catch(() => {}); // observed below, unless work fails first
  const result = await work;
  await ping;
  return result;
}

/** The space with its template and owner in one read (a start renders from them), refusing manual spaces. */
async function loadDockerSpace(deps: SpaceDeps, actor: Actor, id: string, command: Exclude<Command, 'delete'>) {
  const [row] = isUuid(id)
    ? await deps.db
        .select({ space: spaces, template: templates, owner: users })
        .from(spaces)
        .innerJoin(templates, eq(templates.id, spaces.templateId))
        .innerJoin(users, eq(users.id, spaces.ownerId))
        .where(eq(spaces.id, id))
    : [];
  // Whoever may see the space starts and stops it: its owner, the users it is shared with, MANAGE_SPACES.
  if (!row || !maySee(await relationOfActor(deps.db, actor, row.space))) throw notFound('That space');
  if (row.template.platform === 'MANUAL') {
    const how = command === 'start' ? 'starts by itself when its agent connects' : 'stops by itself when its agent disconnects';
    throw new KnotError('INVALID_TRANSITION', `"${row.space.name}" uses a manual template: it cannot be ${COMMAND_WORDS[command]} from Knot; it ${how}.`);
  }
  return row;
}

/** A template with a schedule starts its spaces only inside a window (read in the owner's time zone). */
function refuseOutsideSchedule(template: TemplateRow, timezone: string, word: 'started' | 'restarted') {
  const next = nextAllowedStart(template.schedule, timezone, new Date());
  if (!next) return;
  throw new KnotError(
    'OUTSIDE_SCHEDULE',
    `Spaces of the template "${template.name}" can only be ${word} inside its schedule; the next window opens ${describeInZone(next, timezone)}.`,
    { nextAllowedAt: next.toISOString(), timezone },
  );
}

/** STOPPED or FAILED → STARTING; the container is started by a background job (follow spaceChanged for RUNNING or FAILED). */
export async function startSpace(deps: SpaceDeps, jobs: SpaceJobs, actor: Actor, id: string): Promise<SpaceRow> {
  // Everything the start renders from is read here, alongside the checks and the engine's ping.
  const [{ template, owner }, vars] = await whileCheckingRuntime(
    deps,
    Promise.all([loadDockerSpace(deps, actor, id, 'start'), readVariables(deps)]),
  );
  await requireTemplateOpen(deps.db, template, owner, actorId(actor));
  refuseOutsideSchedule(template, owner.timezone, 'started');
  // A person starting it again gives automatic restarts a fresh count.
  const moved = await transition(deps, id, 'start', {
    set: { error: null, pullProgress: null, healthRestarts: 0, stoppedReason: null },
    // Rendered for this owner: a space handed to someone else meanwhile does not start as the old one's.
    where: eq(spaces.ownerId, owner.id),
    audit: { actor, action: 'startSpace' },
    computeQuotaOf: owner.id,
  });
  if (!moved) throw await refusal(deps, id, 'start');
  jobs.run((d) => runStart(d, moved.row, moved.announced, { template, owner, varValues: vars.values, secrets: vars.secrets }));
  await moved.announced;
  return moved.row;
}

/** RUNNING → STOPPING; a background job removes the container (volumes stay) and ends STOPPED. */
export async function stopSpace(deps: SpaceDeps, jobs: SpaceJobs, actor: Actor, id: string): Promise<SpaceRow> {
  await whileCheckingRuntime(deps, loadDockerSpace(deps, actor, id, 'stop'));
  const moved = await transition(deps, id, 'stop', { audit: { actor, action: 'stopSpace' } });
  if (!moved) throw await refusal(deps, id, 'stop');
  jobs.run((d) => runStop(d, moved.row, 'stopped', moved.announced));
  await moved.announced;
  return moved.row;
}

/**
 * Stop then start as one server-side job, so a client that goes away halfway does not leave it
 * stopped. `reason` (an automatic restart's) goes into the audit log.
 */
export async function restartSpace(deps: SpaceDeps, jobs: SpaceJobs, actor: Actor, id: string, reason?: Record<string, unknown>): Promise<SpaceRow> {
  const { template, owner } = await whileCheckingRuntime(deps, loadDockerSpace(deps, actor, id, 'restart'));
  await requireTemplateOpen(deps.db, template, owner, actorId(actor));
  refuseOutsideSchedule(template, owner.timezone, 'restarted');
  // Checked here, so an over-quota restart is refused before anything stops (and again when it
  // starts: another start may take the units while this one stops).
  const moved = await transition(deps, id, 'stop', {
    // Only the health monitor's own restarts count towards its cap.
    set: { stoppedReason: null, ...(actor === HEALTH_MONITOR ? {} : { healthRestarts: 0 }) },
    audit: { actor, action: 'restartSpace', ...(reason ? { details: reason } : {}) },
    computeQuotaOf: owner.id,
  });
  if (!moved) throw await refusal(deps, id, 'restart');
  jobs.run(async (d) => {
    const starting = await runStop(d, moved.row, 'restarting', moved.announced);
    if (starting) await runStart(d, starting, Promise.resolve());
  });
  await moved.announced;
  return moved.row;
}

/** STOPPED or FAILED → DELETING → container, own volumes, then the row gone (answers once it is). */
export async function deleteSpace(deps: SpaceDeps, actor: Actor, id: string): Promise<void> {
  const space = await whileCheckingRuntime(
    deps,
    (async () => {
      const row = isUuid(id) ? await findSpace(deps.db, id) : null;
      const relation = row && (await relationOfActor(deps.db, actor, row));
      if (!row || !relation || !maySee(relation)) throw notFound('That space');
      if (!relation.owner && !relation.manager) throw new KnotError('FORBIDDEN', `"${row.name}" is shared with you: only its owner can delete it.`);
      return row;
    })(),
  );
  const moved = await transition(deps, id, 'delete', { audit: { actor, action: 'deleteSpace', details: { name: space.name } } });
  if (!moved) throw await refusal(deps, id, 'delete');
  await moved.announced;
  await finishDelete(deps, moved.row).catch((err) => {
    // The space is FAILED with the reason by now; the caller hears it too, rather than a masked error.
    if (err instanceof RuntimeUnavailableError) throw new KnotError('RUNTIME_UNAVAILABLE', `${err.message}. The space was not deleted.`);
    throw err;
  });
}

// --- the jobs between the states ---

/** STARTING → (engine work) → RUNNING, or FAILED with the reason and no container left behind. */
async function runStart(deps: SpaceDeps, space: SpaceRow, announced: Promise<unknown>, inputs?: StartInputs): Promise<void> {
  let launched;
  try {
    launched = await launchSpace(deps, space, announced, inputs);
  } catch (err) {
    await failStart(deps, space, err, announced);
    return;
  }
  const now = new Date();
  const since = { uptimeSince: now, lastActivityAt: now };
  const stop = planAutoStop(since, launched.template, launched.ownerTimezone, now);
  const running = await transition(deps, space.id, 'started', {
    set: {
      ...since,
      ...planColumns(stop, now, deps.config.autoStopWarningSeconds),
      containerId: launched.containerId,
      node: launched.node,
      startedTemplateHash: launched.templateHash,
      agentTokenHash: launched.agentTokenHash,
      pullProgress: null,
      // A running space's error is a notice (its agent could not be brought in), not a failure.
      error: launched.notice,
      // A new container: nothing has checked it yet.
      health: 'UNKNOWN',
      healthReason: null,
    },
    after: announced,
  });
  if (!running) {
    // Someone else moved the space meanwhile (e.g. a reconcile): this container is not wanted.
    await deps.runtime.stopAndRemoveContainer(launched.containerId, { timeoutSeconds: 0 });
    return;
  }
  await running.announced;
  // Its token is recorded now, so the agent's first connection is accepted.
  launched.startAgent?.().catch((err) => deps.log.warn({ spaceId: space.id, err }, 'the Knot agent could not be started in the space'));
  if (stop) await deps.pubsub.publish('schedule', { dueAt: running.row.schedulerDueAt!.getTime() });
  // A container that died before RUNNING was recorded had its 'die' event ignored (the space was
  // still STARTING, Knot's own doing); look once more so it cannot stay RUNNING with nothing behind it.
  // Asked where it runs: on a swarm, its node's engine knows it before the manager does.
  const after = await deps.runtime.onNode(launched.node).inspectContainer(launched.containerId);
  if (!after?.running) await containerDied(deps, space.id, deathOf(after));
}

/** The container goes before the status says FAILED, so whoever sees FAILED sees it clean. */
async function failStart(deps: SpaceDeps, space: SpaceRow, err: unknown, announced: Promise<unknown>) {
  const reason = err instanceof Error ? err.message : String(err);
  deps.log.warn({ spaceId: space.id, err }, 'space failed to start');
  try {
    await deps.runtime.stopAndRemoveContainer(containerName(space.id), { timeoutSeconds: 0 });
  } catch (cleanupErr) {
    deps.log.error({ spaceId: space.id, err: cleanupErr }, 'could not remove the container of a failed start; the garbage collector will');
  }
  await move(deps, space.id, 'startFailed', {
    set: { error: `The space could not start: ${reason}`, pullProgress: null, containerId: null, agentTokenHash: null },
    after: announced,
  });
}

/** Long enough for a well-behaved process to save its work; Init: true makes most stop at once. */
const STOP_GRACE_SECONDS = 10;

/**
 * STOPPING → container removed → STOPPED (or, for a restart, straight on to STARTING). Volumes
 * stay. Also how boot reconciliation finishes a stop a crash cut off.
 */
export async function runStop(
  deps: SpaceDeps,
  space: SpaceRow,
  then: 'stopped' | 'restarting' = 'stopped',
  announced: Promise<unknown> = Promise.resolve(),
): Promise<SpaceRow | null> {
  if (space.status !== 'STOPPING') return null;
  try {
    await deps.runtime.stopAndRemoveContainer(containerName(space.id), { timeoutSeconds: STOP_GRACE_SECONDS });
  } catch (err) {
    await move(deps, space.id, 'stopFailed', {
      set: { error: `The space could not be stopped: ${err instanceof Error ? err.message : String(err)}` },
      after: announced,
    });
    return null;
  }
  const cleared = { containerId: null, agentTokenHash: null, startedTemplateHash: null, error: null };
  if (then === 'stopped') return move(deps, space.id, 'stopped', { set: cleared, after: announced });
  try {
    return await move(deps, space.id, 'restarting', { set: cleared, after: announced, computeQuotaOf: space.ownerId });
  } catch (err) {
    if (!(err instanceof KnotError) || err.extensions.code !== 'QUOTA_EXCEEDED') throw err;
    // Another start took the units while this one stopped: it stays stopped, and says why.
    await move(deps, space.id, 'stopped', { set: { ...cleared, error: `The space stopped but could not start again: ${err.message}` }, after: announced });
    return null;
  }
}

/**
 * DELETING → container, then the space's own volumes, then the row. The row goes last, so a crash
 * at any step leaves a DELETING space that boot reconciliation deletes again; shared volumes stay.
 */
export async function finishDelete(deps: SpaceDeps, space: SpaceRow): Promise<void> {
  if (space.status !== 'DELETING') return;
  try {
    await deps.runtime.stopAndRemoveContainer(containerName(space.id), { timeoutSeconds: 0 });
    await removeOwnVolumes(deps, space.id);
  } catch (err) {
    await move(deps, space.id, 'deleteFailed', { set: { error: `The space could not be deleted: ${err instanceof Error ? err.message : String(err)}` } });
    throw err;
  }
  const gone = await deps.db.transaction(async (tx) => {
    const rows = await tx
      .delete(spaces)
      .where(and(eq(spaces.id, space.id), eq(spaces.status, 'DELETING')))
      .returning();
    if (rows[0]) await recordSpaceEvent(tx, 'space.deleted', { ...rows[0], status: 'DELETED' });
    return rows;
  });
  if (gone.length) await publishSpace(deps.pubsub, space, 'DELETED');
}

// --- what the server notices by itself ---

/**
 * RUNNING → STOPPING because a planned automatic stop came due. `stillDue` is the scheduler's
 * proof that nothing moved the plan since it read it; with the status it makes the claim: of
 * two replicas acting on the same due stop, one writes it, and only that one audits and stops.
 */
export async function autoStopSpace(deps: SpaceDeps, jobs: SpaceJobs, spaceId: string, reason: AutoStopReason, stillDue: SQL, dueAt: Date): Promise<boolean> {
  const moved = await transition(deps, spaceId, 'stop', {
    set: { stoppedReason: reason },
    where: stillDue,
    audit: { actor: SCHEDULER, action: 'stopSpace', details: { reason, dueAt: dueAt.toISOString() } },
  });
  if (!moved) return false;
  jobs.run((d) => runStop(d, moved.row, 'stopped', moved.announced));
  await moved.announced;
  return true;
}

/** Boot reconciliation: a start cut off by a crash fails (its container was removed first). */
export async function abandonStart(deps: SpaceDeps, spaceId: string): Promise<void> {
  await move(deps, spaceId, 'startAbandoned', {
    set: { error: 'Knot restarted while the space was starting. Start it again.', pullProgress: null, containerId: null, agentTokenHash: null },
    audit: { actor: RECONCILER, action: 'failSpace', details: { reason: 'interrupted start' } },
  });
}

/** How a container ended, as containerDied reports it. */
export interface ContainerDeath {
  exitCode: number | null;
  /** The kernel killed it for going over its memory limit. */
  oom: boolean;
  /** The limit it ran under, so the reason can name it. */
  memoryLimitBytes?: number | null;
  /** Removed outside Knot: nothing is left to say how it ended. */
  vanished?: boolean;
  /** On a swarm: the hostname of the node that went down with it. */
  lostNode?: string;
}

/** What Docker's view of a container (null: it is gone) says about its end. */
export function deathOf(container: ContainerInfo | null): ContainerDeath {
  if (!container) return { exitCode: null, oom: false, vanished: true };
  if (container.lostNode) return { exitCode: null, oom: false, lostNode: container.lostNode };
  return { exitCode: container.exitCode, oom: container.oomKilled, memoryLimitBytes: container.memoryLimitBytes };
}

function deathReason({ oom, memoryLimitBytes, vanished, lostNode }: ContainerDeath): string | undefined {
  if (lostNode) return `The space stopped because node ${lostNode} is down. Its volumes are on that node: start it again once the node is back.`;
  if (vanished) return 'The space\'s container disappeared (it was removed outside Knot).';
  if (!oom) return undefined;
  // The limit as the template wrote it, so whoever reads this knows which figure to raise.
  const limit = memoryLimitBytes ? ` (limit ${formatMemory(memoryLimitBytes)})` : '';
  return `The space was killed: out of memory${limit}. Its template's "memory" limit is too small for what ran in it.`;
}

/** A RUNNING space whose container stopped without being asked to is FAILED, and says why. */
export async function containerDied(deps: SpaceDeps, spaceId: string, how: ContainerDeath) {
  const reason =
    deathReason(how) ??
    `The space's container exited unexpectedly with exit code ${how.exitCode ?? 'unknown'}.${await lastWords(deps, spaceId)}`;
  await move(deps, spaceId, 'died', {
    set: { error: reason, containerId: null, agentTokenHash: null, startedTemplateHash: null },
    audit: { actor: RECONCILER, action: 'failSpace', details: { reason } },
    // Leave no stopped container behind (the next start creates a fresh one from the template), and
    // remove it before telling anyone, so whoever sees FAILED sees it clean.
    beforeEvent: () =>
      deps.runtime.stopAndRemoveContainer(containerName(spaceId), { timeoutSeconds: 0 }).catch((err) => {
        deps.log.warn({ err, spaceId }, 'could not remove the container of a space that died');
      }),
  });
}

/** The container's last log line, which usually says why it exited (read before the container is removed). */
async function lastWords(deps: SpaceDeps, spaceId: string): Promise<string> {
  const logs = await deps.runtime.containerLogs(containerName(spaceId), 5).catch(() => '');
  const last = logs.trim().split('\n').pop()?.trim();
  return last ? ` Its last output: ${last.slice(0, 300)}` : '';
}

/**
 * A manual space runs while its agent is connected, if its template is open to the owner and it
 * fits their compute quota; otherwise FORBIDDEN or QUOTA_EXCEEDED (the gateway refuses the agent).
 */
export async function agentConnected(deps: SpaceDeps, spaceId: string): Promise<SpaceRow | null> {
  const [row] = await deps.db
    .select({ template: templates, owner: users })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .innerJoin(users, eq(users.id, spaces.ownerId))
    .where(eq(spaces.id, spaceId));
  if (!row) return null;
  await requireTemplateOpen(deps.db, row.template, row.owner, null);
  return move(deps, spaceId, 'agentConnected', {
    set: { error: null },
    audit: { actor: AGENT_GATEWAY, action: 'startSpace', details: { reason: 'its agent connected' } },
    computeQuotaOf: row.owner.id,
  });
}

/** A manual space whose agent is silent stops; `stillSilent` re-checks that no agent came back meanwhile. */
export async function agentSilent(deps: SpaceDeps, spaceId: string, stillSilent: SQL): Promise<SpaceRow | null> {
  return move(deps, spaceId, 'agentSilent', {
    set: { services: null, agentLeaseUntil: null },
    where: stillSilent,
    audit: { actor: AGENT_GATEWAY, action: 'stopSpace', details: { reason: 'its agent went silent' } },
  });
}
