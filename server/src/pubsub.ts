import { Repeater } from 'graphql-yoga';
import type { Database } from './db.js';
import type { Logger } from './logger.js';

/**
 * Thin events: ids and a kind, never rows. Subscribers read the fresh row, so an event can never
 * carry stale or more-than-allowed data, and it always fits in a NOTIFY payload.
 */
export interface EventMap {
  /** A space's status, error, names, progress or services changed. */
  space: { spaceId: string; ownerId: string; kind: string };
  /** Something that a cached login depends on changed (token revoked, user deactivated, roles edited). */
  auth: { userId?: string };
  template: { templateId: string };
}
export type Topic = keyof EventMap;

export interface PubSub {
  /** Call after the write commits: delivery is immediate and cannot be rolled back. */
  publish<T extends Topic>(topic: T, payload: EventMap[T]): Promise<void>;
  on<T extends Topic>(topic: T, handler: (payload: EventMap[T]) => void): () => void;
  /** An async iterable for a GraphQL subscription; `filter` keeps only this subscriber's events. */
  iterate<T extends Topic>(topic: T, filter?: (payload: EventMap[T]) => boolean): AsyncIterableIterator<EventMap[T]>;
  close(): Promise<void>;
}

const CHANNEL = 'knot_events';

/** One LISTEN per process; events fan out locally, so 1,000 subscribers cost one notification. */
export async function createPubSub(database: Database, log: Logger): Promise<PubSub> {
  const handlers = new Map<Topic, Set<(payload: never) => void>>();

  const deliver = (raw: string) => {
    let message: { t: Topic; p: unknown };
    try {
      message = JSON.parse(raw);
    } catch {
      log.warn({ raw }, 'ignoring a malformed event');
      return;
    }
    for (const handler of handlers.get(message.t) ?? []) {
      try {
        handler(message.p as never);
      } catch (err) {
        log.error({ err, topic: message.t }, 'event handler failed');
      }
    }
  };
  const unlisten = await database.listen(CHANNEL, deliver);

  const on: PubSub['on'] = (topic, handler) => {
    let set = handlers.get(topic);
    if (!set) handlers.set(topic, (set = new Set()));
    set.add(handler as (payload: never) => void);
    return () => void set.delete(handler as (payload: never) => void);
  };

  return {
    async publish(topic, payload) {
      await database.notify(CHANNEL, JSON.stringify({ t: topic, p: payload }));
    },
    on,
    iterate(topic, filter) {
      return new Repeater<EventMap[typeof topic]>(async (push, stop) => {
        const off = on(topic, (payload) => {
          if (!filter || filter(payload)) void push(payload);
        });
        await stop;
        off();
      });
    },
    async close() {
      handlers.clear();
      await unlisten();
    },
  };
}
