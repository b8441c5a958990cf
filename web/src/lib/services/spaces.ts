import type { TypedDocumentNode } from '@urql/core';
import { mutate } from '../api/client.js';
import { CREATE_SPACE, DELETE_SPACE, KEEP_SPACE_RUNNING, RESTART_SPACE, START_SPACE, STOP_SPACE, UPDATE_SPACE } from '../api/documents.js';
import type { Shell, Space } from '../api/types.js';
import type { SpaceList } from '../state/space-list.svelte.js';
import type { SpaceAction } from '../state/space-view.js';
import { runAction } from './run-action.js';

/** The answer is not read (the subscription brings the new state), so any result type will do. */
const LIFECYCLE: Record<'start' | 'stop' | 'restart', TypedDocumentNode<unknown, { id: string }>> = { start: START_SPACE, stop: STOP_SPACE, restart: RESTART_SPACE };

/**
 * Start, stop or restart. The mutation answers at once (STARTING/STOPPING); the page learns the
 * rest from the subscription, so nothing here waits for the container.
 */
export async function changeSpaceState(list: SpaceList, space: Space, action: 'start' | 'stop' | 'restart'): Promise<void> {
  await withPending(list, space.id, action, () => mutate(LIFECYCLE[action], { id: space.id }));
}

/** Pushes an idle or uptime stop back by one period; a refusal (e.g. SPACE_NOT_RUNNING) is a toast with the server's sentence. */
export async function keepSpaceRunning(list: SpaceList, space: Space): Promise<void> {
  await withPending(list, space.id, 'keep', () => mutate(KEEP_SPACE_RUNNING, { id: space.id }));
}

export async function deleteSpace(list: SpaceList, space: Space): Promise<boolean> {
  const done = await withPending(list, space.id, 'delete', () => mutate(DELETE_SPACE, { id: space.id }));
  return done !== null;
}

async function withPending<T>(list: SpaceList, id: string, action: SpaceAction, run: () => Promise<T>): Promise<T | null> {
  list.setPending(id, action);
  try {
    return await runAction(run);
  } finally {
    list.setPending(id, null);
  }
}

/** Form actions throw ApiError so the form can put the message next to its field. */
export function createSpace(input: { templateId: string; name: string; shell: Shell; altNames: string[]; userId?: string | null }) {
  return mutate(CREATE_SPACE, { input });
}

export function updateSpace(id: string, input: { name: string; altNames: string[] }) {
  return mutate(UPDATE_SPACE, { id, input });
}
