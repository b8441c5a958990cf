import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db.js';
import { notifyOnCommit } from '../pubsub.js';

/**
 * What Knot tells webhooks, and the one way anything records that it happened. Every event is
 * written as outbox rows (one per subscribed hook) by the replica that made the change, in the
 * change's own transaction where there is one, so an event is never lost to a crash between the
 * change and its announcement, and never sent for a change that rolled back. The workers
 * (delivery-worker.ts) send them.
 */
export const WEBHOOK_EVENTS = [
  'space.created',
  'space.started',
  'space.stopped',
  'space.failed',
  'space.deleted',
  'space.unhealthy',
  'space.auto_stop_warning',
  'space.shared',
  'space.transferred',
  'user.created',
  'user.deleted',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const isWebhookEvent = (name: string): name is WebhookEvent => (WEBHOOK_EVENTS as readonly string[]).includes(name);

/** The parts of a space row an event describes (never its secrets: agent token, service state). */
export interface SpaceFacts {
  id: string;
  name: string;
  status: string;
  error?: string | null;
  ownerId: string;
  templateId: string;
}

export interface UserFacts {
  id: string;
  username: string;
  email?: string;
}

/**
 * Records `event` for every active hook that wants it; nothing when none does (one statement
 * either way). `ownerId` adds `data.owner` ({id, username}) read in the same statement. The
 * workers are woken when the transaction commits.
 */
export async function recordEvent(db: Pick<Db, 'execute'>, event: WebhookEvent, data: Record<string, unknown>, options: { ownerId?: string } = {}): Promise<void> {
  const eventId = randomUUID();
  const occurredAt = new Date().toISOString();
  const owner = options.ownerId
    ? sql`coalesce((select jsonb_build_object('owner', jsonb_build_object('id', u.id, 'username', u.username)) from users u where u.id = ${options.ownerId}), '{}'::jsonb)`
    : sql`'{}'::jsonb`;
  await db.execute(sql`
    with inserted as (
      insert into webhook_deliveries (webhook_id, event_id, event, payload, next_attempt_at)
      select w.id, ${eventId}, ${event},
             jsonb_build_object('id', ${eventId}::text, 'event', ${event}::text, 'occurredAt', ${occurredAt}::text, 'data', ${JSON.stringify(data)}::jsonb || ${owner}),
             now()
      from webhooks w
      where w.active and ${event} = any(w.events)
      returning 1
    )
    select ${notifyOnCommit('webhookDue', {})} from (select 1 from inserted limit 1) as any_inserted`);
}

/** A space event's data: the space as it is after the change, plus what the caller adds (a reason…). */
export function recordSpaceEvent(db: Pick<Db, 'execute'>, event: WebhookEvent, space: SpaceFacts, extra: Record<string, unknown> = {}): Promise<void> {
  const { id, name, status, error, templateId } = space;
  return recordEvent(db, event, { space: { id, name, status, error: error ?? null, templateId }, ...extra }, { ownerId: space.ownerId });
}

export function recordUserEvent(db: Pick<Db, 'execute'>, event: 'user.created' | 'user.deleted', user: UserFacts): Promise<void> {
  return recordEvent(db, event, { user: { id: user.id, username: user.username, ...(user.email ? { email: user.email } : {}) } });
}
