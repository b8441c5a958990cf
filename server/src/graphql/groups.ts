import { eq, inArray } from 'drizzle-orm';
import { groupMembers, groups, users } from '../../../schema/db/index.js';
import { can, type UserRow, type Viewer } from '../auth/viewer.js';
import { forbidden } from '../errors.js';
import {
  createGroup,
  deleteGroup,
  getGroup,
  groupIdsOfTemplates,
  groupIdsOfUsers,
  listGroups,
  updateGroup,
  type GroupRow,
} from '../groups/store.js';
import { usageOf, type Usage } from '../spaces/quotas.js';
import { builder } from './builder.js';
import { requirePermission, requireViewer, type Context } from './context.js';
import { TemplateRef } from './templates.js';
import { UserRef } from './users.js';

const COMBINE = 'A user in no group has no limits; in several, each limit is the most generous of their groups (a group without it: unlimited); a per-user override replaces it.';

export const UsageRef = builder.objectRef<Usage>('Usage').implement({
  description: `What a user's spaces hold now against their limits (null: unlimited). ${COMBINE}`,
  fields: (t) => ({
    spaces: t.exposeInt('spaces', { description: 'Every space, whatever its status.' }),
    maxSpaces: t.exposeInt('maxSpaces', { nullable: true }),
    computeUnits: t.exposeInt('computeUnits', { description: "The compute units of the templates of the user's STARTING and RUNNING spaces." }),
    maxComputeUnits: t.exposeInt('maxComputeUnits', { nullable: true }),
    storageUnits: t.exposeInt('storageUnits', { description: "The storage units of the templates of all the user's spaces." }),
    maxStorageUnits: t.exposeInt('maxStorageUnits', { nullable: true }),
  }),
});

interface QuotaLimits {
  maxSpaces: number | null;
  computeUnits: number | null;
  storageUnits: number | null;
}
const QuotaLimitsRef = builder.objectRef<QuotaLimits>('QuotaLimits').implement({
  description: 'Limits a user has whatever their groups say (each null: from the groups).',
  fields: (t) => ({
    maxSpaces: t.exposeInt('maxSpaces', { nullable: true }),
    computeUnits: t.exposeInt('computeUnits', { nullable: true }),
    storageUnits: t.exposeInt('storageUnits', { nullable: true }),
  }),
});


/** Group admins, user admins (the user form's picker) and template admins (the template form's picker). */
const mayListGroups = (viewer: Viewer) => can(viewer, 'MANAGE_GROUPS') || can(viewer, 'MANAGE_USERS') || can(viewer, 'MANAGE_TEMPLATES');

function requireGroupReader(ctx: Context): Viewer {
  const viewer = requireViewer(ctx);
  if (!mayListGroups(viewer)) throw forbidden('see groups');
  return viewer;
}

/** Who may read a user's usage: themselves, and those who manage users, groups or their spaces. */
const mayReadUsage = (viewer: Viewer | null, userId: string) =>
  !!viewer && (viewer.user.id === userId || can(viewer, 'MANAGE_USERS') || can(viewer, 'MANAGE_GROUPS') || can(viewer, 'MANAGE_SPACES'));

export const GroupRef = builder.objectRef<GroupRow>('Group');
GroupRef.implement({
  description: `Members may use the templates open to the group, within its limits (null: unlimited). ${COMBINE}`,
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    maxSpaces: t.exposeInt('maxSpaces', { nullable: true, description: 'How many spaces a member may have; null: unlimited.' }),
    computeUnits: t.exposeInt('computeUnits', { nullable: true, description: 'Compute units a member\'s running spaces may hold; null: unlimited.' }),
    storageUnits: t.exposeInt('storageUnits', { nullable: true, description: 'Storage units a member\'s spaces may hold; null: unlimited.' }),
    users: t.loadableList({
      type: UserRef,
      description: 'The members; needs MANAGE_GROUPS or MANAGE_USERS.',
      load: async (groupIds: string[], ctx: Context) => {
        const viewer = requireViewer(ctx);
        if (!can(viewer, 'MANAGE_GROUPS') && !can(viewer, 'MANAGE_USERS')) throw forbidden("see groups' members");
        const rows = await ctx.services.db
          .select({ groupId: groupMembers.groupId, user: users })
          .from(groupMembers)
          .innerJoin(users, eq(users.id, groupMembers.userId))
          .where(inArray(groupMembers.groupId, groupIds))
          .orderBy(users.username);
        return groupIds.map((id) => rows.filter((r) => r.groupId === id).map((r) => r.user));
      },
      resolve: (g) => g.id,
    }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.objectFields(UserRef, (t) => ({
  groupIds: t.loadableList({
    type: 'ID',
    description: 'The groups the user is in.',
    load: (userIds: string[], ctx: Context) => groupIdsOfUsers(ctx.services.db, userIds),
    resolve: (u: UserRow) => u.id,
  }),
  quotaOverride: t.field({
    type: QuotaLimitsRef,
    description: 'Limits set on the user that replace what their groups give (null fields: from the groups).',
    resolve: (u) => ({ maxSpaces: u.maxSpacesOverride, computeUnits: u.computeUnitsOverride, storageUnits: u.storageUnitsOverride }),
  }),
  usage: t.field({
    type: UsageRef,
    nullable: true,
    description: 'What the user uses against their limits: for themselves (me) and those with MANAGE_USERS, MANAGE_GROUPS or MANAGE_SPACES; null for anyone else.',
    resolve: (u, _args, ctx) => (mayReadUsage(ctx.viewer, u.id) ? usageOf(ctx.services.db, u.id) : null),
  }),
}));

builder.objectFields(TemplateRef, (t) => ({
  groupIds: t.loadableList({
    type: 'ID',
    description: 'The groups whose members may use the template; empty: everyone.',
    load: (templateIds: string[], ctx: Context) => groupIdsOfTemplates(ctx.services.db, templateIds),
    resolve: (tpl) => tpl.id,
  }),
  computeUnits: t.exposeInt('computeUnits', { description: 'What a running space of it counts against its owner\'s compute quota.' }),
  storageUnits: t.exposeInt('storageUnits', { description: 'What each space of it counts against its owner\'s storage quota.' }),
  warnings: t.stringList({
    description:
      'For template managers: why the template may not be usable as saved (e.g. it needs more units than any of its groups allows). It is saved all the same. Empty for everyone else.',
    resolve: async (tpl, _args, ctx) => {
      if (!can(ctx.viewer, 'MANAGE_TEMPLATES') || (tpl.computeUnits === 0 && tpl.storageUnits === 0)) return [];
      const [ids] = await groupIdsOfTemplates(ctx.services.db, [tpl.id]);
      const candidates = ids!.length ? await ctx.services.db.select().from(groups).where(inArray(groups.id, ids!)) : await listGroups(ctx.services.db);
      return sizeWarnings(tpl, candidates, ids!.length > 0);
    },
  }),
}));

/** A size no group of the template (or, for a template open to all, no group at all) allows. */
function sizeWarnings(tpl: { computeUnits: number; storageUnits: number }, candidates: GroupRow[], ownGroups: boolean): string[] {
  if (!candidates.length) return [];
  const out: string[] = [];
  const check = (size: number, pick: (g: GroupRow) => number | null, unit: string, verb: string) => {
    if (size === 0 || candidates.some((g) => pick(g) === null)) return;
    const most = Math.max(...candidates.map((g) => pick(g)!));
    if (size <= most) return;
    out.push(
      ownGroups
        ? `It needs ${size} ${unit}s, but its groups allow at most ${most}: their members cannot ${verb} a space of it.`
        : `It needs ${size} ${unit}s, but no group allows more than ${most}: only users in no group can ${verb} a space of it.`,
    );
  };
  check(tpl.computeUnits, (g) => g.computeUnits, 'compute unit', 'start');
  check(tpl.storageUnits, (g) => g.storageUnits, 'storage unit', 'create');
  return out;
}

builder.queryFields((t) => ({
  groups: t.field({
    type: [GroupRef],
    description: 'Every group; needs MANAGE_GROUPS, MANAGE_USERS or MANAGE_TEMPLATES (their forms pick groups).',
    resolve: (_root, _args, ctx) => {
      requireGroupReader(ctx);
      return listGroups(ctx.services.db);
    },
  }),
  group: t.field({
    type: GroupRef,
    args: { id: t.arg.id({ required: true }) },
    description: 'As `groups`; NOT_FOUND for an unknown id.',
    resolve: (_root, { id }, ctx) => {
      requireGroupReader(ctx);
      return getGroup(ctx.services.db, String(id));
    },
  }),
}));

const limitArgs = (t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0], verb: string) => ({
  maxSpaces: t.arg.int({ description: `How many spaces a member may have (0 to 1,000,000); null: unlimited${verb}.` }),
  computeUnits: t.arg.int({ description: `Compute units a member's running spaces may hold; null: unlimited${verb}.` }),
  storageUnits: t.arg.int({ description: `Storage units all of a member's spaces may hold; null: unlimited${verb}.` }),
});

builder.mutationFields((t) => ({
  createGroup: t.field({
    type: GroupRef,
    description: 'Needs MANAGE_GROUPS. Limits out of 0…1,000,000 are BAD_USER_INPUT; a taken name NAME_TAKEN; the name of one of your own single sign-on groups FORBIDDEN unless you are an Admin.',
    args: {
      name: t.arg.string({ required: true }),
      description: t.arg.string(),
      ...limitArgs(t, ''),
    },
    resolve: (_root, args, ctx) => createGroup(ctx.services.db, requirePermission(ctx, 'MANAGE_GROUPS', 'create groups'), args),
  }),
  updateGroup: t.field({
    type: GroupRef,
    description:
      'Needs MANAGE_GROUPS; only an Admin changes the limits or the name of a group they belong to, or gives a group the name of one of their own single sign-on groups (FORBIDDEN). An argument left out stays as it is. A lower limit stops nothing that runs: it applies to the next create or start.',
    args: {
      id: t.arg.id({ required: true }),
      name: t.arg.string(),
      description: t.arg.string(),
      ...limitArgs(t, ' (leave out to keep)'),
    },
    resolve: (_root, { id, ...input }, ctx) =>
      updateGroup(ctx.services.db, requirePermission(ctx, 'MANAGE_GROUPS', 'edit groups'), String(id), input),
  }),
  deleteGroup: t.boolean({
    description:
      'Needs MANAGE_GROUPS; only an Admin deletes a group they belong to (FORBIDDEN). Refused with GROUP_IN_USE (extensions.templates) while templates are open to the group: remove it from them first, as dropping it could open a template to everyone. Members just leave it.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteGroup(ctx.services.db, requirePermission(ctx, 'MANAGE_GROUPS', 'delete groups'), String(id));
      return true;
    },
  }),
}));
