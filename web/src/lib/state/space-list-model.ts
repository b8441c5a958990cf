import type { Space, SpaceChange } from '../api/types.js';

/** Ids touched by events since a sync (a `spaces` query) began; those events are newer than its answer. */
export type SyncToken = Set<string>;

/**
 * The spaces a page shows, fed by two sources: `spaces` queries (the whole list at one moment)
 * and `spacesChanged` events (one space, in order). An event is always at least as fresh as a
 * query answer that arrives after it, so a query only fills in and prunes spaces that no event
 * has touched since the query was sent. Pure, so test/web can drive it without a browser.
 */
export class SpaceListModel {
  private byId = new Map<string, Space>();
  private syncs = new Set<SyncToken>();
  private sorted: Space[] | null = [];

  /** Returns false when the change changed nothing (a SNAPSHOT of what the page already shows). */
  apply(change: SpaceChange): boolean {
    for (const touched of this.syncs) touched.add(change.spaceId);
    if (change.kind === 'DELETED' || !change.space) {
      if (!this.byId.delete(change.spaceId)) return false;
    } else {
      if (same(this.byId.get(change.spaceId), change.space)) return false;
      this.byId.set(change.spaceId, change.space);
    }
    this.sorted = null;
    return true;
  }

  beginSync(): SyncToken {
    const token: SyncToken = new Set();
    this.syncs.add(token);
    return token;
  }

  /** Applies a `spaces` answer: adds and refreshes what no event has touched, drops what is gone. */
  finishSync(token: SyncToken, spaces: readonly Space[]): void {
    this.syncs.delete(token);
    const present = new Set(spaces.map((s) => s.id));
    let changed = false;
    for (const space of spaces) {
      if (token.has(space.id) || same(this.byId.get(space.id), space)) continue;
      this.byId.set(space.id, space);
      changed = true;
    }
    for (const id of [...this.byId.keys()]) {
      if (present.has(id) || token.has(id)) continue;
      this.byId.delete(id);
      changed = true;
    }
    if (changed) this.sorted = null;
  }

  /** A sync that failed must stop collecting ids. */
  cancelSync(token: SyncToken): void {
    this.syncs.delete(token);
  }

  get(id: string): Space | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** By name, as people look for them; the same array until something changes. */
  list(): Space[] {
    this.sorted ??= [...this.byId.values()].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
    return this.sorted;
  }
}

/**
 * Equal content: the page keeps the object it has, so Svelte re-renders no row for it. Both come
 * from the same GraphQL selection, so their keys are in the same order.
 */
function same(a: Space | undefined, b: Space): boolean {
  return !!a && JSON.stringify(a) === JSON.stringify(b);
}
