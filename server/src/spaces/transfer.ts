import { and, eq, inArray, ne } from 'drizzle-orm';
import { spaceShares, spaces, users } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { Viewer } from '../auth/viewer.js';
import { isUniqueViolation } from '../auth/unique.js';
import { badInput, KnotError, notFound } from '../errors.js';
import { getTemplate, isUuid } from '../templates/store.js';
import { getSpaceWithRelation, mayManage } from './access.js';
import type { SpaceDeps } from './deps.js';
import { findNameClash } from './names.js';
import { checkCreateQuota, lockOwner, requireTemplateOpen } from './quotas.js';
import { findSpace, publishSpace, type SpaceRow } from './store.js';
import { recordSpaceEvent } from '../webhooks/events.js';

/** A space changes hands only while nothing runs: no container, so nothing acts as the old owner. */
const TRANSFERABLE = ['STOPPED', 'FAILED'] as const;

/**
 * Hands a space to another user (the owner or MANAGE_SPACES). It must be stopped; the new owner's
 * names, quota and template access apply as if they created it. Its own volumes are named after
 * the space id (volumes.ts), so they and their data stay where they are and simply come with it.
 * Shares are cleared: whom to share with is the new owner's choice. A manual space's agent token
 * is dropped, since its agent acted for the old owner (the new owner sets one up).
 */
export async function transferSpace(deps: Pick<SpaceDeps, 'db' | 'pubsub'>, viewer: Viewer, spaceId: string, userId: string): Promise<SpaceRow> {
  const { space, relation } = await getSpaceWithRelation(deps, viewer, spaceId);
  if (!mayManage(relation)) throw new KnotError('FORBIDDEN', `"${space.name}" is shared with you: only its owner can hand it over.`);
  const [target] = isUuid(userId) ? await deps.db.select().from(users).where(eq(users.id, userId)) : [];
  if (!target) throw new KnotError('NOT_FOUND', 'That user was not found.', { field: 'userId' });
  if (target.id === space.ownerId) throw badInput('userId', `${target.username} already owns "${space.name}".`);
  if (target.id === viewer.user.id) {
    // A manager taking a space would get its files, keys and tokens: the inside of someone's
    // environment, which MANAGE_SPACES does not give (for the same reason only the owner shares).
    const [owner] = await deps.db.select({ username: users.username }).from(users).where(eq(users.id, space.ownerId));
    throw new KnotError(
      'FORBIDDEN',
      `Only ${owner?.username ?? 'its owner'} can hand "${space.name}" to you: managing spaces does not let you take one, with its files, for yourself. Hand it to someone else, or ask its owner.`,
      { field: 'userId' },
    );
  }
  if (!target.active) throw badInput('userId', `${target.username} is deactivated and cannot own a space.`);
  refuseUnlessStopped(space);
  const template = await getTemplate(deps.db, space.templateId);
  await requireTemplateOpen(deps.db, template, target, viewer.user.id);

  const moved = await deps.db
    .transaction(async (tx) => {
      // Both owners' locks, always in the same order, so two transfers the other way cannot deadlock.
      for (const id of [space.ownerId, target.id].sort()) await lockOwner(tx, id);
      const theirs = await tx.select({ name: spaces.name, altNames: spaces.altNames }).from(spaces).where(and(eq(spaces.ownerId, target.id), ne(spaces.id, space.id)));
      const clash = findNameClash([space.name, ...space.altNames], theirs);
      if (clash) {
        throw new KnotError('NAME_TAKEN', `${target.username} already has a space named "${clash.owner}"; rename "${space.name}" first.`, { field: 'name' });
      }
      await checkCreateQuota(tx, target.id, template);
      const [row] = await tx
        .update(spaces)
        .set({ ownerId: target.id, agentTokenHash: null, updatedAt: new Date() })
        .where(and(eq(spaces.id, space.id), eq(spaces.ownerId, space.ownerId), inArray(spaces.status, [...TRANSFERABLE])))
        .returning();
      if (!row) return null;
      await tx.delete(spaceShares).where(eq(spaceShares.spaceId, space.id));
      await recordAudit(tx, viewer, {
        action: 'transferSpace',
        objectType: 'space',
        objectId: space.id,
        details: { name: space.name, fromUserId: space.ownerId, toUserId: target.id, toUsername: target.username },
      });
      // data.owner is the new owner; data.previousOwner the one who had it.
      const [previous] = await tx.select({ id: users.id, username: users.username }).from(users).where(eq(users.id, space.ownerId));
      await recordSpaceEvent(tx, 'space.transferred', row, { previousOwner: previous ?? { id: space.ownerId } });
      return row;
    })
    .catch((err) => {
      // A create for the new owner raced this one for the name: the unique index decides.
      if (isUniqueViolation(err)) throw new KnotError('NAME_TAKEN', `${target.username} already has a space named "${space.name}".`, { field: 'name' });
      throw err;
    });
  if (!moved) {
    // Started, deleted or handed over since it was read.
    const now = await findSpace(deps.db, space.id);
    if (!now || now.ownerId !== space.ownerId) throw notFound('That space');
    refuseUnlessStopped(now);
    throw new KnotError('SPACE_NOT_STOPPED', `"${space.name}" changed while it was being handed over; try again.`);
  }
  await publishSpace(deps.pubsub, moved, 'TRANSFERRED', space.ownerId);
  return moved;
}

function refuseUnlessStopped(space: SpaceRow) {
  if ((TRANSFERABLE as readonly string[]).includes(space.status)) return;
  throw new KnotError('SPACE_NOT_STOPPED', `"${space.name}" is ${space.status.toLowerCase()}; stop it before handing it over.`, { status: space.status });
}
