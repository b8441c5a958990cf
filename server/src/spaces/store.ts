import { and, eq, inArray } from 'drizzle-orm';
import type { PublishedSpaceChangeKind } from '../../../protocol/enums.js';
import { spaces, type SpaceStatus } from '../../../schema/db/index.js';
import type { Db } from '../db.js';
import type { PubSub } from '../pubsub.js';

export type SpaceRow = typeof spaces.$inferSelect;

/** Why subscribers hear about a space; the UI may use it to choose a toast. */
export type SpaceChangeKind = PublishedSpaceChangeKind;

/**
 * The one write a state change is: UPDATE … WHERE status IN (from). Two racing clients get one row
 * back and one null, so there is never a second container for one space.
 */
export async function transition(
  db: Db,
  id: string,
  from: readonly SpaceStatus[],
  set: Partial<Omit<SpaceRow, 'id'>>,
): Promise<SpaceRow | null> {
  const [row] = await db
    .update(spaces)
    .set({ ...set, updatedAt: new Date() })
    .where(and(eq(spaces.id, id), inArray(spaces.status, [...from])))
    .returning();
  return row ?? null;
}

export async function findSpace(db: Db, id: string): Promise<SpaceRow | null> {
  const [row] = await db.select().from(spaces).where(eq(spaces.id, id));
  return row ?? null;
}

export function publishSpace(pubsub: PubSub, space: Pick<SpaceRow, 'id' | 'ownerId'>, kind: SpaceChangeKind): Promise<void> {
  return pubsub.publish('space', { spaceId: space.id, ownerId: space.ownerId, kind });
}
