import { sql } from 'drizzle-orm';
import { boolean, check, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const templates = pgTable(
  'templates',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** DOCKER: Knot runs the job. MANUAL: spaces start when their agent connects. */
    platform: text('platform', { enum: ['DOCKER', 'MANUAL'] }).notNull(),
    job: text('job').notNull().default(''),
    volumes: text('volumes').notNull().default(''),
    withTerminal: boolean('with_terminal').notNull().default(true),
    withCodeServer: boolean('with_code_server').notNull().default(false),
    withVSCodeTunnel: boolean('with_vscode_tunnel').notNull().default(false),
    withSSH: boolean('with_ssh').notNull().default(false),
    /** Over job + volumes + service flags; a running space started from another hash has an update available. */
    hash: text('hash').notNull(),
    active: boolean('active').notNull().default(true),
    /** What a running space of it counts against its owner's compute quota (an admin's unit, not a CPU count). */
    computeUnits: integer('compute_units').notNull().default(0),
    /** What each space of it counts against its owner's storage quota, running or not. */
    storageUnits: integer('storage_units').notNull().default(0),
    /** Restart a space whose health check fails `retries` times in a row (with backoff, up to a cap). */
    autoRestart: boolean('auto_restart').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('templates_name_lower_idx').on(sql`lower(${t.name})`),
    check('templates_sizes_non_negative', sql`${t.computeUnits} >= 0 and ${t.storageUnits} >= 0`),
  ],
);

/** Admin-managed template variables (.var.NAME). A protected value is stored encrypted and never sent back. */
export const variables = pgTable('variables', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  value: text('value').notNull(),
  protected: boolean('protected').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
