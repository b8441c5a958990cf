import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { lostRights, type Viewer } from '../auth/viewer.js';
import type { Services } from '../services.js';
import type { Context } from './context.js';

/** setTimeout's limit (about 24.8 days); a later expiry is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A subscription over HTTP (server-sent events, `Accept: text/event-stream`) is one long response
 * authorised once, when it began. This ends it, like a WebSocket is closed, as soon as its
 * credential stops being valid: on every `auth` event about its user (logout, token revoked,
 * password changed, user deactivated, roles changed) and when the credential expires.
 * WebSocket subscriptions have no `recheckViewer` and are left to websocket.ts.
 */
export function useEndStreamsOnRevocation(services: Services): Plugin<Context> {
  return {
    onSubscribe({ args }) {
      const ctx = args.contextValue as Context;
      const viewer = ctx.viewer;
      const recheck = ctx.recheckViewer;
      if (!viewer || !recheck) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endWhenRevoked(result as AsyncIterable<never>, viewer, recheck, services));
        },
      };
    },
  };
}

function endWhenRevoked<T>(
  source: AsyncIterable<T>,
  viewer: Viewer,
  recheck: () => Promise<Viewer | null>,
  services: Services,
): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let end!: () => void;
  const ended = new Promise<IteratorResult<T>>((resolve) => {
    end = () => resolve({ done: true, value: undefined });
  });
  let timer: NodeJS.Timeout | undefined;

  const check = () =>
    void recheck().then(
      (now) => {
        if (!now || lostRights(viewer, now)) finish();
        else schedule(now);
      },
      (err) => services.log.error({ err }, 'could not re-check the credential of a subscription'),
    );
  const schedule = (current: Viewer) => {
    clearTimeout(timer);
    const expiresAt = current.credential.expiresAt?.getTime();
    if (expiresAt !== undefined) timer = setTimeout(check, Math.min(Math.max(expiresAt - Date.now(), 0) + 10, MAX_TIMER_MS));
  };
  const off = services.pubsub.on('auth', (payload) => {
    if (!payload.userId || payload.userId === viewer.user.id) check();
  });
  schedule(viewer);

  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    off();
    clearTimeout(timer);
    end();
    void iterator.return?.();
  };

  return {
    async next() {
      const step = await Promise.race([iterator.next(), ended]);
      if (step.done) finish();
      return step;
    },
    async return() {
      finish();
      return { done: true, value: undefined };
    },
    async throw(err: unknown) {
      finish();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
