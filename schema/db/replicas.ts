import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * The Knot server processes sharing this database, and how the others reach each one: a replica
 * relays a terminal, proxy or forward to the replica its space's agent is connected to. Each
 * replica writes its row at start, beats every few seconds and deletes it at shutdown; a row whose
 * heartbeat is old is a replica that died, ignored and then removed by the others.
 */
export const replicas = pgTable('replicas', {
  /** Random per process: a restarted replica is a new one. */
  id: uuid('id').primaryKey(),
  /** The internal base URL (KNOT_REPLICA_URL, or this host's address and port). */
  url: text('url').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }).notNull().defaultNow(),
});
