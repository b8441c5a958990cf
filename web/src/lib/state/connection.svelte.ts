/**
 * The live connection's health, for the "Reconnecting…" banner, and a hook for views that must
 * resynchronise after a gap (events sent while the socket was down are not replayed).
 */
class ConnectionState {
  #status = $state<'idle' | 'connected' | 'reconnecting'>('idle');
  #everConnected = false;
  #resyncListeners = new Set<() => void>();

  get status() {
    return this.#status;
  }

  connected(wasRetry: boolean) {
    const gap = wasRetry || this.#status === 'reconnecting';
    this.#status = 'connected';
    if (gap && this.#everConnected) for (const listener of this.#resyncListeners) listener();
    this.#everConnected = true;
  }

  /** `code` 1000 is graphql-ws closing an idle socket on purpose, not a loss. */
  lost(code?: number) {
    this.#status = code === 1000 ? 'idle' : 'reconnecting';
  }

  reset() {
    this.#status = 'idle';
    this.#everConnected = false;
  }

  /** Calls `listener` after every reconnection; returns the function that stops it. */
  onResync(listener: () => void): () => void {
    this.#resyncListeners.add(listener);
    return () => this.#resyncListeners.delete(listener);
  }
}

export const connection = new ConnectionState();
