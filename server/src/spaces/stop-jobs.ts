import { eq } from 'drizzle-orm';
import { spaces } from '../../../schema/db/index.js';
import { LABELS, containerName, type SpaceDeps } from './deps.js';
import type { JobHandoff } from './start-job.js';
import { findSpace, publishSpace, transition, type SpaceRow } from './store.js';

/** Long enough for a well-behaved process to save its work; Init: true makes most stop at once. */
const STOP_GRACE_SECONDS = 10;

/** STOPPING → container removed → STOPPED (or, for a restart, straight on to STARTING). Volumes stay. */
export async function runStop(
  deps: SpaceDeps,
  spaceId: string,
  then: 'STOPPED' | 'STARTING' = 'STOPPED',
  handoff: JobHandoff = {},
): Promise<SpaceRow | null> {
  const space = handoff.row ?? (await findSpace(deps.db, spaceId));
  if (!space || space.status !== 'STOPPING') return null;
  try {
    await deps.runtime.stopAndRemoveContainer(containerName(space.id), { timeoutSeconds: STOP_GRACE_SECONDS });
  } catch (err) {
    await handoff.announced?.catch(() => {});
    const failed = await transition(deps.db, space.id, ['STOPPING'], {
      status: 'FAILED',
      error: `The space could not be stopped: ${err instanceof Error ? err.message : String(err)}`,
    });
    if (failed) await publishSpace(deps.pubsub, failed, 'STATUS');
    return null;
  }
  const done = await transition(deps.db, space.id, ['STOPPING'], {
    status: then,
    containerId: null,
    agentTokenHash: null,
    startedTemplateHash: null,
    error: null,
  });
  await handoff.announced?.catch(() => {});
  if (done) await publishSpace(deps.pubsub, done, 'STATUS');
  return done;
}

/** DELETING → container and every volume of the space removed → row gone. */
export async function runDelete(deps: SpaceDeps, spaceId: string): Promise<void> {
  const space = await findSpace(deps.db, spaceId);
  if (!space || space.status !== 'DELETING') return;
  try {
    await deps.runtime.stopAndRemoveContainer(containerName(space.id), { timeoutSeconds: 0 });
    for (const volume of await deps.runtime.listVolumes({ [LABELS.space]: space.id })) {
      await deps.runtime.removeVolume(volume);
    }
  } catch (err) {
    const failed = await transition(deps.db, space.id, ['DELETING'], {
      status: 'FAILED',
      error: `The space could not be deleted: ${err instanceof Error ? err.message : String(err)}`,
    });
    if (failed) await publishSpace(deps.pubsub, failed, 'STATUS');
    throw err;
  }
  await deps.db.delete(spaces).where(eq(spaces.id, space.id));
  await publishSpace(deps.pubsub, space, 'DELETED');
}
