import { sql } from 'drizzle-orm';
import { boolean, check, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { Weekday } from '../../protocol/enums.js';

/** A window a template's spaces may run in, read in the space owner's time zone ("08:00" to "18:00"; "24:00" is midnight at the end). */
export interface ScheduleWindow {
  days: Weekday[];
  from: string;
  to: string;
}

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
    /** The terminal shell its spaces get unless their creator picks one; null: the owner's preferred shell. */
    shell: text('shell'),
    /** Over job + volumes + service flags; a running space started from another hash has an update available. */
    hash: text('hash').notNull(),
    active: boolean('active').notNull().default(true),
    /** What a running space of it counts against its owner's compute quota (an admin's unit, not a CPU count). */
    computeUnits: integer('compute_units').notNull().default(0),
    /** What each space of it counts against its owner's storage quota, running or not. */
    storageUnits: integer('storage_units').notNull().default(0),
    /** Restart a space whose health check fails `retries` times in a row (with backoff, up to a cap). */
    autoRestart: boolean('auto_restart').notNull().default(false),
    /** Empty: spaces may run at any time. Otherwise they start only inside a window and stop at its end. */
    schedule: jsonb('schedule').$type<ScheduleWindow[]>().notNull().default([]),
    /** A space is stopped this long after it started (or after Keep running); null: no limit. */
    maxUptimeSeconds: integer('max_uptime_seconds'),
    /** A space with no activity for this long is stopped; null: never. */
    idleTimeoutSeconds: integer('idle_timeout_seconds'),
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
