import { index, pgTable, primaryKey, timestamp, uuid } from 'drizzle-orm/pg-core';
import { spaces } from './spaces.js';
import { users } from './users.js';

/**
 * Who besides its owner may use a space (open its terminal, code-server, desktop and ports, start
 * and stop it). Gone with the space or the user; cleared when the space changes hands.
 */
export const spaceShares = pgTable(
  'space_shares',
  {
    spaceId: uuid('space_id')
      .notNull()
      .references(() => spaces.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // A user's list reads the spaces shared with them by user id.
  (t) => [primaryKey({ columns: [t.spaceId, t.userId] }), index('space_shares_user_idx').on(t.userId)],
);
