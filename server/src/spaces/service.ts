import { eq } from 'drizzle-orm';
import { spaces, templates, users } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import { can, type Viewer } from '../auth/viewer.js';
import { isUniqueViolation } from '../auth/unique.js';
import { checkShell } from '../auth/validation.js';
import { KnotError, forbidden, notFound } from '../errors.js';
import { RuntimeUnavailableError } from '../runtime/index.js';
import { getTemplate, isUuid, variableValues } from '../templates/store.js';
import type { SpaceDeps } from './deps.js';
import { checkSpaceNames, findNameClash, nameTaken } from './names.js';
import { runStart } from './start-job.js';
import { runDelete, runStop } from './stop-jobs.js';
import { findSpace, publishSpace, transition, type SpaceRow } from './store.js';
import type { SpaceStatus } from '../../../schema/db/index.js';

/** Owners manage their spaces; MANAGE_SPACES manages everyone's. */
export function canManage(viewer: Viewer, ownerId: string): boolean {
  return viewer.user.id === ownerId || can(viewer, 'MANAGE_SPACES');
}

/** Another user's space answers NOT_FOUND, so ids cannot be probed. */
export async function getSpaceFor(deps: Pick<SpaceDeps, 'db'>, viewer: Viewer, id: string): Promise<SpaceRow> {
  const space = isUuid(id) ? await findSpace(deps.db, id) : null;
  if (!space || !canManage(viewer, space.ownerId)) throw notFound('That space');
  return space;
}

/** Tracks the background jobs (start, stop, restart) so shutdown and tests can wait for them. */
export class SpaceJobs {
  private running = new Set<Promise<unknown>>();
  constructor(private deps: SpaceDeps) {}

  run(job: (deps: SpaceDeps) => Promise<unknown>): void {
    const promise = job(this.deps)
      .catch((err) => this.deps.log.error({ err }, 'space job failed'))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}

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

/** The audit row and the event do not depend on each other; the event still goes out before the job starts. */
async function recordAndPublish(deps: SpaceDeps, viewer: Viewer, action: string, space: SpaceRow, details?: Record<string, unknown>) {
  await Promise.all([
    recordAudit(deps.db, viewer, { action, objectType: 'space', objectId: space.id, ...(details ? { details } : {}) }),
    publishSpace(deps.pubsub, space, 'STATUS'),
  ]);
}

function refused(space: SpaceRow, action: string, allowed: readonly SpaceStatus[]): KnotError {
  return new KnotError(
    'INVALID_TRANSITION',
    `"${space.name}" is ${space.status.toLowerCase()}; only a ${allowed.map((s) => s.toLowerCase()).join(' or ')} space can be ${action}.`,
    { status: space.status },
  );
}

/**
 * Additional names have no unique index (they live in an array), so the check-then-write of two
 * racing creates or renames for one owner is serialised on the owner's row instead.
 */
async function lockOwnerNames(tx: Pick<SpaceDeps['db'], 'select'>, ownerId: string) {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, ownerId)).for('update');
}

export interface CreateSpaceInput {
  templateId: string;
  name: string;
  shell?: string | null;
  altNames?: string[] | null;
  userId?: string | null;
}

export async function createSpace(deps: SpaceDeps, viewer: Viewer, input: CreateSpaceInput): Promise<SpaceRow> {
  const ownerId = input.userId ?? viewer.user.id;
  if (ownerId !== viewer.user.id && !can(viewer, 'MANAGE_SPACES')) throw forbidden('create spaces for other users');
  const [owner] = isUuid(ownerId) ? await deps.db.select().from(users).where(eq(users.id, ownerId)) : [];
  if (!owner) throw notFound('That user');
  const names = checkSpaceNames(input.name, input.altNames ?? []);
  const shell = checkShell(input.shell ?? owner.preferredShell);
  const template = await getTemplate(deps.db, input.templateId).catch(() => {
    throw new KnotError('NOT_FOUND', 'That template was not found.', { field: 'templateId' });
  });
  if (!template.active) throw new KnotError('BAD_USER_INPUT', `The template "${template.name}" is not active.`, { field: 'templateId' });

  const space = await deps.db.transaction(async (tx) => {
    await lockOwnerNames(tx, ownerId);
    const taken = await tx.select({ name: spaces.name, altNames: spaces.altNames }).from(spaces).where(eq(spaces.ownerId, ownerId));
    const clash = findNameClash([names.name, ...names.altNames], taken);
    if (clash) throw nameTaken(clash);
    const [row] = await tx
      .insert(spaces)
      .values({ ...names, shell, ownerId, templateId: template.id, status: 'STOPPED' })
      .returning();
    await recordAudit(tx, viewer, {
      action: 'createSpace',
      objectType: 'space',
      objectId: row!.id,
      details: { name: names.name, ownerId, templateId: template.id },
    });
    return row!;
  }).catch((err) => {
    // Two creates racing for one name: the unique index decides, and the loser hears why.
    if (isUniqueViolation(err)) throw nameTaken({ wanted: names.name, owner: names.name });
    throw err;
  });
  await publishSpace(deps.pubsub, space, 'CREATED');
  return space;
}

export async function updateSpace(
  deps: SpaceDeps,
  viewer: Viewer,
  id: string,
  input: { name?: string | null; altNames?: string[] | null; shell?: string | null },
): Promise<SpaceRow> {
  const current = await getSpaceFor(deps, viewer, id);
  const names = checkSpaceNames(input.name ?? current.name, input.altNames ?? current.altNames);
  const shell = input.shell != null ? checkShell(input.shell) : current.shell;
  const updated = await deps.db.transaction(async (tx) => {
    await lockOwnerNames(tx, current.ownerId);
    const others = (await tx.select().from(spaces).where(eq(spaces.ownerId, current.ownerId))).filter((s) => s.id !== id);
    const clash = findNameClash([names.name, ...names.altNames], others);
    if (clash) throw nameTaken(clash);
    const [row] = await tx
      .update(spaces)
      .set({ ...names, shell, updatedAt: new Date() })
      .where(eq(spaces.id, id))
      .returning();
    await recordAudit(tx, viewer, { action: 'updateSpace', objectType: 'space', objectId: id, details: { ...names, shell } });
    return row!;
  });
  await publishSpace(deps.pubsub, updated, 'RENAMED');
  return updated;
}

/**
 * The space (owner or MANAGE_SPACES) and its template's platform in one read. Manual spaces have
 * no start or stop: they run while their agent is connected.
 */
/** The space with its template and owner in one read (a start renders from them), refusing manual spaces. */
async function getDockerSpaceFor(deps: SpaceDeps, viewer: Viewer, id: string, action: 'start' | 'stop' | 'restart') {
  const [row] = isUuid(id)
    ? await deps.db
        .select({ space: spaces, template: templates, owner: users })
        .from(spaces)
        .innerJoin(templates, eq(templates.id, spaces.templateId))
        .innerJoin(users, eq(users.id, spaces.ownerId))
        .where(eq(spaces.id, id))
    : [];
  if (!row || !canManage(viewer, row.space.ownerId)) throw notFound('That space');
  if (row.template.platform === 'MANUAL') {
    const how = action === 'start' ? 'starts by itself when its agent connects' : 'stops by itself when its agent disconnects';
    const done = { start: 'started', stop: 'stopped', restart: 'restarted' }[action];
    throw new KnotError('INVALID_TRANSITION', `"${row.space.name}" uses a manual template: it cannot be ${done} from Knot; it ${how}.`);
  }
  return row;
}

export async function startSpace(deps: SpaceDeps, jobs: SpaceJobs, viewer: Viewer, id: string): Promise<SpaceRow> {
  // Everything the start renders from is read here, alongside the checks and the engine's ping.
  const [{ space, template, owner }, varValues] = await whileCheckingRuntime(
    deps,
    Promise.all([getDockerSpaceFor(deps, viewer, id, 'start'), variableValues(deps)]),
  );
  const starting = await transition(deps.db, id, ['STOPPED', 'FAILED'], { status: 'STARTING', error: null, pullProgress: null });
  if (!starting) throw refused((await findSpace(deps.db, id)) ?? space, 'started', ['STOPPED', 'FAILED']);
  const announced = recordAndPublish(deps, viewer, 'startSpace', starting);
  jobs.run((d) => runStart(d, id, { row: starting, announced, inputs: { template, owner, varValues } }));
  await announced;
  return starting;
}

export async function stopSpace(deps: SpaceDeps, jobs: SpaceJobs, viewer: Viewer, id: string): Promise<SpaceRow> {
  const { space } = await whileCheckingRuntime(deps, getDockerSpaceFor(deps, viewer, id, 'stop'));
  const stopping = await transition(deps.db, id, ['RUNNING'], { status: 'STOPPING' });
  if (!stopping) throw refused((await findSpace(deps.db, id)) ?? space, 'stopped', ['RUNNING']);
  const announced = recordAndPublish(deps, viewer, 'stopSpace', stopping);
  jobs.run((d) => runStop(d, id, 'STOPPED', { row: stopping, announced }));
  await announced;
  return stopping;
}

/** Stop then start as one server-side job, so a client that goes away halfway does not leave it stopped. */
export async function restartSpace(deps: SpaceDeps, jobs: SpaceJobs, viewer: Viewer, id: string): Promise<SpaceRow> {
  const { space } = await whileCheckingRuntime(deps, getDockerSpaceFor(deps, viewer, id, 'restart'));
  const stopping = await transition(deps.db, id, ['RUNNING'], { status: 'STOPPING' });
  if (!stopping) throw refused((await findSpace(deps.db, id)) ?? space, 'restarted', ['RUNNING']);
  const announced = recordAndPublish(deps, viewer, 'restartSpace', stopping);
  jobs.run(async (d) => {
    const starting = await runStop(d, id, 'STARTING', { row: stopping, announced });
    if (starting) await runStart(d, id, { row: starting });
  });
  await announced;
  return stopping;
}

export async function deleteSpace(deps: SpaceDeps, viewer: Viewer, id: string): Promise<void> {
  const space = await whileCheckingRuntime(deps, getSpaceFor(deps, viewer, id));
  const deleting = await transition(deps.db, id, ['STOPPED', 'FAILED'], { status: 'DELETING' });
  if (!deleting) {
    const now = (await findSpace(deps.db, id)) ?? space;
    throw new KnotError(
      'SPACE_NOT_STOPPED',
      `"${now.name}" is ${now.status.toLowerCase()}; stop it before deleting it. Only stopped spaces can be deleted.`,
      { status: now.status },
    );
  }
  await recordAndPublish(deps, viewer, 'deleteSpace', deleting, { name: space.name });
  await runDelete(deps, id).catch((err) => {
    // The space is FAILED with the reason by now; the caller hears it too, rather than a masked error.
    if (err instanceof RuntimeUnavailableError) throw new KnotError('RUNTIME_UNAVAILABLE', `${err.message}. The space was not deleted.`);
    throw err;
  });
}
