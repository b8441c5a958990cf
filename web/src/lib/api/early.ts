import { print } from 'graphql';
import type { ResultOf } from '../../../../schema/client/graphql.js';
import { SESSION, SPACES } from './documents.js';
import { ApiError, toApiError } from './errors.js';

/**
 * The first queries a visit needs, sent by an inline script in the page's <head> while the app's
 * JavaScript is still loading, so the data and the code arrive side by side instead of one after
 * the other. hooks.server.ts puts the script into the HTML shell at build time.
 */
export function earlyQueriesScript(): string {
  const body = `
const post = (query, variables) => fetch('/graphql', {
  method: 'POST',
  credentials: 'same-origin',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
  body: JSON.stringify({ query, variables }),
}).then((r) => r.json());
const early = { session: post(${JSON.stringify(print(SESSION))}, {}) };
if (location.pathname === '/spaces') {
  early.spacesUser = new URLSearchParams(location.search).get('user');
  early.spaces = post(${JSON.stringify(print(SPACES))}, { userId: early.spacesUser });
}
for (const p of [early.session, early.spaces]) p?.catch(() => {});
window.__knotEarly = early;`;
  return `<script>(() => {${body}})();</script>`;
}

type Raw = { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
type Early = { session?: Promise<Raw>; spaces?: Promise<Raw>; spacesUser?: string | null };

const early = (): Early | undefined => (typeof window === 'undefined' ? undefined : (window as unknown as { __knotEarly?: Early }).__knotEarly);

/** The session the page's <head> asked for, once: later asks go to the API as usual. */
export function takeEarlySession(): Promise<ResultOf<typeof SESSION>> | null {
  const sent = early();
  const pending = sent?.session;
  if (!sent || !pending) return null;
  delete sent.session;
  return answer(pending);
}

/** The spaces of `userId` (null: your own) the page's <head> asked for, once. */
export function takeEarlySpaces(userId: string | null): Promise<ResultOf<typeof SPACES>> | null {
  const sent = early();
  const pending = sent?.spaces;
  if (!sent || !pending || (sent.spacesUser ?? null) !== userId) return null;
  delete sent.spaces;
  return answer(pending);
}

/** The typed answer to a query the page sent itself (its shape is the query's). */
function answer<T>(pending: Promise<Raw>): Promise<T> {
  return pending.then(
    (raw) => {
      if (raw.errors?.length) throw toApiError({ graphQLErrors: raw.errors });
      if (!raw.data) throw new ApiError('Knot sent an empty answer.', 'UNKNOWN');
      return raw.data as T;
    },
    () => {
      throw toApiError({ networkError: new Error('fetch failed') });
    },
  );
}
