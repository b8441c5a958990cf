import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { and, eq, gt, inArray, isNotNull, lt, not, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { replicas, spaces } from '../../../schema/db/index.js';
import type { Db } from '../db.js';
import type { Logger } from '../logger.js';

/** A replica whose heartbeat is older than this many beats is taken for dead: nothing is relayed to it. */
const STALE_BEATS = 3;
/** Rows this many beats old are deleted by whichever replica beats next. */
const FORGOTTEN_BEATS = 20;

const ago = (ms: number) => sql`now() - ${Math.round(ms)} * interval '1 millisecond'`;

/** Where another replica reaches the one holding a space's agent. */
export interface ReplicaAddress {
  id: string;
  url: string;
}

/**
 * This replica's row in `replicas` (how the others reach it) and the lookup of where a space's
 * agent is. The row is written when the server listens, beaten every `heartbeatMs`, and deleted
 * at shutdown; a replica that died leaves a row that goes stale, then is removed by the others.
 */
export class ReplicaRegistry {
  /** New for every process: a restarted replica does not inherit the claims of the one before. */
  readonly id = randomUUID();
  private url: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;

  constructor(
    private db: Db,
    private log: Logger,
    private heartbeatMs: number,
  ) {}

  /** This replica's internal URL once it listens; null before. */
  get address(): ReplicaAddress | null {
    return this.url ? { id: this.id, url: this.url } : null;
  }

  /** Called once the server listens on `port`: `configured` (KNOT_REPLICA_URL) or this host's address. */
  async register(configured: string | undefined, port: number): Promise<string> {
    this.url = (configured ?? `http://${hostAddress()}:${port}`).replace(/\/+$/, '');
    await this.db.insert(replicas).values({ id: this.id, url: this.url }).onConflictDoUpdate({ target: replicas.id, set: { url: this.url, heartbeatAt: sql`now()` } });
    this.timer = setInterval(() => void (this.beating ??= this.beat().finally(() => (this.beating = null))), this.heartbeatMs);
    this.timer.unref();
    this.log.info({ replicaId: this.id, url: this.url }, 'replica registered');
    return this.url;
  }

  private async beat() {
    try {
      const [row] = await this.db.update(replicas).set({ heartbeatAt: sql`now()` }).where(eq(replicas.id, this.id)).returning({ id: replicas.id });
      // Taken for dead while this process was stalled (a long GC pause, a frozen VM): it is back.
      if (!row && this.url) await this.db.insert(replicas).values({ id: this.id, url: this.url }).onConflictDoNothing();
      await this.db.delete(replicas).where(lt(replicas.heartbeatAt, ago(this.heartbeatMs * FORGOTTEN_BEATS)));
    } catch (err) {
      this.log.warn({ err }, 'could not write this replica\'s heartbeat');
    }
  }

  /**
   * SQL true when `replicaId` names no live replica: its row is gone (it shut down, or was
   * forgotten), or its heartbeat is STALE_BEATS old (it died). The one definition of a dead
   * replica, used to stop relaying to it and to take its agents' spaces over at once.
   */
  gone(replicaId: AnyColumn | SQL): SQL {
    return sql`not exists (select 1 from ${replicas} where ${replicas.id} = ${replicaId} and ${replicas.heartbeatAt} > ${ago(this.heartbeatMs * STALE_BEATS)})`;
  }

  /**
   * Whether replica `id` is known dead now, before its heartbeat goes stale: its row is gone, or a
   * connection to its address is refused (nothing listens there: the process crashed or was
   * killed). Then its row is deleted, so `gone` holds for every replica at once. A replica that
   * does not answer in time is not declared dead (a slow network is not a crash): its heartbeat decides.
   */
  async confirmDead(id: string): Promise<boolean> {
    const [row] = await this.db.select({ url: replicas.url }).from(replicas).where(eq(replicas.id, id));
    if (!row) return true;
    if (!(await refuses(row.url))) return false;
    await this.db.delete(replicas).where(eq(replicas.id, id));
    this.log.warn({ replicaId: id, url: row.url }, 'a replica is dead (its address refuses connections): taking over its agents');
    return true;
  }

  /**
   * The live replica holding the space's agent; null when no agent holds it, or its replica is
   * gone (the agent will reconnect somewhere, and the next request finds it there).
   */
  async locate(spaceId: string): Promise<ReplicaAddress | null> {
    const [row] = await this.db
      .select({ id: replicas.id, url: replicas.url })
      .from(spaces)
      .innerJoin(replicas, eq(replicas.id, spaces.agentReplicaId))
      .where(
        and(
          eq(spaces.id, spaceId),
          isNotNull(spaces.agentSession),
          gt(spaces.agentLeaseUntil, sql`now()`),
          gt(replicas.heartbeatAt, ago(this.heartbeatMs * STALE_BEATS)),
        ),
      );
    return row ?? null;
  }

  /** Of these replica ids (e.g. read from a label: anything), the ones not `gone`. */
  async live(ids: string[]): Promise<Set<string>> {
    const valid = ids.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
    if (!valid.length) return new Set();
    const rows = await this.db
      .select({ id: replicas.id })
      .from(replicas)
      .where(and(inArray(replicas.id, valid), not(this.gone(replicas.id))));
    return new Set(rows.map((r) => r.id));
  }

  /** At shutdown: the others stop relaying here at once rather than when the row goes stale. */
  async dispose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    if (this.url) await this.db.delete(replicas).where(eq(replicas.id, this.id)).catch((err) => this.log.warn({ err }, 'could not remove this replica\'s row'));
  }
}

/** True when a TCP connection to the URL's host and port is refused; false when it opens, fails otherwise, or takes over a second. */
function refuses(url: string): Promise<boolean> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || (protocol === 'https:' ? 443 : 80)) });
    const done = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(false));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED'));
  });
}

/**
 * The first IPv4 address of this host that is not loopback: what another replica on the same
 * network dials. A replica alone on a machine without one gets loopback, which is all it needs.
 */
function hostAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
