import { and, eq, isNull, lt, ne, sql } from 'drizzle-orm';
import { replicas, terminalSessions } from '../../../schema/db/index.js';
import type { Db } from '../db.js';
import type { ReplicaAddress, ReplicaRegistry } from '../replicas/registry.js';

/**
 * The rows of `terminal_sessions`: which replica holds each web terminal session, so a browser
 * reconnecting through another replica finds it. Every write is conditional on the holder, so a
 * replica only ever removes or hands on its own rows, and two replicas taking over one session
 * from a dead one cannot both win.
 */

/** A session held by another replica: live (relay to it), or dead (`replica` null: take it over or say it ended). */
export interface SessionElsewhere {
  id: string;
  replicaId: string;
  replica: ReplicaAddress | null;
  keep: string | null;
}

export class SessionRecords {
  constructor(
    private db: Db,
    private registry: ReplicaRegistry,
    private orphanMs: number,
  ) {}

  async record(id: string, spaceId: string, userId: string, keep: string | undefined): Promise<void> {
    await this.db
      .insert(terminalSessions)
      .values({ id, spaceId, userId, replicaId: this.registry.id, keep: keep ?? null })
      .onConflictDoUpdate({ target: terminalSessions.id, set: { replicaId: this.registry.id, keep: keep ?? null, orphanedAt: null } });
  }

  /** The session ended here: its row goes (only if it is still this replica's). */
  async forget(id: string): Promise<void> {
    await this.db.delete(terminalSessions).where(and(eq(terminalSessions.id, id), eq(terminalSessions.replicaId, this.registry.id)));
  }

  /** A dead replica's session that cannot be taken over (its shell died with it): the row goes. */
  async forgetDead(session: SessionElsewhere): Promise<void> {
    await this.db.delete(terminalSessions).where(and(eq(terminalSessions.id, session.id), eq(terminalSessions.replicaId, session.replicaId)));
  }

  /**
   * The session `id` of this user in this space, held by another replica; null when there is none
   * (a session id alone finds nothing: space and user must match). A replica whose heartbeat is
   * fresh but whose address refuses connections is dead (ReplicaRegistry.confirmDead).
   */
  async locate(id: string, spaceId: string, userId: string): Promise<SessionElsewhere | null> {
    const [row] = await this.db
      .select({ replicaId: terminalSessions.replicaId, keep: terminalSessions.keep, url: replicas.url, alive: sql<boolean>`not ${this.registry.gone(terminalSessions.replicaId)}` })
      .from(terminalSessions)
      .leftJoin(replicas, eq(replicas.id, terminalSessions.replicaId))
      .where(and(eq(terminalSessions.id, id), eq(terminalSessions.spaceId, spaceId), eq(terminalSessions.userId, userId), ne(terminalSessions.replicaId, this.registry.id)));
    if (!row) return null;
    const alive = row.alive && row.url !== null && !(await this.registry.confirmDead(row.replicaId));
    return { id, replicaId: row.replicaId, keep: row.keep, replica: alive ? { id: row.replicaId, url: row.url! } : null };
  }

  /** Moves a dead replica's session here; false when another replica took it first. */
  async takeOver(session: SessionElsewhere): Promise<boolean> {
    const rows = await this.db
      .update(terminalSessions)
      .set({ replicaId: this.registry.id, orphanedAt: null })
      .where(and(eq(terminalSessions.id, session.id), eq(terminalSessions.replicaId, session.replicaId)))
      .returning({ id: terminalSessions.id });
    return rows.length === 1;
  }

  /**
   * Rows of replicas that died: marked when first seen so, deleted once marked longer than the
   * detach time (by then the agent has given up any shell it kept for them).
   */
  async sweep(): Promise<void> {
    await this.db.update(terminalSessions).set({ orphanedAt: sql`now()` }).where(and(isNull(terminalSessions.orphanedAt), this.registry.gone(terminalSessions.replicaId)));
    await this.db.delete(terminalSessions).where(lt(terminalSessions.orphanedAt, sql`now() - ${Math.round(this.orphanMs)} * interval '1 millisecond'`));
  }
}
