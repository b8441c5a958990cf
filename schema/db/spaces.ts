import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { AUTO_STOP_REASONS, HEALTH_STATES, SPACE_STATUSES, type SpaceStatus } from '../../protocol/enums.js';
import type { ServiceReport } from '../../protocol/service-report.js';
import { templates } from './templates.js';
import { users } from './users.js';

/** The statuses live in protocol/ (the API and the clients share them); re-exported for the tables' users. */
export { SPACE_STATUSES as spaceStatuses, type SpaceStatus };

export const spaces = pgTable(
  'spaces',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    templateId: uuid('template_id')
      .notNull()
      .references(() => templates.id, { onDelete: 'restrict' }),
    shell: text('shell').notNull(),
    altNames: text('alt_names').array().notNull().default(sql`'{}'::text[]`),
    status: text('status', { enum: SPACE_STATUSES }).notNull().default('STOPPED'),
    error: text('error'),
    /** Percentage of an image pull in progress, null when none. */
    pullProgress: integer('pull_progress'),
    /** The template hash the running container was started from. */
    startedTemplateHash: text('started_template_hash'),
    containerId: text('container_id'),
    /**
     * On a swarm: the hostname of the node the space was placed on at its first start. Its volumes
     * are there, so every later start is pinned to it. Null until then, and on one engine.
     */
    node: text('node'),
    /** SHA-256 of the per-space agent token injected at start. */
    agentTokenHash: text('agent_token_hash'),
    /**
     * The connected agent's live report, shared by every replica (subscribers read it from the row).
     * Null when no agent is connected.
     */
    services: jsonb('services').$type<ServiceReport>(),
    /** A random id of the agent connection that holds the space; a second agent is refused while it lives. */
    agentSession: text('agent_session'),
    /**
     * Until when the holding replica vouches for the agent (refreshed while it reports). Past it the
     * agent counts as silent: any replica drops the report and stops a manual space, so a crashed
     * replica leaves nothing stale behind.
     */
    agentLeaseUntil: timestamp('agent_lease_until', { withTimezone: true }),
    /**
     * The replica (a row of `replicas`) the holding connection is on: where another replica relays
     * a terminal, proxy or forward to. Meaningful only while `agent_session` is set.
     */
    agentReplicaId: uuid('agent_replica_id'),
    /** What the health check (the template's, run by the agent, or the image's HEALTHCHECK) last said while running. */
    health: text('health', { enum: HEALTH_STATES }).notNull().default('UNKNOWN'),
    /** The last failure's reason while not healthy (and, once restarts are exhausted, that Knot gave up). */
    healthReason: text('health_reason'),
    /** Automatic restarts since the space was last healthy or started by a person; the backoff and the cap count these. */
    healthRestarts: integer('health_restarts').notNull().default(0),
    /** While RUNNING: when the maximum uptime counts from (the start, or the last Keep running). */
    uptimeSince: timestamp('uptime_since', { withTimezone: true }),
    /** The last activity a replica wrote (terminal input, proxied traffic, agent-reported sessions); coalesced, a few seconds late at most. */
    lastActivityAt: timestamp('last_activity_at', { withTimezone: true }),
    /** The planned automatic stop while RUNNING (the scheduler owns these four columns); null: none. */
    autoStopAt: timestamp('auto_stop_at', { withTimezone: true }),
    autoStopReason: text('auto_stop_reason', { enum: AUTO_STOP_REASONS }),
    /** Set once the warning for the current plan went out; cleared when the plan moves later. */
    autoStopWarnedAt: timestamp('auto_stop_warned_at', { withTimezone: true }),
    /** When a scheduler must look at this space next (the warning, then the stop): the index it sleeps on. */
    schedulerDueAt: timestamp('scheduler_due_at', { withTimezone: true }),
    /** Why Knot stopped the space by itself; cleared on the next start. */
    stoppedReason: text('stopped_reason', { enum: AUTO_STOP_REASONS }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('spaces_owner_name_lower_idx').on(t.ownerId, sql`lower(${t.name})`),
    index('spaces_template_idx').on(t.templateId),
    // The scheduler asks only for the earliest due time, so a partial index keeps that one lookup.
    index('spaces_scheduler_due_idx').on(t.schedulerDueAt).where(sql`${t.schedulerDueAt} is not null`),
  ],
);
