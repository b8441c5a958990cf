import { installation } from '../../schema/db/index.js';
import type { Db } from './db.js';

/**
 * The id of this installation, made at first boot and the same in every replica sharing the
 * database (the table holds one row: racing inserts leave the first one standing).
 */
export async function loadInstallationId(db: Db): Promise<string> {
  await db.insert(installation).values({}).onConflictDoNothing();
  const [row] = await db.select({ id: installation.id }).from(installation);
  if (!row) throw new Error('the installation id could not be stored');
  return row.id;
}
