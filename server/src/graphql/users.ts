import { asc, eq, inArray } from 'drizzle-orm';
import { SHELLS } from '../../../protocol/enums.js';
import { roles, userRoles, users } from '../../../schema/db/index.js';
import { createUser, deleteUser, revokeUserSessions, updateUser } from '../auth/user-admin.js';
import type { UserRow } from '../auth/viewer.js';
import { builder } from './builder.js';
import { requirePermission, requireViewer } from './context.js';
import { RoleRef } from './roles.js';
import { QuotaLimitsInput } from './quota-inputs.js';

export const UserRef = builder.objectRef<UserRow>('User');

/**
 * Rows returned as "your own profile" (me, updateProfile). Only these carry the service password,
 * so it never appears in a list or as a space's owner, not even the viewer's own.
 */
const ownProfiles = new WeakSet<UserRow>();
export function asOwnProfile(row: UserRow): UserRow {
  ownProfiles.add(row);
  return row;
}
export const ShellEnum = builder.enumType('Shell', { values: SHELLS });

UserRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    email: t.exposeString('email'),
    active: t.exposeBoolean('active'),
    preferredShell: t.field({ type: ShellEnum, resolve: (u) => u.preferredShell as 'bash' }),
    timezone: t.exposeString('timezone'),
    sshPublicKey: t.exposeString('sshPublicKey'),
    servicePassword: t.string({
      nullable: true,
      description: 'Only in your own `me` and `updateProfile`; null everywhere else (lists, other users, admins included).',
      resolve: (u, _args, ctx) => (ownProfiles.has(u) && ctx.viewer?.user.id === u.id ? u.servicePassword : null),
    }),
    roles: t.loadableList({
      type: RoleRef,
      load: async (userIds: string[], ctx) => {
        const rows = await ctx.services.db
          .select({ userId: userRoles.userId, role: roles })
          .from(userRoles)
          .innerJoin(roles, eq(roles.id, userRoles.roleId))
          .where(inArray(userRoles.userId, userIds));
        return userIds.map((id) => rows.filter((r) => r.userId === id).map((r) => r.role));
      },
      resolve: (u) => u.id,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    preferredShell: t.field({ type: ShellEnum }),
    timezone: t.string(),
    roleIds: t.idList(),
  }),
});

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  fields: (t) => ({
    email: t.string(),
    active: t.boolean({ description: 'false deactivates: the user can no longer log in and their tokens stop working.' }),
    password: t.string(),
    preferredShell: t.field({ type: ShellEnum }),
    timezone: t.string(),
    roleIds: t.idList({ description: 'Replaces the user\'s roles.' }),
    resetServicePassword: t.boolean(),
    groupIds: t.idList({
      description: "Replaces the user's groups (needs MANAGE_GROUPS; only an Admin changes their own). Leaving a group stops nothing that runs; the next start is checked.",
    }),
    quotaOverride: t.field({
      type: QuotaLimitsInput,
      description: 'Replaces the per-user limits (needs MANAGE_GROUPS; only an Admin changes their own); null clears them all.',
    }),
  }),
});

builder.queryFields((t) => ({
  users: t.field({
    type: [UserRef],
    description: 'Every user; needs MANAGE_USERS (or MANAGE_SPACES, to pick whom to "Create Space For").',
    resolve: async (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      if (!viewer.permissions.has('MANAGE_SPACES')) requirePermission(ctx, 'MANAGE_USERS', 'list users');
      return ctx.services.db.select().from(users).orderBy(asc(users.username));
    },
  }),
}));

builder.mutationFields((t) => ({
  createUser: t.field({
    type: UserRef,
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_root, { input }, ctx) => createUser(ctx.services, requirePermission(ctx, 'MANAGE_USERS', 'create users'), input),
  }),
  updateUser: t.field({
    type: UserRef,
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateUserInput, required: true }) },
    description: 'Account fields need MANAGE_USERS; groupIds and quotaOverride need MANAGE_GROUPS.',
    resolve: (_root, { id, input }, ctx) => {
      const { groupIds, quotaOverride, ...account } = input;
      const touchesGroups = groupIds != null || quotaOverride !== undefined;
      let viewer = requireViewer(ctx);
      if (!touchesGroups || Object.values(account).some((v) => v != null)) viewer = requirePermission(ctx, 'MANAGE_USERS', 'edit users');
      if (touchesGroups) viewer = requirePermission(ctx, 'MANAGE_GROUPS', "change users' groups and quotas");
      return updateUser(ctx.services, viewer, String(id), { ...account, groupIds: groupIds?.map(String), quotaOverride });
    },
  }),
  revokeUserSessions: t.boolean({
    description:
      'Ends every session and API token of the user (open WebSockets and subscriptions too). Needs MANAGE_USERS, and the user may hold no permission you lack. On yourself, the credential you are using stays.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await revokeUserSessions(ctx.services, requirePermission(ctx, 'MANAGE_USERS', 'sign users out'), String(id));
      return true;
    },
  }),
  deleteUser: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteUser(ctx.services, requirePermission(ctx, 'MANAGE_USERS', 'delete users'), String(id));
      return true;
    },
  }),
}));
