import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * This installation's identity: one row, made at first boot. Its id labels every Docker object
 * Knot creates, so two installations sharing one engine never take each other's objects for
 * their own (the garbage collector touches only objects carrying it).
 */
export const installation = pgTable(
  'installation',
  {
    /** Always true: as the primary key it allows one row, so replicas booting together agree on one id. */
    singleton: boolean('singleton').primaryKey().default(true),
    id: uuid('id').notNull().defaultRandom(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * The key replicas sign relay requests to each other with (HMAC), made by the first replica that
     * needs it; KNOT_REPLICA_SECRET replaces it. Whoever reads this table is already past every
     * secret Knot keeps, so it adds nothing to steal.
     */
    replicaSecret: text('replica_secret'),
  },
  (t) => [check('installation_singleton', sql`${t.singleton}`)],
);
