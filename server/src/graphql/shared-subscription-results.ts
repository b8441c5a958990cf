import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * One event, many subscribers: pubsub hands every subscription the same event object, and most
 * subscribers of a space ask the same question (the UI's one document) as the same user, so the
 * answer is computed once per event, document, variables and viewer, and shared. Without this a
 * status change reaching 1,000 subscribers runs 1,000 identical executions.
 *
 * Sound because a subscription's result depends only on those: its resolvers see the event as
 * root value and the viewer (user, admin flag, permissions) from the context, and the key holds
 * all of them. Events that are not objects, or are not shared (a SNAPSHOT made for one
 * subscriber), simply never meet a second subscriber in the cache.
 */
const sharedByEvent = new WeakMap<object, Map<string, Result>>();

function viewerKey(context: Context | undefined): string {
  const viewer = context?.viewer;
  if (!viewer) return 'anonymous';
  return `${viewer.user.id}|${viewer.isAdmin ? 'admin' : [...viewer.permissions].sort().join(',')}`;
}

function subscriptionKey(args: ExecutionArgs): string | null {
  const source = args.document.loc?.source.body;
  if (!source) return null;
  return JSON.stringify([source, args.operationName ?? null, args.variableValues ?? {}, viewerKey(args.contextValue as Context)]);
}

function resultFor(args: ExecutionArgs, key: string | null, event: unknown): Result {
  if (key === null || typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
  let shared = sharedByEvent.get(event);
  if (!shared) sharedByEvent.set(event, (shared = new Map()));
  let result = shared.get(key);
  if (!result) shared.set(key, (result = execute({ ...args, rootValue: event })));
  return result;
}

/**
 * Maps the source stream to results by hand rather than with an async generator: a generator
 * waiting for the next event cannot be returned, so an unsubscribe would leave the pubsub
 * listener in place until the space changes again.
 */
function mapEvents(source: AsyncIterableIterator<unknown>, toResult: (event: unknown) => Result): AsyncIterableIterator<ExecutionResult> {
  return {
    async next() {
      const step = await source.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await toResult(step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(err: unknown) {
      if (source.throw) await source.throw(err);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function useSharedSubscriptionResults(): Plugin<Context> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const source = await createSourceEventStream(args as ExecutionArgs);
        // An ExecutionResult here is a refusal from the subscribe resolver (NOT_FOUND, FORBIDDEN…).
        if (!(Symbol.asyncIterator in source)) return source;
        const key = subscriptionKey(args as ExecutionArgs);
        return mapEvents(source as AsyncIterableIterator<unknown>, (event) => resultFor(args as ExecutionArgs, key, event));
      });
    },
  };
}
