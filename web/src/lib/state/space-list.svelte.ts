import { query, subscribe } from '../api/client.js';
import { SPACES, SPACES_CHANGED } from '../api/documents.js';
import { takeEarlySpaces } from '../api/early.js';
import type { Space, Usage } from '../api/types.js';
import { myUsage } from '../services/groups.js';
import type { SpaceAction } from './space-view.js';
import { connection } from './connection.svelte.js';
import { SpaceListModel } from './space-list-model.js';
import { toasts } from './toasts.svelte.js';

/**
 * One user's spaces, live: a `spaces` query for the first render (it also tells "none" from
 * "not yet"), `spacesChanged` for every change after, and a fresh query after each reconnect so
 * spaces deleted while the socket was down disappear. Events arrive one WebSocket message at a
 * time; they are applied at once but rendered at most once per frame.
 */
export class SpaceList {
  #spaces = $state.raw<Space[]>([]);
  #loading = $state(true);
  #pending = $state<Record<string, SpaceAction>>({});
  #usage = $state.raw<Usage | null>(null);
  /** Bumped by every event, so a usage query answered after a newer event does not undo it. */
  #usageVersion = 0;
  #model = new SpaceListModel();
  #disposers: (() => void)[] = [];
  #frame: number | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(readonly userId: string | null) {}

  get spaces(): Space[] {
    return this.#spaces;
  }
  get loading(): boolean {
    return this.#loading;
  }
  /**
   * The listed user's usage against their quotas: every change carries its owner's, so it follows
   * each create, start, stop and delete. Read at first only for one's own list (me.usage).
   */
  get usage(): Usage | null {
    return this.#usage;
  }

  /** The action the user started on a space and the server has not answered yet. */
  pendingFor(id: string): SpaceAction | null {
    return this.#pending[id] ?? null;
  }

  setPending(id: string, action: SpaceAction | null) {
    if (action) this.#pending[id] = action;
    else delete this.#pending[id];
  }

  start() {
    const variables = { userId: this.userId };
    this.#disposers.push(
      subscribe(
        SPACES_CHANGED,
        variables,
        (data) => {
          this.#usageVersion++;
          this.#usage = data.spacesChanged.usage;
          if (this.#model.apply(data.spacesChanged)) this.#schedule();
        },
        (error) => toasts.error(`Live updates stopped: ${error.message}`),
      ),
    );
    this.#disposers.push(connection.onResync(() => void this.#sync()));
    void this.#sync();
  }

  stop() {
    for (const dispose of this.#disposers.splice(0)) dispose();
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  async #syncUsage() {
    if (this.userId) return;
    const version = this.#usageVersion;
    try {
      const usage = await myUsage();
      if (version === this.#usageVersion) this.#usage = usage;
    } catch {
      // The list's own query reports a failure; the meter just waits for the next change.
    }
  }

  async #sync() {
    void this.#syncUsage();
    // The answer the page's <head> asked for (api/early.ts) was sent before the subscription
    // started, so it may lack a change the subscription also missed: it only serves the first
    // render, and a fresh query follows.
    const early = takeEarlySpaces(this.userId)?.catch(() => null);
    if (early) {
      const data = await early;
      if (data && !this.#model.size) {
        this.#model.finishSync(this.#model.beginSync(), data.spaces);
        this.#flush();
        this.#loading = false;
      }
    }
    const token = this.#model.beginSync();
    try {
      const data = await query(SPACES, { userId: this.userId });
      this.#model.finishSync(token, data.spaces);
      this.#flush();
    } catch (err) {
      this.#model.cancelSync(token);
      toasts.error((err as Error).message);
    } finally {
      this.#loading = false;
    }
  }

  #schedule() {
    if (this.#frame !== null) return;
    this.#frame = requestAnimationFrame(() => this.#flush());
    // Hidden tabs get no animation frames; still catch up within a moment.
    this.#timer = setTimeout(() => this.#flush(), 100);
  }

  #flush() {
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#frame = null;
    this.#timer = null;
    this.#spaces = this.#model.list();
  }
}
