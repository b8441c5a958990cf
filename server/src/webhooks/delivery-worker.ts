import { and, eq, inArray, lt, min, ne, sql } from 'drizzle-orm';
import { webhookDeliveries, webhooks } from '../../../schema/db/index.js';
import type { Services } from '../services.js';
import { ATTEMPT_TIMEOUT_MS, sendOnce, type AttemptResult } from './send.js';

type WorkerDeps = Pick<Services, 'db' | 'pubsub' | 'box' | 'log' | 'config'>;

/** How many deliveries one replica sends at once. */
const BATCH = 16;
/** An attempt's claim: longer than an attempt can take, so a live sender always writes its result first. */
const LEASE_MS = ATTEMPT_TIMEOUT_MS + 20_000;
/** Sleep at most this long with nothing due (the wake-up event is the usual way in; this is the fallback). */
const MAX_SLEEP_MS = 60_000;
const MAX_BACKOFF_MS = 60 * 60_000;
/** Settled deliveries are kept this long for the log. */
const KEEP_LOG_MS = 30 * 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 60 * 60_000;

export interface RetryPolicy {
  /** The wait before the second attempt; it doubles for each one after, up to an hour, with jitter. */
  baseMs: number;
  /** Attempts in all; after the last failed one the delivery is FAILED. */
  maxAttempts: number;
}

/** The wait after `attempts` failed attempts: exponential, and spread (±25 %) so a receiver coming back is not hit all at once. */
export function backoffMs(policy: RetryPolicy, attempts: number, random = Math.random()): number {
  const plain = Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
  return Math.round(plain * (0.75 + random * 0.5));
}

const failure = (error: string): AttemptResult => ({ ok: false, statusCode: null, error, responseBody: null });

interface Claimed {
  id: string;
  webhookId: string;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/**
 * Sends the outbox. Every replica runs one; each attempt is claimed by one of them with
 * SELECT … FOR UPDATE SKIP LOCKED, which moves the row's due time past the attempt, so no two
 * replicas send the same attempt, and a replica that dies mid-attempt leaves a row that comes due
 * again when its claim runs out. Woken by the `webhookDue` event (sent when rows are committed)
 * and, failing that, by a timer set to the next due row.
 */
export class WebhookDeliveryWorker {
  private stopped = false;
  private running: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private unsubscribe: (() => void) | null = null;
  private lastPrune = 0;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly policy: RetryPolicy,
  ) {}

  start(): void {
    if (this.running) return;
    this.unsubscribe = this.deps.pubsub.on('webhookDue', () => this.wake());
    this.running = this.loop();
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let sleepUntil: number;
      try {
        this.woken = false;
        const claimed = await this.claim();
        if (claimed.length) {
          await Promise.all(claimed.map((row) => this.attempt(row)));
          continue;
        }
        await this.pruneNowAndThen();
        sleepUntil = (await this.nextDue()) ?? Date.now() + MAX_SLEEP_MS;
      } catch (err) {
        if (this.stopped) return;
        this.deps.log.warn({ err }, 'webhook deliveries: could not read the outbox; trying again shortly');
        sleepUntil = Date.now() + 5_000;
      }
      await this.sleep(Math.min(Math.max(sleepUntil - Date.now(), 0), MAX_SLEEP_MS));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  /** Due rows, claimed for this replica's attempt in one statement. */
  private async claim(): Promise<Claimed[]> {
    const rows = await this.deps.db.execute(sql`
      update webhook_deliveries d
      set attempts = d.attempts + 1, next_attempt_at = now() + ${`${LEASE_MS} milliseconds`}::interval, last_attempt_at = now()
      from (
        select id from webhook_deliveries
        where status = 'PENDING' and next_attempt_at <= now()
        order by next_attempt_at
        limit ${BATCH}
        for update skip locked
      ) due
      where d.id = due.id
      returning d.id, d.webhook_id as "webhookId", d.event, d.payload, d.attempts`);
    return rows as unknown as Claimed[];
  }

  private async attempt(row: Claimed): Promise<void> {
    try {
      const [hook] = await this.deps.db.select().from(webhooks).where(eq(webhooks.id, row.webhookId));
      if (!hook) return; // deleted meanwhile; its deliveries went with it
      const secret = hook.active ? this.openSecret(hook.secretSealed) : null;
      const result: AttemptResult = !hook.active
        ? failure('The webhook was turned off before this could be sent.')
        : secret === null
          ? failure('This replica cannot read the webhook\'s secret: every replica must share KNOT_ENCRYPTION_KEY (docs/webhooks.md).')
          : await sendOnce({
              url: hook.url,
              secret,
              deliveryId: row.id,
              event: row.event,
              body: JSON.stringify(row.payload),
              allowPrivate: this.deps.config.webhookAllowPrivate,
            });
      await this.record(row, result, !hook.active);
    } catch (err) {
      // Left PENDING: its claim runs out and an attempt is made again then.
      this.deps.log.warn({ err, deliveryId: row.id }, 'webhook delivery: could not record an attempt');
    }
  }

  private openSecret(sealed: string): string | null {
    try {
      return this.deps.box.open(sealed);
    } catch (err) {
      this.deps.log.error({ err }, 'webhook delivery: the secret does not open with this replica\'s key');
      return null;
    }
  }

  private async record(row: Claimed, result: AttemptResult, giveUp: boolean): Promise<void> {
    const now = new Date();
    const last = { lastAttemptAt: now, lastStatusCode: result.statusCode, lastError: result.error, lastResponseBody: result.responseBody };
    const settled = result.ok
      ? { status: 'DELIVERED' as const, deliveredAt: now, nextAttemptAt: null }
      : giveUp || row.attempts >= this.policy.maxAttempts
        ? { status: 'FAILED' as const, nextAttemptAt: null }
        : { nextAttemptAt: new Date(now.getTime() + backoffMs(this.policy, row.attempts)) };
    // Only while the claim is still ours (a later attempt would have raised `attempts`).
    await this.deps.db
      .update(webhookDeliveries)
      .set({ ...last, ...settled })
      .where(and(eq(webhookDeliveries.id, row.id), eq(webhookDeliveries.attempts, row.attempts), eq(webhookDeliveries.status, 'PENDING')));
    if (!result.ok) this.deps.log.info({ deliveryId: row.id, event: row.event, attempt: row.attempts, error: result.error }, 'webhook delivery attempt failed');
  }

  private async nextDue(): Promise<number | null> {
    const [next] = await this.deps.db
      .select({ at: min(webhookDeliveries.nextAttemptAt) })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.status, 'PENDING'));
    return next?.at ? new Date(next.at).getTime() : null;
  }

  private async pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    await this.deps.db
      .delete(webhookDeliveries)
      .where(and(ne(webhookDeliveries.status, 'PENDING'), lt(webhookDeliveries.createdAt, new Date(Date.now() - KEEP_LOG_MS))));
  }
}

/** Deliveries to send again as new ones (same event id and body, a new delivery id), due now. */
export async function redeliver(deps: Pick<Services, 'db'>, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const originals = await deps.db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, ids));
  if (!originals.length) return [];
  const rows = await deps.db
    .insert(webhookDeliveries)
    .values(originals.map((o) => ({ webhookId: o.webhookId, eventId: o.eventId, event: o.event, payload: o.payload, nextAttemptAt: new Date() })))
    .returning({ id: webhookDeliveries.id });
  return rows.map((r) => r.id);
}
