import { Client, fetchExchange, subscriptionExchange, type AnyVariables, type OperationResult, type TypedDocumentNode } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { ApiError, toApiError } from './errors.js';
import { connection } from '../state/connection.svelte.js';

/**
 * One graphql-ws connection for every subscription on the page. It retries for ever with a short,
 * capped backoff, and graphql-ws re-sends every active subscription after it reconnects, so a
 * server restart costs a page nothing but a moment of "Reconnecting…".
 */
function createSocket(): WsClient {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const socket = createWsClient({
    url,
    lazy: true,
    // Leaving the Spaces page and coming back should not cost a new handshake.
    lazyCloseTimeout: 10_000,
    keepAlive: 20_000,
    retryAttempts: Infinity,
    // A browser reports a refused connection as an `error` event, not a close: retry those too.
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 5_000) + Math.random() * 250)),
    on: {
      connected: (_socket, _payload, wasRetry) => connection.connected(wasRetry),
      closed: (event) => {
        const code = (event as { code?: number }).code;
        connection.lost(code);
        // 4403: the socket's credentials were refused or revoked.
        if (code === 4403) authLost();
      },
    },
  });
  return socket;
}

/** Listeners told when Knot no longer accepts the session (expired, logged out elsewhere, deactivated). */
const authLostListeners = new Set<() => void>();
export function onAuthLost(listener: () => void): () => void {
  authLostListeners.add(listener);
  return () => authLostListeners.delete(listener);
}
const authLost = () => authLostListeners.forEach((listener) => listener());

let socket: WsClient | null = null;
function currentSocket(): WsClient {
  socket ??= createSocket();
  return socket;
}

/** After logout the next user must not inherit the old socket (it was authenticated by the old cookie). */
export function resetSocket() {
  // Disposing only closes the socket; nothing waits on it.
  void socket?.dispose();
  socket = null;
  connection.reset();
}

export const urql = new Client({
  url: '/graphql',
  // Every view asks for fresh data; live views follow subscriptions, so a document cache would only go stale.
  requestPolicy: 'network-only',
  preferGetMethod: false,
  exchanges: [
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query || '' };
        return {
          subscribe(sink) {
            const unsubscribe = currentSocket().subscribe(input, sink);
            return { unsubscribe };
          },
        };
      },
    }),
    fetchExchange,
  ],
});

/** An operation without variables may be called without them. */
type Vars<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

function unwrap<T>(result: OperationResult<T, AnyVariables>): T {
  if (result.error) {
    const error = toApiError(result.error);
    if (error.code === 'UNAUTHENTICATED') authLost();
    throw error;
  }
  if (!result.data) throw new ApiError('Knot sent an empty answer.', 'UNKNOWN');
  return result.data;
}

/**
 * Reads retry twice when the request never got an answer (a blip, Knot restarting, or the
 * browser dropping requests on a network change); a refusal is never retried, nor is a mutation.
 */
export async function query<T, V extends AnyVariables>(document: TypedDocumentNode<T, V>, ...[variables]: Vars<V>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return unwrap(await urql.query(document, variables ?? ({} as V)).toPromise());
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== 'NETWORK' || attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
    }
  }
}

export async function mutate<T, V extends AnyVariables>(document: TypedDocumentNode<T, V>, ...[variables]: Vars<V>): Promise<T> {
  return unwrap(await urql.mutation(document, variables ?? ({} as V)).toPromise());
}

/** Follows a subscription; returns the function that ends it. */
export function subscribe<T, V extends AnyVariables>(
  document: TypedDocumentNode<T, V>,
  variables: V,
  onData: (data: T) => void,
  onError: (error: ApiError) => void,
): () => void {
  const { unsubscribe } = urql.subscription(document, variables).subscribe((result) => {
    if (result.error) onError(toApiError(result.error));
    else if (result.data) onData(result.data);
  });
  return unsubscribe;
}
