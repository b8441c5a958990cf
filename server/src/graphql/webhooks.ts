import { WEBHOOK_DELIVERY_STATUSES } from '../../../schema/db/index.js';
import { badInput } from '../errors.js';
import { redeliver } from '../webhooks/delivery-worker.js';
import { WEBHOOK_EVENTS } from '../webhooks/events.js';
import {
  createWebhook,
  deleteWebhook,
  deliveriesOf,
  findDelivery,
  getWebhook,
  listWebhooks,
  updateWebhook,
  type WebhookDeliveryRow,
  type WebhookRow,
} from '../webhooks/store.js';
import { builder } from './builder.js';
import { requirePermission } from './context.js';

const EVENTS_HELP = `Event names: ${WEBHOOK_EVENTS.join(', ')}.`;
const MAX_DELIVERIES = 100;

const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: WEBHOOK_DELIVERY_STATUSES,
  description: 'PENDING: waiting for its first attempt or a retry; DELIVERED: the receiver answered 2xx; FAILED: every attempt failed.',
});

const DeliveryRef = builder.objectRef<WebhookDeliveryRow>('WebhookDelivery').implement({
  description: 'One event sent (or being sent) to one webhook, with its last attempt.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Sent as X-Knot-Delivery.' }),
    eventId: t.exposeID('eventId', { description: "The body's id: the same for every webhook that hears one event, and for a redelivery." }),
    event: t.exposeString('event'),
    status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts'),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true, description: "The receiver's HTTP status on the last attempt; null if it was not reached." }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastResponseBody: t.exposeString('lastResponseBody', { nullable: true, description: "The start (1 KB at most) of the receiver's last answer." }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true, description: 'When a PENDING delivery is next tried.' }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    payload: t.string({ description: 'The JSON body that is sent.', resolve: (d) => JSON.stringify(d.payload) }),
  }),
});

const WebhookRef = builder.objectRef<WebhookRow>('Webhook').implement({
  description: 'Where Knot sends events, signed with the webhook\'s secret (never readable). Needs MANAGE_WEBHOOKS.',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    events: t.exposeStringList('events', { description: EVENTS_HELP }),
    active: t.exposeBoolean('active', { description: 'An inactive webhook is sent nothing.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deliveries: t.field({
      type: [DeliveryRef],
      description: `The newest deliveries first (the log keeps 30 days). \`first\`: how many (at most ${MAX_DELIVERIES}).`,
      args: { first: t.arg.int({ defaultValue: 20 }) },
      // Read per webhook: an admin page lists a handful of them.
      resolve: async (w, args, ctx) => {
        requirePermission(ctx, 'MANAGE_WEBHOOKS', 'see webhook deliveries');
        const [rows] = await deliveriesOf(ctx.services, [w.id], clampFirst(args.first));
        return rows!;
      },
    }),
    lastDelivery: t.field({
      type: DeliveryRef,
      nullable: true,
      description: 'The newest delivery, with the last response.',
      resolve: async (w, _args, ctx) => {
        requirePermission(ctx, 'MANAGE_WEBHOOKS', 'see webhook deliveries');
        const [rows] = await deliveriesOf(ctx.services, [w.id], 1);
        return rows![0] ?? null;
      },
    }),
  }),
});

function clampFirst(first: number | null | undefined): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > MAX_DELIVERIES) throw badInput('first', `Ask for 1 to ${MAX_DELIVERIES} deliveries.`);
  return n;
}

const CreateInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http(s) only; private, loopback and link-local targets are refused (WEBHOOK_URL_REFUSED) unless KNOT_WEBHOOK_ALLOW_PRIVATE=true.' }),
    secret: t.string({ required: true, description: 'At least 16 characters; signs every body (X-Knot-Signature). Write-only.' }),
    events: t.stringList({ required: true, description: EVENTS_HELP }),
    active: t.boolean({ defaultValue: true }),
  }),
});

const UpdateInput = builder.inputType('UpdateWebhookInput', {
  description: 'A field left out stays as it is.',
  fields: (t) => ({
    url: t.string(),
    secret: t.string({ description: 'A new secret; the old one is never shown.' }),
    events: t.stringList(),
    active: t.boolean(),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [WebhookRef],
    description: 'Needs MANAGE_WEBHOOKS.',
    resolve: (_root, _args, ctx) => {
      requirePermission(ctx, 'MANAGE_WEBHOOKS', 'see webhooks');
      return listWebhooks(ctx.services);
    },
  }),
  webhook: t.field({
    type: WebhookRef,
    args: { id: t.arg.id({ required: true }) },
    description: 'Needs MANAGE_WEBHOOKS; NOT_FOUND for an unknown id.',
    resolve: (_root, { id }, ctx) => {
      requirePermission(ctx, 'MANAGE_WEBHOOKS', 'see webhooks');
      return getWebhook(ctx.services, String(id));
    },
  }),
  webhookEvents: t.stringList({
    description: 'Every event a webhook can receive. Needs MANAGE_WEBHOOKS.',
    resolve: (_root, _args, ctx) => {
      requirePermission(ctx, 'MANAGE_WEBHOOKS', 'see webhooks');
      return [...WEBHOOK_EVENTS];
    },
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookRef,
    description: 'Needs MANAGE_WEBHOOKS. A bad URL, secret or event name is BAD_USER_INPUT; a refused address WEBHOOK_URL_REFUSED; nothing is saved then.',
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: (_root, { input }, ctx) => createWebhook(ctx.services, requirePermission(ctx, 'MANAGE_WEBHOOKS', 'create webhooks'), input),
  }),
  updateWebhook: t.field({
    type: WebhookRef,
    description: 'Needs MANAGE_WEBHOOKS; checked as createWebhook.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateInput, required: true }) },
    resolve: (_root, { id, input }, ctx) => updateWebhook(ctx.services, requirePermission(ctx, 'MANAGE_WEBHOOKS', 'edit webhooks'), String(id), input),
  }),
  deleteWebhook: t.boolean({
    description: 'Needs MANAGE_WEBHOOKS. Its delivery log goes with it; deliveries not yet sent are dropped.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await deleteWebhook(ctx.services, requirePermission(ctx, 'MANAGE_WEBHOOKS', 'delete webhooks'), String(id));
      return true;
    },
  }),
  redeliverWebhookDelivery: t.field({
    type: DeliveryRef,
    description: 'Needs MANAGE_WEBHOOKS. Sends a delivery\'s body again as a new delivery (same event id), now.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      requirePermission(ctx, 'MANAGE_WEBHOOKS', 'redeliver webhooks');
      await findDelivery(ctx.services, String(id));
      const [newId] = await redeliver(ctx.services, [String(id)]);
      await ctx.services.pubsub.publish('webhookDue', {});
      return findDelivery(ctx.services, newId!);
    },
  }),
}));
