import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './db.js';
import type { Logger } from './logger.js';

/**
 * Thin events: ids and a kind, never rows. Subscribers read the fresh row, so an event can never
 * carry stale or more-than-allowed data, and it always fits in a NOTIFY payload.
 */
export interface EventMap {
  /** A space's status, error, names, progress or services changed. */
  space: {
    spaceId: string;
    ownerId: string;
    kind: string;
    /** SHARED and UNSHARED: the user it concerns; TRANSFERRED: the previous owner. */
    userId?: string;
  };
  /** Something that a cached login depends on changed (token revoked, user deactivated, roles edited). */
  auth: { userId?: string };
  template: { templateId: string };
  /** A space's scheduler due time was set (epoch ms): a sleeping scheduler on any replica wakes by then. */
  schedule: { dueAt: number };
  /** How the pull of a template's image goes (templates/image-pulls.ts): small, and for template managers only. */
  templateImage: TemplateImageEvent;
  /** Webhook deliveries were queued or made due again (webhooks/): a sleeping delivery worker on any replica looks now. */
  webhookDue: Record<string, never>;
}

export interface TemplateImageEvent {
  templateId: string;
  /** null when the image names the space or its user, so it is known only at a start. */
  image: string | null;
  present: boolean;
  pulling: boolean;
  percent: number;
  status: string;
  error: string | null;
}
export type Topic = keyof EventMap;

export interface PubSub {
  /** Call after the write commits: delivery is immediate and cannot be rolled back. */
  publish<T extends Topic>(topic: T, payload: EventMap[T]): Promise<void>;
  on<T extends Topic>(topic: T, handler: (payload: EventMap[T]) => void): () => void;
  /**
   * An async iterable for a GraphQL subscription. It listens from the moment it is made, then
   * yields `initial()` (the current state) first, so nothing that happens in between is lost.
   * When this replica's LISTEN connection drops and comes back, events published meanwhile never
   * arrive, so it yields `resync()` (default: `initial()`), the current state again.
   */
  iterate<T extends Topic, R = EventMap[T]>(
    topic: T,
    options: {
      filter?: (payload: EventMap[T]) => boolean;
      initial?: () => Promise<R[]>;
      resync?: () => Promise<R[]>;
      until?: (payload: EventMap[T] | R) => boolean;
    },
  ): AsyncIterableIterator<R | EventMap[T]>;
  close(): Promise<void>;
}

const CHANNEL = 'knot_events';
/** Postgres refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_NOTIFY_BYTES = 7_500;

/**
 * The event as an SQL expression (`pg_notify(…)`) for a statement inside a transaction: Postgres
 * sends it only if and when that transaction commits, so no replica hears of a change that rolled back.
 */
export function notifyOnCommit<T extends Topic>(topic: T, payload: EventMap[T]): SQL {
  return sql`pg_notify(${CHANNEL}, ${JSON.stringify({ t: topic, p: payload })})`;
}

export interface PubSubOptions {
  /** Events one subscription may have waiting beyond its snapshot; then it gets a fresh snapshot instead. */
  maxBacklog?: number;
}

/** One LISTEN per process; events fan out locally, so 1,000 subscribers cost one notification. */
export async function createPubSub(database: Database, log: Logger, { maxBacklog = 10_000 }: PubSubOptions = {}): Promise<PubSub> {
  const handlers = new Map<Topic, Set<(payload: never) => void>>();

  const deliver = (raw: string) => {
    let parsed: { t: Topic; p: unknown } | { t: Topic; p: unknown }[];
    try {
      parsed = JSON.parse(raw);
    } catch {
      log.warn({ raw }, 'ignoring a malformed event');
      return;
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      for (const handler of handlers.get(message.t) ?? []) {
        try {
          handler(message.p as never);
        } catch (err) {
          log.error({ err, topic: message.t }, 'event handler failed');
        }
      }
    }
  };
  /** Each open subscription's way to catch up after a dropped LISTEN. */
  const resyncs = new Set<() => void>();
  const unlisten = await database.listen(CHANNEL, deliver, () => {
    log.warn({ subscriptions: resyncs.size }, 'LISTEN connection is back; sending open subscriptions a fresh snapshot');
    for (const resync of resyncs) resync();
  });

  const on: PubSub['on'] = (topic, handler) => {
    let set = handlers.get(topic);
    if (!set) handlers.set(topic, (set = new Set()));
    set.add(handler as (payload: never) => void);
    return () => void set.delete(handler as (payload: never) => void);
  };

  /**
   * One NOTIFY in flight at a time; events published meanwhile go together in the next one (as a
   * JSON array). Postgres serialises every NOTIFY of the cluster at commit, so under a burst (a
   * thousand agents reporting) one per event would queue up for seconds; batched, a slower
   * database only makes the batches bigger. Order is kept, and a lone event goes at once.
   */
  const outbox: { text: string; bytes: number; done: (err?: unknown) => void }[] = [];
  let sending = false;
  const pump = async () => {
    if (sending) return;
    sending = true;
    try {
      while (outbox.length) {
        const batch = [outbox.shift()!];
        let size = batch[0]!.bytes + 2;
        while (outbox.length && size + outbox[0]!.bytes + 1 <= MAX_NOTIFY_BYTES) {
          size += outbox[0]!.bytes + 1;
          batch.push(outbox.shift()!);
        }
        const payload = batch.length === 1 ? batch[0]!.text : `[${batch.map((m) => m.text).join(',')}]`;
        try {
          await database.notify(CHANNEL, payload);
          for (const m of batch) m.done();
        } catch (err) {
          for (const m of batch) m.done(err);
        }
      }
    } finally {
      sending = false;
    }
  };

  return {
    publish(topic, payload) {
      return new Promise<void>((resolve, reject) => {
        const text = JSON.stringify({ t: topic, p: payload });
        outbox.push({ text, bytes: Buffer.byteLength(text), done: (err) => (err ? reject(err) : resolve()) });
        void pump();
      });
    },
    on,
    iterate(topic, { filter, initial, resync = initial, until }) {
      const queue = new EventQueue<unknown>({
        maxBacklog,
        until: until as ((item: unknown) => boolean) | undefined,
        // Too far behind: the events waiting are dropped and a fresh snapshot replaces them.
        catchUp: resync
          ? () => {
              log.warn({ topic, backlog: maxBacklog }, 'a subscription fell behind; sending it a fresh snapshot instead of its backlog');
              return resync();
            }
          : undefined,
      });
      const off = on(topic, (payload) => {
        if (filter && !filter(payload)) return;
        queue.push(payload);
      });
      queue.onEnd(off);
      if (resync) {
        const catchUp = () =>
          void resync().then(
            (items) => queue.append(items),
            (err) => log.warn({ err, topic }, 'could not resnapshot a subscription after a LISTEN reconnect'),
          );
        resyncs.add(catchUp);
        queue.onEnd(() => resyncs.delete(catchUp));
      }
      queue.snapshot(initial ?? (async () => []));
      return queue as AsyncIterableIterator<never>;
    },
    async close() {
      handlers.clear();
      resyncs.clear();
      await unlisten();
    },
  };
}

interface EventQueueOptions<T> {
  /** Live events that may wait (a snapshot's items do not count). */
  maxBacklog: number;
  /** The item after which the subscription ends. */
  until?: (item: T) => boolean;
  /** A fresh snapshot, for a subscription that fell more than maxBacklog events behind. */
  catchUp?: () => Promise<T[]>;
}

/**
 * A push queue read as an async iterator: live events are pushed as they arrive, and `snapshot`
 * holds them back until the current state is known, which goes first.
 *
 * A subscriber that falls behind must neither buffer without bound nor be cut off: a cut-off
 * subscription ends with no error, and a list on screen silently stops moving. So the backlog of
 * live events is bounded, and past the bound it is dropped for a fresh snapshot (`catchUp`), which
 * says the same in one item per object, however many events there were. Only a snapshot's own
 * size is not bounded (a manager watching 10,000 spaces gets 10,000 items), as a query's is not.
 */
class EventQueue<T> implements AsyncIterableIterator<T> {
  private items: { value: T; live: boolean }[] = [];
  /** How many of `items` are live events. */
  private live = 0;
  /** Bumped by each snapshot, so one overtaken by a newer one is dropped when it arrives. */
  private generation = 0;
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private failWaiting: ((err: unknown) => void) | null = null;
  private ready = false;
  private ended = false;
  private error: unknown = null;
  private cleanups: (() => void)[] = [];

  constructor(private readonly options: EventQueueOptions<T>) {}

  push(value: T) {
    if (this.ended) return;
    this.items.push({ value, live: true });
    this.live++;
    if (this.options.until?.(value)) this.end();
    else if (this.live > this.options.maxBacklog) this.overflow();
    this.flush();
  }
  /** Snapshot items after what is already queued (a LISTEN reconnect's resync). */
  append(values: T[]) {
    for (const value of values) {
      if (this.ended) return;
      this.items.push({ value, live: false });
      if (this.options.until?.(value)) this.end();
    }
    this.flush();
  }
  /** Events wait until `load` answers; its items go first (nothing that happens meanwhile is lost). */
  snapshot(load: () => Promise<T[]>) {
    this.ready = false;
    const generation = ++this.generation;
    load().then(
      (values) => {
        if (generation !== this.generation || this.ended) return;
        const last = this.options.until ? values.findIndex(this.options.until) : -1;
        this.items.unshift(...(last >= 0 ? values.slice(0, last + 1) : values).map((value) => ({ value, live: false })));
        this.ready = true;
        if (last >= 0) this.end();
        this.flush();
      },
      (err) => {
        if (generation !== this.generation) return;
        this.error = err;
        this.ready = true;
        this.flush();
      },
    );
  }
  private overflow() {
    this.items = [];
    this.live = 0;
    // Without a way to catch up, dropping events would leave the subscriber wrong: it ends instead.
    if (this.options.catchUp) this.snapshot(this.options.catchUp);
    else this.end();
  }
  end() {
    this.ended = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.flush();
  }
  onEnd(cleanup: () => void) {
    this.cleanups.push(cleanup);
  }
  private flush() {
    // An ended queue answers even before its snapshot arrived: a subscriber that completes while
    // the snapshot loads must end now (the load's answer is then dropped), not wait forever.
    if (!this.waiting || (!this.ready && !this.ended)) return;
    const resolve = this.waiting;
    const reject = this.failWaiting!;
    if (this.error) {
      this.waiting = this.failWaiting = null;
      reject(this.error);
    } else if (this.items.length) {
      this.waiting = this.failWaiting = null;
      const item = this.items.shift()!;
      if (item.live) this.live--;
      resolve({ value: item.value, done: false });
    } else if (this.ended) {
      this.waiting = this.failWaiting = null;
      resolve({ value: undefined, done: true });
    }
  }
  next(): Promise<IteratorResult<T>> {
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
      this.flush();
    });
  }
  return(): Promise<IteratorResult<T>> {
    this.items = [];
    this.live = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }
  throw(err: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(err);
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}
