import { randomBytes } from 'node:crypto';
import { isNull } from 'drizzle-orm';
import { installation } from '../../../schema/db/index.js';
import type { Db } from '../db.js';

/**
 * The key replicas sign relay requests with: KNOT_REPLICA_SECRET when the operator sets one (it must
 * then be the same on every replica), else one made by the first replica and kept on the
 * installation row, so replicas sharing the database agree on it with nothing to configure.
 */
export async function loadReplicaSecret(db: Db, configured: string | undefined): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'utf8');
  // Racing replicas: the first write wins, the others read it back.
  await db.update(installation).set({ replicaSecret: randomBytes(32).toString('base64url') }).where(isNull(installation.replicaSecret));
  const [row] = await db.select({ secret: installation.replicaSecret }).from(installation);
  if (!row?.secret) throw new Error('the replica secret could not be stored');
  return Buffer.from(row.secret, 'utf8');
}
