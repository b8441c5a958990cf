import { mutate, query } from '../api/client.js';
import { SHARE_CANDIDATES, SHARE_SPACE, TRANSFER_SPACE, UNSHARE_SPACE } from '../api/documents.js';
import type { Space } from '../api/types.js';
import { runAction } from './run-action.js';

/** Who the owner may share a space with, by part of a username. */
export async function shareCandidates(spaceId: string, search: string): Promise<{ id: string; username: string }[]> {
  return (await query(SHARE_CANDIDATES, { spaceId, search })).shareCandidates;
}

/** The space as it is now (with whom it is shared), or null when refused (a toast says why). */
export async function shareSpace(space: Space, user: { id: string; username: string }): Promise<Space | null> {
  const done = await runAction(() => mutate(SHARE_SPACE, { id: space.id, userId: user.id }), `Shared ${space.name} with ${user.username}.`);
  return done?.shareSpace ?? null;
}

export async function unshareSpace(space: Space, user: { id: string; username: string }): Promise<boolean> {
  const done = await runAction(() => mutate(UNSHARE_SPACE, { id: space.id, userId: user.id }), `${user.username} no longer has access to ${space.name}.`);
  return done !== null;
}

/** Throws ApiError, so the dialog can show the server's sentence (NAME_TAKEN, QUOTA_EXCEEDED, …) in place. */
export async function transferSpace(space: Space, userId: string): Promise<void> {
  await mutate(TRANSFER_SPACE, { id: space.id, userId });
}
