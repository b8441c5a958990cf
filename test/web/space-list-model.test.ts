import { describe, expect, it } from 'vitest';
import { SpaceListModel } from '../../web/src/lib/state/space-list-model.js';
import { space } from './fixtures.js';

const names = (m: SpaceListModel) => m.list().map((s) => `${s.name}:${s.status}`);

describe('the Spaces page list (SpaceListModel)', () => {
  it('fills from a query answer and sorts by name, ignoring case', () => {
    const m = new SpaceListModel();
    const sync = m.beginSync();
    m.finishSync(sync, [space({ id: 'b', name: 'beta' }), space({ id: 'a', name: 'Alpha' }), space({ id: 'c', name: 'charlie' })]);
    expect(names(m)).toEqual(['Alpha:STOPPED', 'beta:STOPPED', 'charlie:STOPPED']);
  });

  it('applies snapshots, status changes, creations and deletions in the order they arrive', () => {
    const m = new SpaceListModel();
    m.apply({ kind: 'SNAPSHOT', spaceId: 'a', space: space({ id: 'a' }) });
    m.apply({ kind: 'STATUS', spaceId: 'a', space: space({ id: 'a', status: 'STARTING' }) });
    m.apply({ kind: 'CREATED', spaceId: 'b', space: space({ id: 'b' }) });
    m.apply({ kind: 'STATUS', spaceId: 'a', space: space({ id: 'a', status: 'RUNNING' }) });
    m.apply({ kind: 'DELETED', spaceId: 'b', space: null });
    expect(names(m)).toEqual(['a:RUNNING']);
  });

  it('keeps an event that arrived while a query was in flight over the older query answer', () => {
    const m = new SpaceListModel();
    const sync = m.beginSync();
    // The query read the row STOPPED; the RUNNING event overtook its answer.
    m.apply({ kind: 'STATUS', spaceId: 'a', space: space({ id: 'a', status: 'RUNNING' }) });
    m.finishSync(sync, [space({ id: 'a', status: 'STOPPED' })]);
    expect(names(m)).toEqual(['a:RUNNING']);
  });

  it('does not bring back a space deleted while the query was in flight', () => {
    const m = new SpaceListModel();
    m.apply({ kind: 'SNAPSHOT', spaceId: 'a', space: space({ id: 'a' }) });
    const sync = m.beginSync();
    m.apply({ kind: 'DELETED', spaceId: 'a', space: null });
    m.finishSync(sync, [space({ id: 'a' })]);
    expect(names(m)).toEqual([]);
  });

  it('drops, after a reconnect, the spaces the server no longer has (their DELETED events were missed)', () => {
    const m = new SpaceListModel();
    const first = m.beginSync();
    m.finishSync(first, [space({ id: 'a' }), space({ id: 'b' })]);
    // Socket down; `b` deleted meanwhile; on reconnect the page queries again.
    const resync = m.beginSync();
    m.apply({ kind: 'SNAPSHOT', spaceId: 'a', space: space({ id: 'a', status: 'RUNNING' }) });
    m.finishSync(resync, [space({ id: 'a', status: 'RUNNING' })]);
    expect(names(m)).toEqual(['a:RUNNING']);
  });

  it('keeps a space created after the query was answered but reported before the answer arrived', () => {
    const m = new SpaceListModel();
    const sync = m.beginSync();
    m.apply({ kind: 'CREATED', spaceId: 'new', space: space({ id: 'new' }) });
    m.finishSync(sync, []);
    expect(names(m)).toEqual(['new:STOPPED']);
  });

  it('ignores a snapshot equal to what it shows (the list after a resubscribe), keeping the same object', () => {
    const m = new SpaceListModel();
    const shown = space({ id: 'a', status: 'RUNNING' });
    m.apply({ kind: 'SNAPSHOT', spaceId: 'a', space: shown });
    const list = m.list();
    expect(m.apply({ kind: 'SNAPSHOT', spaceId: 'a', space: space({ id: 'a', status: 'RUNNING' }) })).toBe(false);
    expect(m.list()).toBe(list);
    expect(m.get('a')).toBe(shown);
    expect(m.apply({ kind: 'STATUS', spaceId: 'a', space: space({ id: 'a', status: 'STOPPING' }) })).toBe(true);
  });

  it('hands out the same array until something changes, so an unchanged list does not re-render', () => {
    const m = new SpaceListModel();
    m.apply({ kind: 'SNAPSHOT', spaceId: 'a', space: space({ id: 'a' }) });
    const once = m.list();
    expect(m.list()).toBe(once);
    m.apply({ kind: 'STATUS', spaceId: 'a', space: space({ id: 'a', status: 'STARTING' }) });
    expect(m.list()).not.toBe(once);
  });
});
