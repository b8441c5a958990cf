import { mutate } from '../api/client.js';
import { UPDATE_PROFILE } from '../api/documents.js';
import type { Shell, User } from '../api/types.js';
import { session } from '../state/session.svelte.js';

export interface ProfileChanges {
  email?: string;
  preferredShell?: Shell;
  timezone?: string;
  sshPublicKey?: string;
  currentPassword?: string;
  newPassword?: string;
  /** An empty string asks the server to generate a new random one. */
  servicePassword?: string;
}

/** Saves and refreshes the session's copy of the user; throws ApiError for the form. */
export async function updateProfile(input: ProfileChanges): Promise<User> {
  const { updateProfile: user } = await mutate(UPDATE_PROFILE, { input });
  session.replaceMe(user);
  return user;
}
