import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Where Knot tells other systems what happened (server/src/webhooks/, docs/webhooks.md). The
 * secret signs every body, so it is kept sealed (crypto-box.ts), not hashed, and never read back.
 */
export const webhooks = pgTable('webhooks', {
  id: uuid('id').primaryKey().defaultRandom(),
  url: text('url').notNull(),
  secretSealed: text('secret_sealed').notNull(),
  /** Event names (webhooks/events.ts), e.g. `space.started`. */
  events: text('events').array().notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const WEBHOOK_DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * The outbox and the delivery log in one: a row per event per subscribed hook, inserted in the
 * transaction of the change it reports. A PENDING row is due at `next_attempt_at`; a worker claims
 * it by moving that time past its own attempt (SELECT … FOR UPDATE SKIP LOCKED), so one replica
 * sends each attempt. DELIVERED and FAILED rows are the log.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    /** Sent as X-Knot-Delivery. */
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    /** The body's `id`: the same for every hook that hears one event. */
    eventId: uuid('event_id').notNull(),
    event: text('event').notNull(),
    /** The whole body: {id, event, occurredAt, data}. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status').$type<WebhookDeliveryStatus>().notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    /** When a PENDING row is next due (also the lease of an attempt in flight); null once settled. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    /** The start of the receiver's last answer (capped). */
    lastResponseBody: text('last_response_body'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt),
  ],
);
