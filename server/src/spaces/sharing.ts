import { and, asc, eq, ilike, ne, notInArray } from 'drizzle-orm';
import { spaceShares, users } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db.js';
import { badInput, KnotError } from '../errors.js';
import { isUuid } from '../templates/store.js';
import { getSpaceWithRelation } from './access.js';
import type { SpaceDeps } from './deps.js';
import { publishSpace, type SpaceRow } from './store.js';
import { recordSpaceEvent } from '../webhooks/events.js';

/**
 * Sharing a space: the users it is shared with may use it as its owner does (spaces/access.ts says
 * exactly what that is), and what they start counts against the owner's quota: it is the owner's
 * space. Only the owner shares; the owner, MANAGE_SPACES, or the user themselves withdraws a share.
 * Withdrawing one cuts that user's open terminals, proxied sockets and forwards into it at once
 * (the UNSHARED event; proxy/access.ts, terminal/route.ts).
 */

export interface ShareUser {
  id: string;
  username: string;
}

/** The users a space is shared with, by name. */
export async function sharedWith(db: Db, spaceId: string): Promise<(ShareUser & { sharedAt: Date })[]> {
  return db
    .select({ id: users.id, username: users.username, sharedAt: spaceShares.createdAt })
    .from(spaceShares)
    .innerJoin(users, eq(users.id, spaceShares.userId))
    .where(eq(spaceShares.spaceId, spaceId))
    .orderBy(asc(users.username));
}

async function findUser(db: Db, userId: string) {
  const [user] = isUuid(userId) ? await db.select({ id: users.id, username: users.username, active: users.active }).from(users).where(eq(users.id, userId)) : [];
  if (!user) throw new KnotError('NOT_FOUND', 'That user was not found.', { field: 'userId' });
  return user;
}

export async function shareSpace(deps: Pick<SpaceDeps, 'db' | 'pubsub'>, viewer: Viewer, spaceId: string, userId: string): Promise<SpaceRow> {
  const { space, relation } = await getSpaceWithRelation(deps, viewer, spaceId);
  // Sharing hands out the use of the space, which MANAGE_SPACES does not have to hand.
  if (!relation.owner) throw new KnotError('FORBIDDEN', `Only the owner of "${space.name}" can share it.`);
  if (userId === space.ownerId) throw badInput('userId', `You own "${space.name}"; share it with someone else.`);
  const user = await findUser(deps.db, userId);
  if (!user.active) throw badInput('userId', `${user.username} is deactivated and cannot use a space.`);
  const added = await deps.db.transaction(async (tx) => {
    const inserted = await tx.insert(spaceShares).values({ spaceId: space.id, userId: user.id }).onConflictDoNothing().returning({ userId: spaceShares.userId });
    if (inserted.length) {
      await recordAudit(tx, viewer, { action: 'shareSpace', objectType: 'space', objectId: space.id, details: { name: space.name, userId: user.id, username: user.username } });
      await recordSpaceEvent(tx, 'space.shared', space, { sharedWith: { id: user.id, username: user.username } });
    }
    return inserted.length > 0;
  });
  if (added) await publishSpace(deps.pubsub, space, 'SHARED', user.id);
  return space;
}

/** True when the user had the use of the space and now has not; false when they never had it. */
export async function unshareSpace(deps: Pick<SpaceDeps, 'db' | 'pubsub'>, viewer: Viewer, spaceId: string, userId: string): Promise<boolean> {
  const { space, relation } = await getSpaceWithRelation(deps, viewer, spaceId);
  const leaving = relation.shared && userId === viewer.user.id;
  if (!relation.owner && !relation.manager && !leaving) {
    throw new KnotError('FORBIDDEN', `"${space.name}" is shared with you: you can leave it, but only its owner decides who else uses it.`);
  }
  if (userId === space.ownerId) throw badInput('userId', `That is the owner of "${space.name}"; hand it over with transferSpace instead.`);
  const user = await findUser(deps.db, userId);
  const removed = await deps.db.transaction(async (tx) => {
    const deleted = await tx
      .delete(spaceShares)
      .where(and(eq(spaceShares.spaceId, space.id), eq(spaceShares.userId, user.id)))
      .returning({ userId: spaceShares.userId });
    if (deleted.length) {
      await recordAudit(tx, viewer, { action: 'unshareSpace', objectType: 'space', objectId: space.id, details: { name: space.name, userId: user.id, username: user.username } });
    }
    return deleted.length > 0;
  });
  if (removed) await publishSpace(deps.pubsub, space, 'UNSHARED', user.id);
  return removed;
}

/**
 * Users the owner may pick in the Share dialog: active, matching `search` by username, not the
 * owner and not already sharing it. Only names, so the dialog is no directory of emails.
 */
export async function shareCandidates(deps: Pick<SpaceDeps, 'db'>, viewer: Viewer, spaceId: string, search: string): Promise<ShareUser[]> {
  const { space, relation } = await getSpaceWithRelation(deps, viewer, spaceId);
  if (!relation.owner) throw new KnotError('FORBIDDEN', `Only the owner of "${space.name}" can share it.`);
  // LIKE's own wildcards in the search are meant literally.
  const term = search.trim().slice(0, 64).replace(/[\\%_]/g, (c) => `\\${c}`);
  const taken = (await sharedWith(deps.db, space.id)).map((u) => u.id);
  return deps.db
    .select({ id: users.id, username: users.username })
    .from(users)
    .where(and(eq(users.active, true), ne(users.id, space.ownerId), taken.length ? notInArray(users.id, taken) : undefined, ilike(users.username, `%${term}%`)))
    .orderBy(asc(users.username))
    .limit(20);
}
