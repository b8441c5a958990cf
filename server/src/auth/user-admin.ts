import { count, eq, inArray, sql } from 'drizzle-orm';
import { roles, spaces, userRoles, users } from '../../../schema/db/index.js';
import { recordUserEvent } from '../webhooks/events.js';
import { recordAudit } from '../audit.js';
import { KnotError, badInput, notFound } from '../errors.js';
import { replanSpaces } from '../scheduler/replan.js';
import { authChanged, endCredentials, insertUser, type AccountDeps, type NewUserInput } from './accounts.js';
import { ADMIN_ROLE_ID, lacking } from './permissions.js';
import { isForeignKeyViolation, nameTakenOnRace } from './unique.js';
import { checkLimit } from '../groups/limits.js';
import { checkGroupIds, setUserGroups } from '../groups/store.js';
import { generateServicePassword, hashPassword } from './secrets.js';
import { checkEmail, checkPassword, checkShell, checkTimezone, isUuid } from './validation.js';
import { loadPermissions, type UserRow, type Viewer } from './viewer.js';

/**
 * The roles exist, and the viewer may hand them out: an admin any role; anyone else (MANAGE_USERS)
 * only roles whose permissions they hold themselves, so managing users is no way to gain more.
 */
async function checkRoleIds(deps: AccountDeps, viewer: Viewer, roleIds: string[]): Promise<string[]> {
  const unique = [...new Set(roleIds)];
  if (!unique.length) return [];
  if (!unique.every(isUuid)) throw badInput('roleIds', 'A role id is not valid.');
  const found = await deps.db.select().from(roles).where(inArray(roles.id, unique));
  if (found.length !== unique.length) throw notFound('One of the roles');
  if (!viewer.isAdmin) {
    if (found.some((r) => r.id === ADMIN_ROLE_ID)) throw new KnotError('FORBIDDEN', 'Only an admin can grant the Admin role.');
    const beyond = found.filter((r) => lacking(viewer, r.permissions).length > 0);
    if (beyond.length) {
      throw new KnotError('FORBIDDEN', `You cannot grant the role "${beyond[0]!.name}": it has permissions you do not have.`);
    }
  }
  return unique;
}

export async function createUser(deps: AccountDeps, viewer: Viewer, input: NewUserInput): Promise<UserRow> {
  const roleIds = await checkRoleIds(deps, viewer, input.roleIds ?? []);
  return deps.db.transaction(async (tx) => {
    const user = await insertUser(tx, input, deps.config.passwordHashCost);
    if (roleIds.length) await tx.insert(userRoles).values(roleIds.map((roleId) => ({ userId: user.id, roleId })));
    await recordAudit(tx, viewer, { action: 'createUser', objectType: 'user', objectId: user.id, details: { username: user.username, roleIds } });
    return user;
  });
}

export interface UpdateUserInput {
  email?: string | null;
  active?: boolean | null;
  password?: string | null;
  preferredShell?: string | null;
  timezone?: string | null;
  roleIds?: string[] | null;
  /** Admins can reset a user's service password to a new random one, never read or set it. */
  resetServicePassword?: boolean | null;
  /** Replaces the user's groups (the caller checked MANAGE_GROUPS). */
  groupIds?: string[] | null;
  /** Replaces the per-user limits; null clears them; absent leaves them (the caller checked MANAGE_GROUPS). */
  quotaOverride?: { maxSpaces?: number | null; computeUnits?: number | null; storageUnits?: number | null } | null;
}

export async function updateUser(deps: AccountDeps, viewer: Viewer, id: string, input: UpdateUserInput): Promise<UserRow> {
  if (!isUuid(id)) throw notFound('That user');
  if (id === viewer.user.id && input.active === false) {
    throw new KnotError('FORBIDDEN', 'You cannot deactivate your own account.');
  }
  if (id === viewer.user.id && input.roleIds && !input.roleIds.includes(ADMIN_ROLE_ID) && viewer.isAdmin) {
    throw new KnotError('FORBIDDEN', 'You cannot remove the Admin role from yourself.');
  }
  const touchesQuota = input.groupIds != null || input.quotaOverride !== undefined;
  if (id === viewer.user.id && touchesQuota && !viewer.isAdmin) {
    // Otherwise managing groups would be a way to raise one's own quota or reach more templates.
    throw new KnotError('FORBIDDEN', 'Only an admin can change their own groups or quotas.');
  }
  const changes: Partial<typeof users.$inferInsert> = {};
  if (input.email != null) changes.email = checkEmail(input.email);
  if (input.active != null) changes.active = input.active;
  if (input.password != null) changes.passwordHash = await hashPassword(checkPassword(input.password), deps.config.passwordHashCost);
  if (input.preferredShell != null) changes.preferredShell = checkShell(input.preferredShell);
  if (input.timezone != null) changes.timezone = checkTimezone(input.timezone);
  if (input.resetServicePassword) changes.servicePassword = generateServicePassword();
  if (input.quotaOverride !== undefined) {
    const o = input.quotaOverride ?? {};
    changes.maxSpacesOverride = checkLimit('quotaOverride.maxSpaces', o.maxSpaces, 'maximum number of spaces');
    changes.computeUnitsOverride = checkLimit('quotaOverride.computeUnits', o.computeUnits, 'compute units');
    changes.storageUnitsOverride = checkLimit('quotaOverride.storageUnits', o.storageUnits, 'storage units');
  }
  await checkWithinReach(deps, viewer, id, 'change');
  const roleIds = input.roleIds ? await checkRoleIds(deps, viewer, input.roleIds) : null;
  const groupIds = input.groupIds ? await checkGroupIds(deps.db, input.groupIds) : null;

  const user = await deps.db
    .transaction(async (tx) => {
      if (changes.email) {
        const [clash] = await tx
          .select({ id: users.id })
          .from(users)
          .where(sql`lower(${users.email}) = lower(${changes.email}) and ${users.id} <> ${id}`);
        if (clash) throw new KnotError('NAME_TAKEN', `The email ${changes.email} is already used by another user.`, { field: 'email' });
      }
      const [row] = await tx
        .update(users)
        .set({ ...changes, updatedAt: new Date() })
        .where(eq(users.id, id))
        .returning();
      if (!row) throw notFound('That user');
      // A reset password means the old one is not to be trusted: every session and token made with it ends.
      if (changes.passwordHash) await endCredentials(tx, id, id === viewer.user.id ? viewer.credential : undefined);
      if (roleIds) {
        await tx.delete(userRoles).where(eq(userRoles.userId, id));
        if (roleIds.length) await tx.insert(userRoles).values(roleIds.map((roleId) => ({ userId: id, roleId })));
      }
      if (groupIds) await setUserGroups(tx, id, groupIds);
      const changed = [
        ...Object.keys(changes).map((k) => (k === 'passwordHash' ? 'password' : k)),
        ...(roleIds ? ['roles'] : []),
        ...(groupIds ? ['groups'] : []),
      ];
      await recordAudit(tx, viewer, { action: 'updateUser', objectType: 'user', objectId: id, details: { changed, ...(groupIds ? { groupIds } : {}) } });
      return row;
    })
    .catch(nameTakenOnRace('email', `The email ${changes.email} is already used by another user.`))
    .catch((err) => {
      // A group deleted between the check and the write.
      if (isForeignKeyViolation(err)) throw new KnotError('NOT_FOUND', 'One of the groups was not found.', { field: 'groupIds' });
      throw err;
    });
  await authChanged(deps, { userId: id });
  // Schedules are read in the owner's time zone: running spaces' window ends move with it.
  if (changes.timezone) await replanSpaces(deps, eq(spaces.ownerId, id));
  return user;
}

export async function deleteUser(deps: AccountDeps, viewer: Viewer, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound('That user');
  if (id === viewer.user.id) throw new KnotError('FORBIDDEN', 'You cannot delete your own account.');
  await checkWithinReach(deps, viewer, id, 'delete');
  await deps.db.transaction(async (tx) => {
    // Deleting the row would cascade to the spaces' rows but leave their containers and volumes
    // running unowned; the spaces are deleted first, through their own lifecycle. The row is locked
    // before counting, so a createSpace in flight (it locks the owner's row) is counted, not cascaded away.
    await tx.select({ id: users.id }).from(users).where(eq(users.id, id)).for('update');
    const [owned] = await tx.select({ n: count() }).from(spaces).where(eq(spaces.ownerId, id));
    if (owned!.n > 0) {
      throw new KnotError(
        'USER_HAS_SPACES',
        `This user still has ${owned!.n} space${owned!.n === 1 ? '' : 's'}. Delete them first, or deactivate the account instead.`,
        { spaces: owned!.n },
      );
    }
    const [row] = await tx.delete(users).where(eq(users.id, id)).returning({ id: users.id, username: users.username, email: users.email });
    if (!row) throw notFound('That user');
    await recordUserEvent(tx, 'user.deleted', row);
    await recordAudit(tx, viewer, { action: 'deleteUser', objectType: 'user', objectId: id, details: { username: row.username } });
  });
  await authChanged(deps, { userId: id });
}

/**
 * Acting on a user who holds a permission the viewer lacks (or is an Admin) is refused: setting
 * their password, say, would be signing in as them and holding what they hold.
 */
export async function checkWithinReach(deps: AccountDeps, viewer: Viewer, userId: string, verb: string): Promise<void> {
  if (viewer.isAdmin || userId === viewer.user.id) return;
  const target = await loadPermissions(deps.db, userId);
  if (target.isAdmin) throw new KnotError('FORBIDDEN', `Only an admin can ${verb} another admin.`);
  const beyond = lacking(viewer, target.permissions);
  if (beyond.length) {
    throw new KnotError('FORBIDDEN', `You cannot ${verb} this user: they hold ${beyond.join(', ')}, which you do not.`);
  }
}

/**
 * Signs a user out everywhere: every session and API token ends at once, open WebSockets and
 * subscriptions included. On yourself it keeps the credential you are using.
 */
export async function revokeUserSessions(deps: AccountDeps, viewer: Viewer, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound('That user');
  await checkWithinReach(deps, viewer, id, 'sign out');
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.select({ id: users.id }).from(users).where(eq(users.id, id));
    if (!row) throw notFound('That user');
    await endCredentials(tx, id, id === viewer.user.id ? viewer.credential : undefined);
    await recordAudit(tx, viewer, { action: 'revokeUserSessions', objectType: 'user', objectId: id });
  });
  await authChanged(deps, { userId: id });
}
