import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { spaces } from './spaces.js';
import { users } from './users.js';

/**
 * Where each web terminal session lives: a session's shell is held in one replica's memory, and a
 * browser that reconnects through another replica is relayed to it, or, when that replica died,
 * resumes the shell its space's agent kept (manual spaces). Written when a session opens, deleted
 * when it ends; rows of a replica that died are deleted after the detach time.
 */
export const terminalSessions = pgTable(
  'terminal_sessions',
  {
    /** The session id the browser holds (144 random bits): alone it grants nothing. */
    id: text('id').primaryKey(),
    spaceId: uuid('space_id')
      .notNull()
      .references(() => spaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The replica holding it (a row of `replicas`, which may be gone once that replica died). */
    replicaId: uuid('replica_id').notNull(),
    /** The key under which the space's agent keeps the shell through a lost connection; null for a Docker exec. */
    keep: text('keep'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** When a sweep first found its replica dead; the row goes once that is older than the detach time. */
    orphanedAt: timestamp('orphaned_at', { withTimezone: true }),
  },
  (t) => [index('terminal_sessions_replica_idx').on(t.replicaId)],
);
