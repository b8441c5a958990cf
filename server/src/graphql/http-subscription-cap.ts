/**
 * Subscriptions over server-sent events (Yoga serves them on a plain HTTP request) are not held
 * by a WebSocket, so websocket.ts's caps do not see them: each is its own connection with its own
 * event stream. One user gets at most this many at once on a server process, like their sockets.
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.js';

export const HTTP_SUBSCRIPTIONS_PER_USER = 50;

const isStream = (value: unknown): value is AsyncIterator<unknown> & AsyncIterable<unknown> =>
  !!value && typeof value === 'object' && Symbol.asyncIterator in value;

export function useHttpSubscriptionCap(): Plugin<Context> {
  const open = new Map<string, number>();
  return {
    onSubscribe: ({ args }) => {
      const ctx = args.contextValue as Context & { request?: Request };
      // Only HTTP requests carry `request`; anonymous subscriptions are refused by their resolvers.
      const userId = ctx.request ? ctx.viewer?.user.id : undefined;
      if (!userId) return;
      return {
        // Counted once the stream exists, check and count in one step, so a burst cannot slip past.
        onSubscribeResult: ({ result, setResult }) => {
          if (!isStream(result)) return;
          const count = open.get(userId) ?? 0;
          if (count >= HTTP_SUBSCRIPTIONS_PER_USER) {
            void result.return?.();
            const refusal: ExecutionResult = {
              errors: [
                new GraphQLError(`Too many subscriptions over HTTP for this user (at most ${HTTP_SUBSCRIPTIONS_PER_USER}); use one WebSocket for many`, {
                  extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
                }),
              ],
            };
            setResult(refusal);
            return;
          }
          open.set(userId, count + 1);
          return {
            onEnd: () => {
              const left = (open.get(userId) ?? 1) - 1;
              if (left > 0) open.set(userId, left);
              else open.delete(userId);
            },
          };
        },
      };
    },
  };
}
