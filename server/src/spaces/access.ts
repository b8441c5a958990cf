import { and, eq } from 'drizzle-orm';
import { spaceShares } from '../../../schema/db/index.js';
import { can, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db.js';
import { KnotError, notFound } from '../errors.js';
import { isUuid } from '../templates/store.js';
import type { SpaceDeps } from './deps.js';
import { findSpace, type SpaceRow } from './store.js';

/**
 * Who may do what with a space: the one place that says it (docs/permissions.md).
 *
 * - **use** (reach in: terminal, code-server, desktop, ports, forwards; start, stop, restart, keep
 *   running): the owner and the users it is shared with. It acts inside the owner's environment,
 *   which MANAGE_SPACES does not grant.
 * - **see** (space, spaces, its subscriptions; start, stop, restart): users who may use it, and
 *   MANAGE_SPACES.
 * - **manage** (edit, delete, transfer): the owner and MANAGE_SPACES; a user it is shared with hears
 *   FORBIDDEN.
 * - **share** (shareSpace): the owner only, since sharing hands out use, which MANAGE_SPACES lacks.
 * Everyone else hears NOT_FOUND, so ids cannot be probed.
 */
export interface SpaceRelation {
  owner: boolean;
  /** The space is shared with the viewer. */
  shared: boolean;
  /** The viewer holds MANAGE_SPACES. */
  manager: boolean;
}

export const mayUse = (r: SpaceRelation) => r.owner || r.shared;
export const maySee = (r: SpaceRelation) => r.owner || r.shared || r.manager;
export const mayManage = (r: SpaceRelation) => r.owner || r.manager;

/** Owners manage their spaces; MANAGE_SPACES manages everyone's. */
export function canManage(viewer: Viewer, ownerId: string): boolean {
  return viewer.user.id === ownerId || can(viewer, 'MANAGE_SPACES');
}

export async function isSharedWith(db: Db, spaceId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: spaceShares.userId })
    .from(spaceShares)
    .where(and(eq(spaceShares.spaceId, spaceId), eq(spaceShares.userId, userId)));
  return !!row;
}

/** How `userId` (with `manager`: whether they hold MANAGE_SPACES) stands to the space; the share is read only when it matters. */
export async function relationOf(db: Db, userId: string, manager: boolean, space: Pick<SpaceRow, 'id' | 'ownerId'>): Promise<SpaceRelation> {
  const owner = space.ownerId === userId;
  return { owner, manager, shared: !owner && (await isSharedWith(db, space.id, userId)) };
}

export function relationTo(db: Db, viewer: Viewer, space: Pick<SpaceRow, 'id' | 'ownerId'>): Promise<SpaceRelation> {
  return relationOf(db, viewer.user.id, can(viewer, 'MANAGE_SPACES'), space);
}

/** Another user's space answers NOT_FOUND, so ids cannot be probed. */
export async function getSpaceFor(deps: Pick<SpaceDeps, 'db'>, viewer: Viewer, id: string): Promise<SpaceRow> {
  return (await getSpaceWithRelation(deps, viewer, id)).space;
}

/** The space and how the viewer stands to it, for a caller who must also tell managing from using. */
export async function getSpaceWithRelation(deps: Pick<SpaceDeps, 'db'>, viewer: Viewer, id: string): Promise<{ space: SpaceRow; relation: SpaceRelation }> {
  const space = isUuid(id) ? await findSpace(deps.db, id) : null;
  const relation = space && (await relationTo(deps.db, viewer, space));
  if (!space || !relation || !maySee(relation)) throw notFound('That space');
  return { space, relation };
}

/** A space the viewer manages (owner or MANAGE_SPACES): a user it is only shared with hears FORBIDDEN. */
export async function getManagedSpace(deps: Pick<SpaceDeps, 'db'>, viewer: Viewer, id: string, what: string): Promise<SpaceRow> {
  const { space, relation } = await getSpaceWithRelation(deps, viewer, id);
  if (!mayManage(relation)) throw new KnotError('FORBIDDEN', `"${space.name}" is shared with you: only its owner can ${what} it.`);
  return space;
}
