import { sql } from 'drizzle-orm';
import type { Db } from '../db.js';
import type { Logger } from '../logger.js';
import type { PubSub } from '../pubsub.js';
import type { ServiceReport } from '../spaces/service-report.js';
import { publishSpace } from '../spaces/store.js';

interface Pending {
  spaceId: string;
  ownerId: string;
  session: string;
  report: ServiceReport;
  attempts?: number;
}

/** Rows per UPDATE; each carries a few hundred bytes of JSON. */
const MAX_BATCH = 500;
const MAX_ATTEMPTS = 5;
const RETRY_MS = 500;

/**
 * Writes agents' changed reports to their space rows and announces them (kind SERVICES). One
 * write is in flight at a time and everything that changed meanwhile goes in the next, as one
 * UPDATE (one commit) for all of them: a thousand agents changing at once cost a few commits, not
 * a thousand. A space's latest report replaces one still waiting. The row is written only while
 * the connection still holds the space (`agent_session`), so a report cannot outlive its agent.
 */
export class ReportWriter {
  private pending = new Map<string, Pending>();
  private writing: Promise<void> | null = null;

  constructor(
    private db: Db,
    private pubsub: PubSub,
    private log: Logger,
  ) {}

  write(entry: Pending): void {
    this.pending.set(entry.spaceId, entry);
    this.writing ??= this.drain();
  }

  /** Resolves once everything written so far is on the rows and announced. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain() {
    try {
      while (this.pending.size) {
        const batch = [...this.pending.values()].slice(0, MAX_BATCH);
        for (const entry of batch) this.pending.delete(entry.spaceId);
        try {
          const written = await this.update(batch);
          await Promise.all(written.map((row) => publishSpace(this.pubsub, row, 'SERVICES')));
        } catch (err) {
          // Tried again shortly unless a newer report took its place; given up after a few tries.
          const again = batch.filter((e) => !this.pending.has(e.spaceId) && (e.attempts = (e.attempts ?? 0) + 1) < MAX_ATTEMPTS);
          this.log.error({ err, spaces: batch.length, retrying: again.length }, 'could not save agent reports');
          for (const entry of again) this.pending.set(entry.spaceId, entry);
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    } finally {
      // In the same step as the loop's last check, so a write() arriving now starts a new drain.
      this.writing = null;
    }
  }

  private async update(batch: Pending[]): Promise<{ id: string; ownerId: string }[]> {
    const values = sql.join(
      batch.map((e) => sql`(${e.spaceId}::uuid, ${e.session}, ${JSON.stringify(e.report)}::jsonb)`),
      sql`, `,
    );
    // Rows locked in id order, like the lease renewals, so the two never deadlock.
    const result = await this.db.execute(sql`
      with v(id, session, services) as (values ${values}),
      locked as (select spaces.id from spaces join v on v.id = spaces.id order by spaces.id for update of spaces)
      update spaces set services = v.services
      from v, locked
      where spaces.id = v.id and spaces.id = locked.id and spaces.agent_session = v.session
      returning spaces.id as id, spaces.owner_id as owner_id`);
    const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { id: string; owner_id: string }[];
    return rows.map((r) => ({ id: r.id, ownerId: r.owner_id }));
  }
}
