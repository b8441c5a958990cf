import { can } from '../auth/viewer.js';
import type { TemplateImagePull } from '../templates/image-pulls.js';
import { getTemplate } from '../templates/store.js';
import { builder } from './builder.js';
import { requirePermission, requireViewer } from './context.js';
import { TemplateRef } from './templates.js';

const TemplateImagePullRef = builder.objectRef<TemplateImagePull>('TemplateImagePull').implement({
  description: "Whether a template's image is on the engine, and how its pull goes (saving a Docker template pulls it).",
  fields: (t) => ({
    templateId: t.exposeID('templateId'),
    image: t.exposeString('image', { nullable: true, description: 'null when the image names the space or its user: it is pulled at the first start.' }),
    present: t.exposeBoolean('present', { description: 'The engine has the image: a start will not wait for a pull.' }),
    pulling: t.exposeBoolean('pulling'),
    percent: t.exposeInt('percent'),
    status: t.exposeString('status'),
    error: t.exposeString('error', { nullable: true, description: 'Why the last pull failed.' }),
  }),
});

builder.objectField(TemplateRef, 'imagePull', (t) =>
  t.field({
    type: TemplateImagePullRef,
    nullable: true,
    description: 'For template managers: whether the image is on the engine or being pulled; null for others.',
    resolve: (template, _args, ctx) => {
      if (!can(requireViewer(ctx), 'MANAGE_TEMPLATES')) return null;
      return ctx.services.templateImages.state(template);
    },
  }),
);

builder.mutationFields((t) => ({
  pullTemplateImage: t.field({
    type: TemplateImagePullRef,
    description: 'Pulls the template\'s image now, in the background (follow it with templateImagePull); a no-op when present.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      requirePermission(ctx, 'MANAGE_TEMPLATES', 'pull template images');
      return ctx.services.templateImages.pull(await getTemplate(ctx.services.db, String(id)));
    },
  }),
}));

builder.subscriptionFields((t) => ({
  templateImagePull: t.field({
    type: TemplateImagePullRef,
    description: "For template managers: where the template's image stands now, then every step of its pulls.",
    args: { templateId: t.arg.id({ required: true }) },
    subscribe: async (_root, { templateId }, ctx) => {
      requirePermission(ctx, 'MANAGE_TEMPLATES', 'follow template image pulls');
      const template = await getTemplate(ctx.services.db, String(templateId));
      const now = async () => [await ctx.services.templateImages.state(await getTemplate(ctx.services.db, template.id))];
      return ctx.services.pubsub.iterate('templateImage', { filter: (e) => e.templateId === template.id, initial: now });
    },
    resolve: (event) => event as TemplateImagePull,
  }),
}));
