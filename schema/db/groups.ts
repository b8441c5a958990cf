import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { templates } from './templates.js';
import { users } from './users.js';

/**
 * Groups say which templates their members may use and how much they may use at once. A null
 * limit is unlimited; how several groups combine is server/src/spaces/quotas.ts's (docs/quotas.md).
 */
export const groups = pgTable(
  'groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    maxSpaces: integer('max_spaces'),
    computeUnits: integer('compute_units'),
    storageUnits: integer('storage_units'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('groups_name_lower_idx').on(sql`lower(${t.name})`),
    check('groups_limits_non_negative', sql`coalesce(${t.maxSpaces}, 0) >= 0 and coalesce(${t.computeUnits}, 0) >= 0 and coalesce(${t.storageUnits}, 0) >= 0`),
  ],
);

export const groupMembers = pgTable(
  'group_members',
  {
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index('group_members_user_idx').on(t.userId)],
);

/**
 * The groups a template is open to (none: open to everyone). A group that templates name cannot
 * be deleted (restrict): dropping the link would open a template whose only group it was to everyone.
 */
export const templateGroups = pgTable(
  'template_groups',
  {
    templateId: uuid('template_id')
      .notNull()
      .references(() => templates.id, { onDelete: 'cascade' }),
    groupId: uuid('group_id')
      .notNull()
      .references(() => groups.id, { onDelete: 'restrict' }),
  },
  (t) => [primaryKey({ columns: [t.templateId, t.groupId] }), index('template_groups_group_idx').on(t.groupId)],
);
