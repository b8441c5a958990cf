import { eq, sql } from 'drizzle-orm';
import { roles } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import { KnotError, badInput, notFound } from '../errors.js';
import { authChanged, type AccountDeps } from './accounts.js';
import { isPermission, lacking } from './permissions.js';
import { nameTakenOnRace } from './unique.js';
import { LIMITS, checkLength, isUuid } from './validation.js';
import type { Viewer } from './viewer.js';

export type RoleRow = typeof roles.$inferSelect;

function checkPermissions(viewer: Viewer, list: string[]): string[] {
  const bad = list.filter((p) => !isPermission(p));
  if (bad.length) throw badInput('permissions', `Unknown permission ${bad.join(', ')}.`);
  const beyond = lacking(viewer, list);
  if (beyond.length) {
    throw new KnotError('FORBIDDEN', `You cannot grant ${beyond.join(', ')}: you do not hold ${beyond.length > 1 ? 'them' : 'it'} yourself.`, {
      field: 'permissions',
    });
  }
  return [...new Set(list)];
}

/** A role holding more than the viewer is out of their reach: changing or deleting it is acting above themselves. */
function checkWithinReach(viewer: Viewer, role: RoleRow) {
  const beyond = lacking(viewer, role.permissions);
  if (beyond.length) {
    throw new KnotError('FORBIDDEN', `You cannot change the role "${role.name}": it has ${beyond.join(', ')}, which you do not hold.`);
  }
}

async function checkNameFree(deps: AccountDeps, name: string, exceptId?: string) {
  const [clash] = await deps.db
    .select({ id: roles.id })
    .from(roles)
    .where(sql`lower(${roles.name}) = lower(${name})${exceptId ? sql` and ${roles.id} <> ${exceptId}` : sql``}`);
  if (clash) throw new KnotError('NAME_TAKEN', `A role named "${name}" already exists.`, { field: 'name' });
}

export async function createRole(deps: AccountDeps, viewer: Viewer, input: { name: string; permissions: string[] }): Promise<RoleRow> {
  const name = checkLength('name', input.name, LIMITS.roleName, 'role name');
  const permissions = checkPermissions(viewer, input.permissions);
  await checkNameFree(deps, name);
  return deps.db
    .transaction(async (tx) => {
      const [row] = await tx.insert(roles).values({ name, permissions }).returning();
      await recordAudit(tx, viewer, { action: 'createRole', objectType: 'role', objectId: row!.id, details: { name, permissions } });
      return row!;
    })
    .catch(nameTakenOnRace('name', `A role named "${name}" already exists.`));
}

async function editableRole(deps: AccountDeps, id: string): Promise<RoleRow> {
  if (!isUuid(id)) throw notFound('That role');
  const [role] = await deps.db.select().from(roles).where(eq(roles.id, id));
  if (!role) throw notFound('That role');
  if (role.builtIn) throw new KnotError('FORBIDDEN', `The built-in ${role.name} role cannot be changed or deleted.`);
  return role;
}

export async function updateRole(
  deps: AccountDeps,
  viewer: Viewer,
  id: string,
  input: { name?: string | null; permissions?: string[] | null },
): Promise<RoleRow> {
  checkWithinReach(viewer, await editableRole(deps, id));
  const changes: Partial<RoleRow> = {};
  if (input.name != null) {
    changes.name = checkLength('name', input.name, LIMITS.roleName, 'role name');
    await checkNameFree(deps, changes.name, id);
  }
  if (input.permissions != null) changes.permissions = checkPermissions(viewer, input.permissions);
  const row = await deps.db
    .transaction(async (tx) => {
      const [updated] = await tx.update(roles).set(changes).where(eq(roles.id, id)).returning();
      await recordAudit(tx, viewer, { action: 'updateRole', objectType: 'role', objectId: id, details: { ...changes } });
      return updated!;
    })
    .catch(nameTakenOnRace('name', `A role named "${changes.name}" already exists.`));
  await authChanged(deps, {});
  return row;
}

export async function deleteRole(deps: AccountDeps, viewer: Viewer, id: string): Promise<void> {
  const role = await editableRole(deps, id);
  checkWithinReach(viewer, role);
  await deps.db.transaction(async (tx) => {
    await tx.delete(roles).where(eq(roles.id, id));
    await recordAudit(tx, viewer, { action: 'deleteRole', objectType: 'role', objectId: id, details: { name: role.name } });
  });
  await authChanged(deps, {});
}
