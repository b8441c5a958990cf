import { asc } from 'drizzle-orm';
import { roles } from '../../../schema/db/index.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { createRole, deleteRole, updateRole, type RoleRow } from '../auth/role-admin.js';
import { builder } from './builder.js';
import { requirePermission, requireViewer } from './context.js';

export const PermissionEnum = builder.enumType('Permission', { values: PERMISSIONS });
export const RoleRef = builder.objectRef<RoleRow>('Role');

RoleRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    permissions: t.field({
      type: [PermissionEnum],
      description: 'The built-in Admin role implies every permission.',
      resolve: (r) => (r.builtIn ? [...PERMISSIONS] : (r.permissions as (typeof PERMISSIONS)[number][])),
    }),
    builtIn: t.exposeBoolean('builtIn'),
  }),
});

builder.queryFields((t) => ({
  roles: t.field({
    type: [RoleRef],
    resolve: (_root, _args, ctx) => {
      requireViewer(ctx);
      return ctx.services.db.select().from(roles).orderBy(asc(roles.name));
    },
  }),
}));

builder.mutationFields((t) => ({
  createRole: t.field({
    type: RoleRef,
    args: { name: t.arg.string({ required: true }), permissions: t.arg({ type: [PermissionEnum], required: true }) },
    resolve: (_root, args, ctx) => createRole(ctx.services, requirePermission(ctx, 'MANAGE_ROLES', 'create roles'), args),
  }),
  updateRole: t.field({
    type: RoleRef,
    args: {
      id: t.arg.id({ required: true }),
      name: t.arg.string(),
      permissions: t.arg({ type: [PermissionEnum] }),
    },
    resolve: (_root, { id, ...input }, ctx) =>
      updateRole(ctx.services, requirePermission(ctx, 'MANAGE_ROLES', 'edit roles'), String(id), input),
  }),
  deleteRole: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteRole(ctx.services, requirePermission(ctx, 'MANAGE_ROLES', 'delete roles'), String(id));
      return true;
    },
  }),
}));
