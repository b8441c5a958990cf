import { eq } from 'drizzle-orm';
import { spaces, users } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import { can, type Viewer } from '../auth/viewer.js';
import { isForeignKeyViolation, isUniqueViolation } from '../auth/unique.js';
import { checkShell } from '../auth/validation.js';
import { KnotError, forbidden, notFound } from '../errors.js';
import { getTemplate, isUuid } from '../templates/store.js';
import { getManagedSpace } from './access.js';
import type { SpaceDeps } from './deps.js';
import { insertSpace } from './lifecycle.js';
import { checkSpaceNames, findNameClash, nameTaken } from './names.js';
import { checkCreateQuota, lockOwner, requireTemplateOpen } from './quotas.js';
import { publishSpace, type SpaceRow } from './store.js';

/**
 * Creating and renaming spaces. Changes of state (start, stop, restart, delete) are lifecycle.ts's.
 */

/**
 * Additional names have no unique index (they live in an array), so the check-then-write of two
 * racing creates or renames for one owner is serialised on the owner's row instead.
 */
async function lockOwnerNames(tx: SpaceDeps['db'], ownerId: string) {
  // Deleted since it was read: NOT_FOUND (deleteUser locks the same row, so it cannot happen after this).
  await lockOwner(tx, ownerId);
}

export interface CreateSpaceInput {
  templateId: string;
  name: string;
  shell?: string | null;
  altNames?: string[] | null;
  userId?: string | null;
}

export async function createSpace(deps: SpaceDeps, viewer: Viewer, input: CreateSpaceInput): Promise<SpaceRow> {
  const ownerId = input.userId ?? viewer.user.id;
  if (ownerId !== viewer.user.id && !can(viewer, 'MANAGE_SPACES')) throw forbidden('create spaces for other users');
  const [owner] = isUuid(ownerId) ? await deps.db.select().from(users).where(eq(users.id, ownerId)) : [];
  if (!owner) throw notFound('That user');
  const names = checkSpaceNames(input.name, input.altNames ?? []);
  const template = await getTemplate(deps.db, input.templateId).catch(() => {
    throw new KnotError('NOT_FOUND', 'That template was not found.', { field: 'templateId' });
  });
  const shell = checkShell(input.shell ?? template.shell ?? owner.preferredShell);
  if (!template.active) throw new KnotError('BAD_USER_INPUT', `The template "${template.name}" is not active.`, { field: 'templateId' });
  await requireTemplateOpen(deps.db, template, owner, viewer.user.id);

  const space = await deps.db.transaction(async (tx) => {
    await lockOwnerNames(tx, ownerId);
    const taken = await tx.select({ name: spaces.name, altNames: spaces.altNames }).from(spaces).where(eq(spaces.ownerId, ownerId));
    const clash = findNameClash([names.name, ...names.altNames], taken);
    if (clash) throw nameTaken(clash);
    // Under the owner's lock (above), so racing creates are counted one after the other.
    await checkCreateQuota(tx, ownerId, template);
    const row = await insertSpace(tx, { ...names, shell, ownerId, templateId: template.id });
    await recordAudit(tx, viewer, {
      action: 'createSpace',
      objectType: 'space',
      objectId: row.id,
      details: { name: names.name, ownerId, templateId: template.id },
    });
    return row;
  }).catch((err) => {
    // Two creates racing for one name: the unique index decides, and the loser hears why.
    if (isUniqueViolation(err)) throw nameTaken({ wanted: names.name, owner: names.name });
    // The template was deleted since it was read (the owner's row is locked above).
    if (isForeignKeyViolation(err)) throw new KnotError('NOT_FOUND', 'That template was not found.', { field: 'templateId' });
    throw err;
  });
  await publishSpace(deps.pubsub, space, 'CREATED');
  return space;
}

export async function updateSpace(
  deps: SpaceDeps,
  viewer: Viewer,
  id: string,
  input: { name?: string | null; altNames?: string[] | null; shell?: string | null },
): Promise<SpaceRow> {
  const current = await getManagedSpace(deps, viewer, id, 'edit');
  const names = checkSpaceNames(input.name ?? current.name, input.altNames ?? current.altNames);
  const shell = input.shell != null ? checkShell(input.shell) : current.shell;
  const updated = await deps.db.transaction(async (tx) => {
    await lockOwnerNames(tx, current.ownerId);
    const others = (await tx.select().from(spaces).where(eq(spaces.ownerId, current.ownerId))).filter((s) => s.id !== id);
    const clash = findNameClash([names.name, ...names.altNames], others);
    if (clash) throw nameTaken(clash);
    const [row] = await tx
      .update(spaces)
      .set({ ...names, shell, updatedAt: new Date() })
      .where(eq(spaces.id, id))
      .returning();
    // Deleted since it was read: the same answer as if the delete had come first.
    if (!row) throw notFound('That space');
    await recordAudit(tx, viewer, { action: 'updateSpace', objectType: 'space', objectId: id, details: { ...names, shell } });
    return row;
  });
  await publishSpace(deps.pubsub, updated, 'RENAMED');
  return updated;
}
