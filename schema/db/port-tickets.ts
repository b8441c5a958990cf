import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Port-login tickets already turned into a port-host cookie. A ticket is single-use: its id goes
 * here when redeemed (a second insert of the same id loses, on every replica sharing the
 * database), and rows go once the ticket would have expired anyway.
 */
export const redeemedPortTickets = pgTable(
  'redeemed_port_tickets',
  {
    id: text('id').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('redeemed_port_tickets_expires_idx').on(t.expiresAt)],
);
