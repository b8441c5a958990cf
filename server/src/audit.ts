import { auditLog } from '../../schema/db/index.js';
import type { Db } from './db.js';
import type { Viewer } from './auth/viewer.js';

export interface AuditEntry {
  action: string;
  objectType: string;
  objectId?: string | null;
  details?: Record<string, unknown>;
}

/** Written inside the mutation's transaction where there is one, so the log never claims a change that rolled back. */
/** `actor` is the viewer, or who acts before there is one (setup, login), or null for the server itself. */
export async function recordAudit(db: Db, actor: Viewer | { id: string | null; name: string } | null, entry: AuditEntry) {
  const who =
    actor && 'user' in actor ? { actorId: actor.user.id, actorName: actor.user.username } : { actorId: actor?.id ?? null, actorName: actor?.name ?? 'system' };
  await db.insert(auditLog).values({
    ...who,
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId ?? null,
    details: entry.details ?? {},
  });
}
