import { and, eq } from 'drizzle-orm';
import type { PublishedSpaceChangeKind } from '../../../protocol/enums.js';
import { spaces, type SpaceStatus } from '../../../schema/db/index.js';
import type { Db } from '../db.js';
import type { PubSub } from '../pubsub.js';

export type SpaceRow = typeof spaces.$inferSelect;

/** Why subscribers hear about a space; the UI may use it to choose a toast. */
export type SpaceChangeKind = PublishedSpaceChangeKind;

/** What may change on a space row besides its status, which only lifecycle.ts writes. */
export type SpaceChanges = Partial<Omit<SpaceRow, 'id' | 'status' | 'createdAt' | 'updatedAt'>>;

/**
 * A write that holds only while the space is in one state (e.g. pull progress while STARTING),
 * as one conditional UPDATE. It cannot change the status: see lifecycle.ts for that.
 */
export async function updateWhile(db: Db, id: string, status: SpaceStatus, set: SpaceChanges): Promise<SpaceRow | null> {
  const [row] = await db
    .update(spaces)
    .set({ ...set, updatedAt: new Date() })
    .where(and(eq(spaces.id, id), eq(spaces.status, status)))
    .returning();
  return row ?? null;
}

export async function findSpace(db: Db, id: string): Promise<SpaceRow | null> {
  const [row] = await db.select().from(spaces).where(eq(spaces.id, id));
  return row ?? null;
}

/** `userId`: the user a SHARED or UNSHARED event concerns, or a TRANSFERRED space's previous owner. */
export function publishSpace(pubsub: PubSub, space: Pick<SpaceRow, 'id' | 'ownerId'>, kind: SpaceChangeKind, userId?: string): Promise<void> {
  return pubsub.publish('space', { spaceId: space.id, ownerId: space.ownerId, kind, ...(userId ? { userId } : {}) });
}
