import { eq, sql } from 'drizzle-orm';
import { groupMembers, groups, spaces, templateGroups, templates, users } from '../../../schema/db/index.js';
import type { Db } from '../db.js';
import { KnotError, notFound } from '../errors.js';

/**
 * Quotas and template access. How limits combine (docs/quotas.md):
 * - a user in no group has no limits;
 * - otherwise each limit is the most generous of their groups', and a group without that limit
 *   (null) makes it unlimited;
 * - a per-user override, where set, replaces what the groups give, either way.
 * What counts: every space (spaces), the storage units of every space's template (storage), and
 * the compute units of the templates of STARTING and RUNNING spaces (compute).
 */

export interface Limits {
  maxSpaces: number | null;
  maxComputeUnits: number | null;
  maxStorageUnits: number | null;
}

export interface Usage extends Limits {
  spaces: number;
  computeUnits: number;
  storageUnits: number;
}

/** A space holds compute units while STARTING or RUNNING (written out in the SQL below). */

const mostGenerous = (values: (number | null)[]): number | null =>
  values.some((v) => v === null) ? null : Math.max(...(values as number[]));

export async function limitsOf(db: Db, userId: string): Promise<Limits> {
  const [user] = await db
    .select({ maxSpaces: users.maxSpacesOverride, compute: users.computeUnitsOverride, storage: users.storageUnitsOverride })
    .from(users)
    .where(eq(users.id, userId));
  const rows = await db
    .select({ maxSpaces: groups.maxSpaces, compute: groups.computeUnits, storage: groups.storageUnits })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(groupMembers.userId, userId));
  const fromGroups = (pick: (r: (typeof rows)[number]) => number | null) => (rows.length ? mostGenerous(rows.map(pick)) : null);
  return {
    maxSpaces: user?.maxSpaces ?? fromGroups((r) => r.maxSpaces),
    maxComputeUnits: user?.compute ?? fromGroups((r) => r.compute),
    maxStorageUnits: user?.storage ?? fromGroups((r) => r.storage),
  };
}

/** What the user's spaces hold now, one query. */
export async function usedBy(db: Db, userId: string): Promise<Pick<Usage, 'spaces' | 'computeUnits' | 'storageUnits'>> {
  const [row] = await db
    .select({
      spaces: sql<number>`count(*)::int`,
      storageUnits: sql<number>`coalesce(sum(templates.storage_units), 0)::int`,
      computeUnits: sql<number>`coalesce(sum(templates.compute_units) filter (where spaces.status in ('STARTING', 'RUNNING')), 0)::int`,
    })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .where(eq(spaces.ownerId, userId));
  return row!;
}

export async function usageOf(db: Db, userId: string): Promise<Usage> {
  const [limits, used] = await Promise.all([limitsOf(db, userId), usedBy(db, userId)]);
  return { ...used, ...limits };
}

/**
 * Serialises every quota decision of one owner: held until the caller's transaction ends, so a
 * check and the write it allows commit together and ten racing starts are decided one by one.
 * Creating a space takes the same lock (service.ts), so spaces and storage are covered too.
 */
export async function lockOwner(tx: Db, ownerId: string): Promise<void> {
  const [owner] = await tx.select({ id: users.id }).from(users).where(eq(users.id, ownerId)).for('update');
  if (!owner) throw notFound('That user');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function exceeded(what: 'spaces' | 'computeUnits' | 'storageUnits', used: number, max: number, needed: number, message: string) {
  return new KnotError('QUOTA_EXCEEDED', message, { quota: what, used, max, needed });
}

/**
 * A new space of `template` for the owner fits (inside the transaction that inserts it, after
 * lockOwner): one more space, and its storage units on top of every existing space's.
 */
export async function checkCreateQuota(tx: Db, ownerId: string, template: { computeUnits: number; storageUnits: number }): Promise<void> {
  const [limits, used] = await Promise.all([limitsOf(tx, ownerId), usedBy(tx, ownerId)]);
  if (limits.maxSpaces !== null && used.spaces + 1 > limits.maxSpaces) {
    throw exceeded('spaces', used.spaces, limits.maxSpaces, 1, `${used.spaces} of ${plural(limits.maxSpaces, 'space')} in use; delete one before creating another.`);
  }
  if (limits.maxStorageUnits !== null && used.storageUnits + template.storageUnits > limits.maxStorageUnits) {
    throw exceeded(
      'storageUnits',
      used.storageUnits,
      limits.maxStorageUnits,
      template.storageUnits,
      `${used.storageUnits} of ${plural(limits.maxStorageUnits, 'storage unit')} in use; this template needs ${template.storageUnits}.`,
    );
  }
}

/**
 * The owner's computing spaces fit their compute quota, with `spaceId` counted as computing
 * whatever its status (it is being moved to STARTING or RUNNING in this transaction). The caller
 * holds lockOwner.
 */
export async function checkComputeQuota(tx: Db, ownerId: string, spaceId: string, limits?: Limits): Promise<void> {
  const { maxComputeUnits } = limits ?? (await limitsOf(tx, ownerId));
  if (maxComputeUnits === null) return;
  const [row] = await tx
    .select({
      others: sql<number>`coalesce(sum(templates.compute_units) filter (where spaces.id <> ${spaceId} and spaces.status in ('STARTING', 'RUNNING')), 0)::int`,
      needed: sql<number>`coalesce(max(templates.compute_units) filter (where spaces.id = ${spaceId}), 0)::int`,
    })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .where(eq(spaces.ownerId, ownerId));
  const { others, needed } = row!;
  if (others + needed > maxComputeUnits) {
    throw exceeded(
      'computeUnits',
      others,
      maxComputeUnits,
      needed,
      `${others} of ${plural(maxComputeUnits, 'compute unit')} in use; this template needs ${needed}.`,
    );
  }
}

/** A template is open to a user when it names no group, or one of theirs. */
export async function templateOpenTo(db: Db, templateId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({
      restricted: sql<boolean>`exists (select 1 from template_groups tg where tg.template_id = ${templateId})`,
      member: sql<boolean>`exists (select 1 from template_groups tg join group_members gm on gm.group_id = tg.group_id where tg.template_id = ${templateId} and gm.user_id = ${userId})`,
    })
    .from(templates)
    .where(eq(templates.id, templateId));
  // A template deleted meanwhile is not refused here: the caller's write meets its foreign key (NOT_FOUND).
  return !row || !row.restricted || row.member;
}

/** FORBIDDEN unless the template is open to the owner (whoever asks: Create Space For checks the owner). */
export async function requireTemplateOpen(db: Db, template: { id: string; name: string }, owner: { id: string; username: string }, viewerId: string | null): Promise<void> {
  if (await templateOpenTo(db, template.id, owner.id)) return;
  const who = owner.id === viewerId ? 'you are' : `${owner.username} is`;
  throw new KnotError('FORBIDDEN', `The template "${template.name}" is only for its groups, and ${who} in none of them.`, { field: 'templateId' });
}

/** The ids of the templates open to a user, among those restricted to groups (the rest are open to all). */
export async function templatesClosedTo(db: Db, userId: string): Promise<Set<string>> {
  const rows = await db
    .select({ templateId: templateGroups.templateId })
    .from(templateGroups)
    .groupBy(templateGroups.templateId)
    .having(
      sql`not bool_or(template_groups.group_id in (select gm.group_id from group_members gm where gm.user_id = ${userId}))`,
    );
  return new Set(rows.map((r) => r.templateId));
}

