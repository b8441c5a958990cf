import { desc, eq, inArray } from 'drizzle-orm';
import { webhookDeliveries, webhooks } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { Viewer } from '../auth/viewer.js';
import { isUuid } from '../auth/validation.js';
import { badInput, notFound } from '../errors.js';
import type { Services } from '../services.js';
import { isWebhookEvent, WEBHOOK_EVENTS, type WebhookEvent } from './events.js';
import { parseWebhookUrl, resolveTarget } from './url-guard.js';

export type WebhookRow = typeof webhooks.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
type StoreDeps = Pick<Services, 'db' | 'box' | 'config'>;

const SECRET_MIN = 16;
const SECRET_MAX = 512;

export interface WebhookInput {
  url?: string | null;
  secret?: string | null;
  events?: readonly string[] | null;
  active?: boolean | null;
}

/** A URL Knot may call (checked now, and again at every delivery). */
async function checkUrl(deps: StoreDeps, raw: string): Promise<string> {
  const url = parseWebhookUrl(raw);
  await resolveTarget(url, deps.config.webhookAllowPrivate);
  return url.toString();
}

function checkSecret(secret: string): string {
  if (secret.length < SECRET_MIN) {
    throw badInput('secret', `The secret signs every delivery so the receiver can trust it: give one of at least ${SECRET_MIN} characters.`);
  }
  if (secret.length > SECRET_MAX) throw badInput('secret', `The secret is too long (at most ${SECRET_MAX} characters).`);
  return secret;
}

function checkEvents(events: readonly string[]): WebhookEvent[] {
  const unknown = events.filter((e) => !isWebhookEvent(e));
  if (unknown.length) {
    throw badInput('events', `Unknown event${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Knot sends ${WEBHOOK_EVENTS.join(', ')}.`);
  }
  const unique = [...new Set(events as WebhookEvent[])];
  if (!unique.length) throw badInput('events', 'Pick at least one event for the webhook to receive.');
  return unique;
}

/**
 * The audit log is read with VIEW_AUDIT_LOG, not MANAGE_WEBHOOKS: it gets where a hook points
 * (scheme, host, port), never its path or query, which receivers such as chat services' incoming
 * hooks use as the secret that lets anyone post.
 */
function auditedUrl(url: string): string {
  return new URL(url).origin;
}

export async function createWebhook(deps: StoreDeps, viewer: Viewer, input: Required<Pick<WebhookInput, 'url' | 'secret' | 'events'>> & WebhookInput): Promise<WebhookRow> {
  const events = checkEvents(input.events ?? []);
  const secret = checkSecret(input.secret ?? '');
  const url = await checkUrl(deps, input.url ?? '');
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhooks)
      .values({ url, events, secretSealed: deps.box.seal(secret), active: input.active ?? true })
      .returning();
    await recordAudit(tx, viewer, { action: 'createWebhook', objectType: 'webhook', objectId: row!.id, details: { url: auditedUrl(url), events } });
    return row!;
  });
}

export async function updateWebhook(deps: StoreDeps, viewer: Viewer, id: string, input: WebhookInput): Promise<WebhookRow> {
  await getWebhook(deps, id);
  const changes: Partial<typeof webhooks.$inferInsert> = {};
  if (input.events != null) changes.events = checkEvents(input.events);
  if (input.secret != null) changes.secretSealed = deps.box.seal(checkSecret(input.secret));
  if (input.url != null) changes.url = await checkUrl(deps, input.url);
  if (input.active != null) changes.active = input.active;
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(webhooks)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(webhooks.id, id))
      .returning();
    if (!row) throw notFound('That webhook');
    const changed = Object.keys(changes).map((k) => (k === 'secretSealed' ? 'secret' : k));
    await recordAudit(tx, viewer, { action: 'updateWebhook', objectType: 'webhook', objectId: id, details: { changed } });
    return row;
  });
}

/** Its delivery log goes with it. */
export async function deleteWebhook(deps: StoreDeps, viewer: Viewer, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound('That webhook');
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.delete(webhooks).where(eq(webhooks.id, id)).returning({ url: webhooks.url });
    if (!row) throw notFound('That webhook');
    await recordAudit(tx, viewer, { action: 'deleteWebhook', objectType: 'webhook', objectId: id, details: { url: auditedUrl(row.url) } });
  });
}

export async function getWebhook(deps: Pick<Services, 'db'>, id: string): Promise<WebhookRow> {
  const [row] = isUuid(id) ? await deps.db.select().from(webhooks).where(eq(webhooks.id, id)) : [];
  if (!row) throw notFound('That webhook');
  return row;
}

export function listWebhooks(deps: Pick<Services, 'db'>): Promise<WebhookRow[]> {
  return deps.db.select().from(webhooks).orderBy(webhooks.createdAt);
}

/** The newest deliveries of each hook, newest first. */
export async function deliveriesOf(deps: Pick<Services, 'db'>, webhookIds: readonly string[], limit: number): Promise<WebhookDeliveryRow[][]> {
  const rows = await Promise.all(
    webhookIds.map((id) =>
      deps.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, id)).orderBy(desc(webhookDeliveries.createdAt)).limit(limit),
    ),
  );
  return rows;
}

export async function findDelivery(deps: Pick<Services, 'db'>, id: string): Promise<WebhookDeliveryRow> {
  const [row] = isUuid(id) ? await deps.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, [id])) : [];
  if (!row) throw notFound('That delivery');
  return row;
}
