import { mutate, query } from '../api/client.js';
import type { WebhookChanges } from '../state/webhook-form.js';
import { CREATE_WEBHOOK, DELETE_WEBHOOK, REDELIVER_WEBHOOK_DELIVERY, UPDATE_WEBHOOK, WEBHOOKS } from '../api/documents.js';

/** The webhooks with their latest deliveries, and every event a webhook can ask for. */
export const listWebhooks = async () => {
  const data = await query(WEBHOOKS);
  return { webhooks: data.webhooks, events: data.webhookEvents };
};
export type WebhookView = Awaited<ReturnType<typeof listWebhooks>>['webhooks'][number];

/** Form actions throw ApiError so the form can show the message next to its field. */
export const createWebhook = (input: { url: string; secret: string; events: string[] }) => mutate(CREATE_WEBHOOK, { input });
export const updateWebhook = (id: string, input: WebhookChanges) => mutate(UPDATE_WEBHOOK, { id, input });
export const deleteWebhook = (id: string) => mutate(DELETE_WEBHOOK, { id });
export const redeliver = (deliveryId: string) => mutate(REDELIVER_WEBHOOK_DELIVERY, { id: deliveryId });
