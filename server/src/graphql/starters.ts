import { createTemplateFromStarter } from '../templates/from-starter.js';
import { starterTemplates, type Starter } from '../templates/starters.js';
import { builder } from './builder.js';
import { requirePermission } from './context.js';
import { PlatformEnum, TemplateRef } from './templates.js';

const StarterTemplateRef = builder.objectRef<Starter>('StarterTemplate').implement({
  description: 'A ready template an admin can add with one click (createTemplateFromStarter).',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    gives: t.exposeStringList('gives', { description: 'What a space made from it offers, one short phrase each.' }),
    image: t.exposeString('image', { nullable: true, description: 'The image it runs; null for a manual space.' }),
    platform: t.field({ type: PlatformEnum, resolve: (s) => s.template.platform }),
    job: t.string({ resolve: (s) => s.template.job, description: 'The job spec it creates, to read before adding it.' }),
  }),
});

builder.queryFields((t) => ({
  starterTemplates: t.field({
    type: [StarterTemplateRef],
    description: 'For template managers: the starters on offer.',
    resolve: (_root, _args, ctx) => {
      requirePermission(ctx, 'MANAGE_TEMPLATES', 'see starter templates');
      return starterTemplates(ctx.services.config.starterImages);
    },
  }),
}));

builder.mutationFields((t) => ({
  createTemplateFromStarter: t.field({
    type: TemplateRef,
    description: 'Adds the starter as an ordinary template (named "… 2" if its name is taken); NOT_FOUND for an unknown starter.',
    args: { starterId: t.arg.id({ required: true }) },
    resolve: async (_root, { starterId }, ctx) => {
      const row = await createTemplateFromStarter(ctx.services, requirePermission(ctx, 'MANAGE_TEMPLATES', 'create templates'), String(starterId));
      ctx.services.templateImages.pullAfterSave(row);
      return row;
    },
  }),
}));
