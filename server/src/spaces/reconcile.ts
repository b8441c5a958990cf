import { and, eq, inArray, lt, or } from 'drizzle-orm';
import { spaces, templates } from '../../../schema/db/index.js';
import type { ContainerEvent } from '../runtime/index.js';
import { LABELS, containerName, type SpaceDeps } from './deps.js';
import { abandonStart, containerDied, deathOf, finishDelete, runStop } from './lifecycle.js';
import { findSpace, type SpaceRow } from './store.js';

/** A manual space has no container: it runs while its agent is connected (the agent gateway settles it). */
const dockerOnly = eq(templates.platform, 'DOCKER');

/**
 * Docker is the truth about containers. At boot, every space left in a transitional state by a
 * server that died is settled against what Docker has; RUNNING spaces whose container is gone fail.
 * `before` limits it to spaces last touched before this server started, so a replica booting next
 * to a busy one does not undo that one's work in progress.
 */
export async function reconcileAtBoot(deps: SpaceDeps, before: Date): Promise<void> {
  const stale = await deps.db
    .select({ space: spaces })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .where(
      and(
        inArray(spaces.status, ['STARTING', 'STOPPING', 'DELETING', 'RUNNING']),
        lt(spaces.updatedAt, before),
        or(dockerOnly, inArray(spaces.status, ['STOPPING', 'DELETING'])),
      ),
    );
  for (const { space } of stale) {
    try {
      await reconcileSpace(deps, space);
    } catch (err) {
      deps.log.error({ err, spaceId: space.id }, 'could not reconcile a space with Docker');
    }
  }
}

/** After the events stream was down: a container may have died meanwhile. Spaces in flight are left alone. */
export async function reconcileRunning(deps: SpaceDeps): Promise<void> {
  const running = await deps.db
    .select({ space: spaces })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .where(and(eq(spaces.status, 'RUNNING'), dockerOnly));
  for (const { space } of running) {
    const container = await deps.runtime.inspectContainer(containerName(space.id));
    if (!container?.running) await containerDied(deps, space.id, deathOf(container));
  }
}

async function reconcileSpace(deps: SpaceDeps, space: SpaceRow) {
  if (space.status === 'STOPPING') return void (await runStop(deps, space));
  if (space.status === 'DELETING') return void (await finishDelete(deps, space));
  const container = await deps.runtime.inspectContainer(containerName(space.id));
  if (space.status === 'STARTING') {
    // The start was cut off: we cannot know its agent token was saved, so start over cleanly.
    if (container) await deps.runtime.stopAndRemoveContainer(container.id, { timeoutSeconds: 0 });
    await abandonStart(deps, space.id);
    return;
  }
  if (space.status === 'RUNNING' && !container?.running) {
    await containerDied(deps, space.id, deathOf(container));
  }
}

/**
 * Docker events for Knot's containers: a 'die' we did not cause fails the space. Whether the
 * kernel killed it for memory is read from the container (State.OOMKilled) before it is removed;
 * an 'oom' event seen earlier counts too, in case the container went before it could be read.
 */
export async function onContainerEvent(deps: SpaceDeps, event: ContainerEvent, oomSeen: Set<string>) {
  const spaceId = event.labels[LABELS.space];
  if (!spaceId) return;
  if (event.action === 'oom') oomSeen.add(event.containerId);
  if (event.action !== 'die' && event.action !== 'destroy') return;
  const space = await findSpace(deps.db, spaceId);
  const oomEvent = oomSeen.delete(event.containerId);
  // STOPPING/STARTING/DELETING are Knot's own doing; only a RUNNING space dies unexpectedly.
  if (space?.status !== 'RUNNING' || (space.containerId && space.containerId !== event.containerId)) return;
  if (event.action === 'destroy') return void (await containerDied(deps, spaceId, { exitCode: event.exitCode ?? null, oom: oomEvent, vanished: true }));
  const container = await deps.runtime.inspectContainer(event.containerId);
  const death = container ? deathOf(container) : { exitCode: null, oom: false };
  await containerDied(deps, spaceId, { ...death, exitCode: event.exitCode ?? death.exitCode, oom: oomEvent || death.oom });
}
