import { and, eq, inArray, isNotNull, isNull, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import { spaces, templates } from '../../../schema/db/index.js';
import type { Db } from '../db.js';
import type { SpaceRow } from '../spaces/store.js';

/**
 * The agent's claim on its space, kept on the row so replicas agree: `agent_session` names the
 * connection holding it, `agent_lease_until` is how long its replica vouches for it. Every write
 * is one conditional UPDATE, like the status transitions.
 */

/**
 * Multi-row updates (lease renewals, report batches, sweeps) lock their rows in id order, so two
 * of them running at once wait for each other instead of deadlocking.
 */
export function inIdOrder(db: Db, where: SQL | undefined): SQL {
  return inArray(spaces.id, db.select({ id: spaces.id }).from(spaces).where(where).orderBy(spaces.id).for('update'));
}

const leaseFor = (ms: number) => sql`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;
const leaseLapsed = or(isNull(spaces.agentLeaseUntil), lt(spaces.agentLeaseUntil, sql`now()`));

export type ClaimResult =
  | { ok: true; space: SpaceRow }
  | { ok: false; reason: 'unauthorized' }
  /** Another agent connection holds it, on replica `holder` (null: unknown). */
  | { ok: false; reason: 'duplicate'; holder: string | null };

/**
 * Takes the space for this connection (on replica `replicaId`) if the token matches and no live
 * agent holds it: none does, its lease lapsed, or the replica holding it is dead (`replicaGone`,
 * ReplicaRegistry.gone) — an agent whose replica was killed is back as soon as that is known,
 * not when the dead replica's lease runs out. One conditional UPDATE: of two replicas claiming at
 * once, the second re-reads the row the first wrote, names a live replica, and is refused.
 */
export async function claimSpace(
  db: Db,
  spaceId: string,
  tokenHash: string,
  session: string,
  leaseMs: number,
  replicaId: string,
  replicaGone: (column: typeof spaces.agentReplicaId) => SQL,
): Promise<ClaimResult> {
  const holderDead = and(isNotNull(spaces.agentReplicaId), ne(spaces.agentReplicaId, replicaId), replicaGone(spaces.agentReplicaId));
  const [space] = await db
    .update(spaces)
    .set({ agentSession: session, agentLeaseUntil: leaseFor(leaseMs), agentReplicaId: replicaId, services: null })
    .where(and(eq(spaces.id, spaceId), eq(spaces.agentTokenHash, tokenHash), or(isNull(spaces.agentSession), leaseLapsed, holderDead)))
    .returning();
  if (space) return { ok: true, space };
  const [current] = await db.select({ hash: spaces.agentTokenHash, holder: spaces.agentReplicaId }).from(spaces).where(eq(spaces.id, spaceId));
  if (current && current.hash === tokenHash) return { ok: false, reason: 'duplicate', holder: current.holder };
  return { ok: false, reason: 'unauthorized' };
}

/**
 * The connection is gone: its report goes at once, but the lease runs out only `leaseMs` later, so
 * an agent that reconnects within the timeout does not flap a manual space to STOPPED and back.
 */
export async function releaseSpace(db: Db, spaceId: string, session: string, leaseMs: number): Promise<void> {
  await db
    .update(spaces)
    .set({ agentSession: null, services: null, agentLeaseUntil: leaseFor(leaseMs) })
    .where(and(eq(spaces.id, spaceId), eq(spaces.agentSession, session)));
}

/** Extends the leases of this replica's live connections; returns what each space holds now. */
export async function renewLeases(db: Db, sessions: string[], leaseMs: number): Promise<Map<string, string | null>> {
  if (!sessions.length) return new Map();
  const rows = await db
    .update(spaces)
    .set({ agentLeaseUntil: leaseFor(leaseMs) })
    .where(inIdOrder(db, inArray(spaces.agentSession, sessions)))
    .returning({ session: spaces.agentSession, tokenHash: spaces.agentTokenHash });
  return new Map(rows.map((r) => [r.session!, r.tokenHash]));
}

/**
 * Agents whose lease lapsed — silent, or held by a replica that died — lose their report.
 * Returns the spaces whose report was cleared.
 */
export async function dropLapsedReports(db: Db): Promise<Pick<SpaceRow, 'id' | 'ownerId'>[]> {
  return db
    .update(spaces)
    .set({ services: null, agentSession: null })
    .where(inIdOrder(db, and(lt(spaces.agentLeaseUntil, sql`now()`), or(isNotNull(spaces.services), isNotNull(spaces.agentSession)))))
    .returning({ id: spaces.id, ownerId: spaces.ownerId });
}

/** Running manual spaces with no agent and no lease left: they stop (the caller transitions each, see stillSilent). */
export async function silentManualSpaces(db: Db): Promise<string[]> {
  const rows = await db
    .select({ id: spaces.id })
    .from(spaces)
    .innerJoin(templates, eq(templates.id, spaces.templateId))
    .where(and(eq(templates.platform, 'MANUAL'), eq(spaces.status, 'RUNNING'), stillSilent));
  return rows.map((r) => r.id);
}

/** A manual space may stop only while still agentless and past its lease: an agent that just came back wins. */
export const stillSilent = and(isNull(spaces.agentSession), leaseLapsed)!;

export async function platformOf(db: Db, templateId: string): Promise<'DOCKER' | 'MANUAL' | null> {
  const [row] = await db.select({ platform: templates.platform }).from(templates).where(eq(templates.id, templateId));
  return row?.platform ?? null;
}
