import { asc } from 'drizzle-orm';
import { templates, variables } from '../../../schema/db/index.js';
import { can } from '../auth/viewer.js';
import { createTemplate, deleteTemplate, getTemplate, updateTemplate, type TemplateRow } from '../templates/store.js';
import { createVariable, deleteVariable, updateVariable, type VariableRow } from '../templates/variables.js';
import { notFound } from '../errors.js';
import { templateOpenTo, templatesClosedTo } from '../spaces/quotas.js';
import { WEEKDAYS, type Shell } from '../../../protocol/enums.js';
import { ShellEnum } from './users.js';
import type { ScheduleWindow } from '../scheduler/schedule.js';
import { builder } from './builder.js';
import { requirePermission, requireViewer } from './context.js';

export const PlatformEnum = builder.enumType('Platform', { values: ['DOCKER', 'MANUAL'] as const });
export const TemplateRef = builder.objectRef<TemplateRow>('Template');

export const WeekdayEnum = builder.enumType('Weekday', { values: WEEKDAYS });

const ScheduleWindowRef = builder.objectRef<ScheduleWindow>('ScheduleWindow').implement({
  description: "A weekly window spaces may run in, in the space owner's time zone (their profile).",
  fields: (t) => ({
    days: t.field({ type: [WeekdayEnum], resolve: (w) => w.days }),
    from: t.exposeString('from', { description: '"08:00": 24-hour wall-clock time.' }),
    to: t.exposeString('to', { description: '"18:00"; "24:00" is midnight at the end of the day. Windows that touch run together.' }),
  }),
});

const ScheduleWindowInput = builder.inputType('ScheduleWindowInput', {
  fields: (t) => ({
    // Strings, not the Weekday enum, so an unknown day gets BAD_USER_INPUT that names it (an enum
    // would fail validation before Knot could say which window is wrong).
    days: t.stringList({ required: true, description: 'MONDAY … SUNDAY.' }),
    from: t.string({ required: true, description: '"08:00"' }),
    to: t.string({ required: true, description: '"18:00" (after from; "24:00" for midnight)' }),
  }),
});

TemplateRef.implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    platform: t.field({ type: PlatformEnum, resolve: (r) => r.platform }),
    job: t.exposeString('job', { description: 'The Docker job spec (YAML) with ${{ … }} variables, as saved.' }),
    volumes: t.exposeString('volumes', { description: 'The volume definitions (YAML).' }),
    withTerminal: t.exposeBoolean('withTerminal'),
    withCodeServer: t.exposeBoolean('withCodeServer'),
    withVSCodeTunnel: t.exposeBoolean('withVSCodeTunnel'),
    withSSH: t.exposeBoolean('withSSH'),
    shell: t.field({
      type: ShellEnum,
      nullable: true,
      description: "The terminal shell a new space of it gets unless its creator picks one; null: the owner's preferred shell.",
      resolve: (r) => r.shell as Shell | null,
    }),
    hash: t.exposeString('hash'),
    active: t.exposeBoolean('active'),
    schedule: t.field({
      type: [ScheduleWindowRef],
      description: 'Empty: spaces may run at any time. Otherwise startSpace outside every window is refused (OUTSIDE_SCHEDULE) and a running space stops at its window\'s end.',
      resolve: (r) => r.schedule,
    }),
    maxUptimeSeconds: t.exposeInt('maxUptimeSeconds', { nullable: true, description: 'A space stops this long after it started (or after keepSpaceRunning); null: no limit.' }),
    idleTimeoutSeconds: t.exposeInt('idleTimeoutSeconds', {
      nullable: true,
      description: 'A space with no activity (terminal input, proxied or forwarded traffic, an SSH login, a busy code-server) for this long stops; null: never.',
    }),
    autoRestart: t.exposeBoolean('autoRestart', {
      description: "Restart a space whose job spec's healthcheck (or image's HEALTHCHECK) fails `retries` times in a row, with backoff, a few times at most.",
    }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const TemplateInput = builder.inputType('TemplateInput', {
  fields: (t) => ({
    name: t.string(),
    description: t.string(),
    platform: t.field({ type: PlatformEnum }),
    job: t.string(),
    volumes: t.string(),
    withTerminal: t.boolean(),
    withCodeServer: t.boolean(),
    withVSCodeTunnel: t.boolean(),
    withSSH: t.boolean(),
    shell: t.field({ type: ShellEnum, description: "Spaces' default terminal shell; null: each owner's preferred shell (omitted: unchanged)." }),
    active: t.boolean(),
    groupIds: t.idList({ description: 'Replaces the groups whose members may use it; [] opens it to everyone. Unknown ids: NOT_FOUND.' }),
    computeUnits: t.int({ description: 'What a running space of it counts against the compute quota (0 to 1,000,000; default 0).' }),
    storageUnits: t.int({ description: 'What each space of it counts against the storage quota (0 to 1,000,000; default 0).' }),
    autoRestart: t.boolean(),
    schedule: t.field({ type: [ScheduleWindowInput], description: 'Replaces the schedule; [] removes it.' }),
    maxUptimeSeconds: t.int({ description: 'At least 10; null removes the limit (omitted: unchanged).' }),
    idleTimeoutSeconds: t.int({ description: 'At least 10; null turns idle stops off (omitted: unchanged).' }),
  }),
});

const VariableRef = builder.objectRef<VariableRow>('Variable').implement({
  description: 'An admin-managed template variable, used as ${{ .var.NAME }}.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    protected: t.exposeBoolean('protected', { description: 'Protected values are encrypted at rest and never sent back.' }),
    value: t.string({ nullable: true, resolve: (v) => (v.protected ? null : v.value) }),
  }),
});

builder.queryFields((t) => ({
  templates: t.field({
    type: [TemplateRef],
    description: 'Template managers see every template; everyone else the active ones open to them (no groups, or one of theirs).',
    resolve: async (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      const rows = await ctx.services.db.select().from(templates).orderBy(asc(templates.name));
      if (can(viewer, 'MANAGE_TEMPLATES')) return rows;
      const closed = await templatesClosedTo(ctx.services.db, viewer.user.id);
      return rows.filter((r) => r.active && !closed.has(r.id));
    },
  }),
  template: t.field({
    type: TemplateRef,
    args: { id: t.arg.id({ required: true }) },
    description: 'Any template with MANAGE_TEMPLATES; for everyone else one that is in their `templates` (NOT_FOUND otherwise).',
    resolve: async (_root, { id }, ctx) => {
      const viewer = requireViewer(ctx);
      const row = await getTemplate(ctx.services.db, String(id));
      if (can(viewer, 'MANAGE_TEMPLATES')) return row;
      if (!row.active || !(await templateOpenTo(ctx.services.db, row.id, viewer.user.id))) throw notFound('That template');
      return row;
    },
  }),
  variables: t.field({
    type: [VariableRef],
    resolve: (_root, _args, ctx) => {
      requirePermission(ctx, 'MANAGE_VARIABLES', 'manage template variables');
      return ctx.services.db.select().from(variables).orderBy(asc(variables.name));
    },
  }),
}));

builder.mutationFields((t) => ({
  createTemplate: t.field({
    type: TemplateRef,
    description:
      'Refused with BAD_USER_INPUT (extensions.line, extensions.problems) when the YAML or a variable is wrong. A size larger than its groups allow is saved, with the reason in `warnings`. Starts pulling the image (Template.imagePull).',
    args: { input: t.arg({ type: TemplateInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const row = await createTemplate(ctx.services, requirePermission(ctx, 'MANAGE_TEMPLATES', 'create templates'), { ...input, groupIds: input.groupIds?.map(String) });
      ctx.services.templateImages.pullAfterSave(row); // so the first start need not wait for it
      return row;
    },
  }),
  updateTemplate: t.field({
    type: TemplateRef,
    description:
      'Running spaces of the template show updateAvailable at once when the job, volumes or services change. A size larger than its groups allow is saved, with the reason in `warnings`; removing groups stops nothing that runs.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: TemplateInput, required: true }) },
    resolve: async (_root, { id, input }, ctx) => {
      const row = await updateTemplate(ctx.services, requirePermission(ctx, 'MANAGE_TEMPLATES', 'edit templates'), String(id), { ...input, groupIds: input.groupIds?.map(String) });
      ctx.services.templateImages.pullAfterSave(row);
      return row;
    },
  }),
  deleteTemplate: t.boolean({
    description: 'Refused with TEMPLATE_IN_USE while any space uses the template.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteTemplate(ctx.services, requirePermission(ctx, 'MANAGE_TEMPLATES', 'delete templates'), String(id));
      return true;
    },
  }),
  createVariable: t.field({
    type: VariableRef,
    args: { name: t.arg.string({ required: true }), value: t.arg.string({ required: true }), protected: t.arg.boolean() },
    resolve: (_root, args, ctx) =>
      createVariable(ctx.services, requirePermission(ctx, 'MANAGE_VARIABLES', 'manage template variables'), args),
  }),
  updateVariable: t.field({
    type: VariableRef,
    args: { id: t.arg.id({ required: true }), value: t.arg.string(), protected: t.arg.boolean() },
    resolve: (_root, { id, ...input }, ctx) =>
      updateVariable(ctx.services, requirePermission(ctx, 'MANAGE_VARIABLES', 'manage template variables'), String(id), input),
  }),
  deleteVariable: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteVariable(ctx.services, requirePermission(ctx, 'MANAGE_VARIABLES', 'manage template variables'), String(id));
      return true;
    },
  }),
}));

