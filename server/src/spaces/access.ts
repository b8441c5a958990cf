import { can, type Viewer } from '../auth/viewer.js';
import { notFound } from '../errors.js';
import { isUuid } from '../templates/store.js';
import type { SpaceDeps } from './deps.js';
import { findSpace, type SpaceRow } from './store.js';

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
