import { asc, eq, inArray, sql } from 'drizzle-orm';
import { groupMembers, groups, templateGroups, templates, userIdentities } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import { isForeignKeyViolation, nameTakenOnRace } from '../auth/unique.js';
import { isUuid } from '../auth/validation.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db.js';
import { KnotError, badInput, notFound } from '../errors.js';
import { checkLimit } from './limits.js';

export type GroupRow = typeof groups.$inferSelect;

export interface GroupInput {
  name?: string | null;
  description?: string | null;
  /** Absent: unchanged (on update); null: unlimited. */
  maxSpaces?: number | null;
  computeUnits?: number | null;
  storageUnits?: number | null;
}

const MAX_NAME = 64;
const MAX_DESCRIPTION = 2_000;

function checkName(value: string): string {
  const name = value.trim();
  if (!name) throw badInput('name', 'A group needs a name.');
  if (name.length > MAX_NAME) throw badInput('name', `A group name can be at most ${MAX_NAME} characters.`);
  return name;
}

function checkDescription(value: string): string {
  if (value.length > MAX_DESCRIPTION) throw badInput('description', `The description can be at most ${MAX_DESCRIPTION} characters.`);
  return value;
}

const LIMIT_WORDS = { maxSpaces: 'maximum number of spaces', computeUnits: 'compute units', storageUnits: 'storage units' } as const;

/** The limits present in the input, checked; absent ones stay out (unchanged on update). */
function checkLimits(input: GroupInput): Partial<Pick<GroupRow, 'maxSpaces' | 'computeUnits' | 'storageUnits'>> {
  const out: Partial<Pick<GroupRow, 'maxSpaces' | 'computeUnits' | 'storageUnits'>> = {};
  for (const key of ['maxSpaces', 'computeUnits', 'storageUnits'] as const) {
    if (input[key] !== undefined) out[key] = checkLimit(key, input[key], LIMIT_WORDS[key]);
  }
  return out;
}

async function checkNameFree(db: Db, name: string, exceptId?: string) {
  const [clash] = await db
    .select({ id: groups.id })
    .from(groups)
    .where(sql`lower(${groups.name}) = lower(${name})${exceptId ? sql` and ${groups.id} <> ${exceptId}` : sql``}`);
  if (clash) throw new KnotError('NAME_TAKEN', `A group named "${name}" already exists.`, { field: 'name' });
}

export async function listGroups(db: Db): Promise<GroupRow[]> {
  return db.select().from(groups).orderBy(asc(groups.name));
}

export async function getGroup(db: Db, id: string): Promise<GroupRow> {
  const [row] = isUuid(id) ? await db.select().from(groups).where(eq(groups.id, id)) : [];
  if (!row) throw notFound('That group');
  return row;
}

export async function createGroup(db: Db, viewer: Viewer, input: GroupInput): Promise<GroupRow> {
  const name = checkName(input.name ?? '');
  const values = { name, description: checkDescription(input.description ?? ''), ...checkLimits(input) };
  await checkNotOwnProviderGroup(db, viewer, name);
  await checkNameFree(db, name);
  return db
    .transaction(async (tx) => {
      const [row] = await tx.insert(groups).values(values).returning();
      await recordAudit(tx, viewer, { action: 'createGroup', objectType: 'group', objectId: row!.id, details: { ...values } });
      return row!;
    })
    .catch(nameTakenOnRace('name', `A group named "${name}" already exists.`));
}

export async function updateGroup(db: Db, viewer: Viewer, id: string, input: GroupInput): Promise<GroupRow> {
  const current = await getGroup(db, id);
  const changes: Partial<GroupRow> = { ...checkLimits(input) };
  if (input.name != null) changes.name = checkName(input.name);
  if (input.description != null) changes.description = checkDescription(input.description);
  const renamed = !!changes.name && changes.name.toLowerCase() !== current.name.toLowerCase();
  if (!viewer.isAdmin && (renamed || Object.keys(changes).some((k) => k in LIMIT_WORDS)) && (await isMember(db, id, viewer.user.id))) {
    // Otherwise managing groups would be a way to raise one's own quota; and with single sign-on
    // membership follows the name, so renaming one's own group is leaving it at the next sign-in.
    throw new KnotError('FORBIDDEN', `Only an admin can change the ${renamed ? 'name' : 'limits'} of a group they belong to.`);
  }
  if (renamed) {
    await checkNotOwnProviderGroup(db, viewer, changes.name!);
    await checkNameFree(db, changes.name!, id);
  }
  return db
    .transaction(async (tx) => {
      const [row] = await tx
        .update(groups)
        .set({ ...changes, updatedAt: new Date() })
        .where(eq(groups.id, id))
        .returning();
      if (!row) throw notFound('That group');
      await recordAudit(tx, viewer, { action: 'updateGroup', objectType: 'group', objectId: id, details: { ...changes } });
      return row;
    })
    .catch(nameTakenOnRace('name', `A group named "${changes.name}" already exists.`));
}

/**
 * Refused with GROUP_IN_USE while templates name the group: dropping it from them would open a
 * template whose only group it was to everyone. Its members simply leave it.
 */
export async function deleteGroup(db: Db, viewer: Viewer, id: string): Promise<void> {
  const current = await getGroup(db, id);
  if (!viewer.isAdmin && (await isMember(db, id, viewer.user.id))) {
    // Its members leave it, and a user in no group has no limits: deleting one's own group would lift one's quota.
    throw new KnotError('FORBIDDEN', 'Only an admin can delete a group they belong to.');
  }
  const inUse = () => refuseInUse(db, id, current.name);
  await inUse();
  await db
    .transaction(async (tx) => {
      await tx.delete(groups).where(eq(groups.id, id));
      await recordAudit(tx, viewer, { action: 'deleteGroup', objectType: 'group', objectId: id, details: { name: current.name } });
    })
    .catch(async (err) => {
      // A template took the group meanwhile: the foreign key (restrict) refused; say which.
      if (isForeignKeyViolation(err)) await inUse();
      throw err;
    });
}

async function refuseInUse(db: Db, groupId: string, groupName: string) {
  const using = await db
    .select({ id: templates.id, name: templates.name })
    .from(templateGroups)
    .innerJoin(templates, eq(templates.id, templateGroups.templateId))
    .where(eq(templateGroups.groupId, groupId))
    .orderBy(asc(templates.name));
  if (!using.length) return;
  const names = using.map((t) => `"${t.name}"`).join(', ');
  throw new KnotError(
    'GROUP_IN_USE',
    `The group "${groupName}" is used by the template${using.length === 1 ? '' : 's'} ${names}; remove it from ${using.length === 1 ? 'that template' : 'them'} first.`,
    { templates: using },
  );
}

/**
 * With single sign-on group sync, a Knot group whose name the provider's groups claim carries is
 * joined at the next sign-in (oidc/sign-in.ts). A group manager naming a group (a new one, or a
 * stronger one renamed) after a provider group of their own would so put themselves in it, which
 * only an admin may do (as with updateUser's groupIds on oneself).
 */
async function checkNotOwnProviderGroup(db: Db, viewer: Viewer, name: string): Promise<void> {
  if (viewer.isAdmin) return;
  const identities = await db.select({ groupNames: userIdentities.groupNames }).from(userIdentities).where(eq(userIdentities.userId, viewer.user.id));
  const wanted = name.toLowerCase();
  if (identities.some((i) => i.groupNames?.some((g) => g.toLowerCase() === wanted))) {
    throw new KnotError(
      'FORBIDDEN',
      `Only an admin can name a group "${name}": your sign-in provider puts you in a group of that name, so you would join it at your next sign-in.`,
      { field: 'name' },
    );
  }
}

async function isMember(db: Db, groupId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ groupId: groupMembers.groupId })
    .from(groupMembers)
    .where(sql`${groupMembers.groupId} = ${groupId} and ${groupMembers.userId} = ${userId}`);
  return !!row;
}

/** The ids, deduplicated, each naming a group (NOT_FOUND otherwise, with the field). */
export async function checkGroupIds(db: Db, ids: readonly string[], field = 'groupIds'): Promise<string[]> {
  const unique = [...new Set(ids.map(String))];
  if (!unique.length) return [];
  const found = unique.every(isUuid) ? await db.select({ id: groups.id }).from(groups).where(inArray(groups.id, unique)) : [];
  if (found.length !== unique.length) throw new KnotError('NOT_FOUND', 'One of the groups was not found.', { field });
  return unique;
}

/** Replaces a user's groups (inside the caller's transaction). */
export async function setUserGroups(tx: Db, userId: string, groupIds: readonly string[]): Promise<void> {
  await tx.delete(groupMembers).where(eq(groupMembers.userId, userId));
  if (groupIds.length) await tx.insert(groupMembers).values(groupIds.map((groupId) => ({ groupId, userId })));
}

/** Replaces a template's groups (inside the caller's transaction). */
export async function setTemplateGroups(tx: Db, templateId: string, groupIds: readonly string[]): Promise<void> {
  await tx.delete(templateGroups).where(eq(templateGroups.templateId, templateId));
  if (groupIds.length) await tx.insert(templateGroups).values(groupIds.map((groupId) => ({ groupId, templateId })));
}

/** Each id's groups, in the order asked (for DataLoaders). */
export async function groupIdsOfUsers(db: Db, userIds: readonly string[]): Promise<string[][]> {
  const rows = await db.select().from(groupMembers).where(inArray(groupMembers.userId, [...userIds]));
  return userIds.map((id) => rows.filter((r) => r.userId === id).map((r) => r.groupId));
}

export async function groupIdsOfTemplates(db: Db, templateIds: readonly string[]): Promise<string[][]> {
  const rows = await db.select().from(templateGroups).where(inArray(templateGroups.templateId, [...templateIds]));
  return templateIds.map((id) => rows.filter((r) => r.templateId === id).map((r) => r.groupId));
}
