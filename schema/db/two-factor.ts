import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.js';

/**
 * A user's TOTP authenticator. The secret is sealed with the installation's key (crypto-box.ts),
 * so a database dump alone cannot mint codes. A row without `confirmedAt` is a setup in progress:
 * it changes nothing about signing in until a code from it is confirmed.
 */
export const totpCredentials = pgTable('totp_credentials', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretSealed: text('secret_sealed').notNull(),
  confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
  /** The 30-second time step of the last code accepted: a code is good once, so only later steps pass. */
  lastUsedStep: integer('last_used_step'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One-time recovery codes, kept as SHA-256 hashes (each has 50 random bits, so a fast hash suffices). */
export const totpRecoveryCodes = pgTable(
  'totp_recovery_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  (t) => [index('totp_recovery_codes_user_idx').on(t.userId)],
);

/** Installation-wide settings an admin changes at run time: one row, like `installation`. */
export const serverSettings = pgTable(
  'server_settings',
  {
    singleton: boolean('singleton').primaryKey().default(true),
    /** Local accounts without TOTP may only enrol until they have it. */
    requireTwoFactor: boolean('require_two_factor').notNull().default(false),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('server_settings_singleton', sql`${t.singleton}`)],
);
