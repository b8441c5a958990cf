import { ApiError } from '../api/errors.js';
import { toasts } from '../state/toasts.svelte.js';

/**
 * Runs a user action against the API; a refusal becomes a toast with the server's own sentence.
 * Returns the result, or null when it was refused (callers with forms catch ApiError themselves).
 */
export async function runAction<T>(action: () => Promise<T>, success?: string): Promise<T | null> {
  try {
    const result = await action();
    if (success) toasts.success(success);
    return result;
  } catch (err) {
    toasts.error(err instanceof ApiError ? err.message : `Something went wrong: ${(err as Error).message}`);
    return null;
  }
}
