import type { Handle } from '@sveltejs/kit';
import { earlyQueriesScript } from '$lib/api/early';

// Runs when the build renders the SPA's HTML shell (and in `vite dev`): see lib/api/early.ts.
export const handle: Handle = ({ event, resolve }) =>
  resolve(event, { transformPageChunk: ({ html }) => html.replace('%knot.early%', earlyQueriesScript()) });
