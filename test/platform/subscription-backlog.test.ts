import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, newToken } from '../../server/src/auth/secrets.js';
import { createLogger } from '../../server/src/logger.js';
import { createPubSub, type EventMap, type PubSub } from '../../server/src/pubsub.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { captureLogs } from '../helpers/logs.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { waitFor } from '../helpers/wait.js';

type SpaceEvent = EventMap['space'];
type SpacesChanged = { spacesChanged: { kind: string; spaceId: string; space: { name: string } | null } };

const SPACES = 30;
/** A's bound on waiting events, low so that one NOTIFY from B (a few dozen events) exceeds it. */
const BACKLOG = 20;

/** Publishes every event on `from` in the same tick, so they share NOTIFYs and arrive as a burst. */
function burst(from: PubSub, events: SpaceEvent[]): Promise<void> {
  return Promise.all(events.map((e) => from.publish('space', e))).then(() => undefined);
}

/** Reads `count` items from a subscription's iterator, failing if it ends first. */
async function take(iterator: AsyncIterator<SpaceEvent>, count: number): Promise<SpaceEvent[]> {
  const items: SpaceEvent[] = [];
  for (let i = 0; i < count; i++) {
    const next = await iterator.next();
    if (next.done) throw new Error(`the subscription ended after ${items.length} of ${count} items`);
    items.push(next.value);
  }
  return items;
}

/**
 * A subscriber behind by many events, as spacesChanged of a manager watching 10,000 spaces while
 * another replica reports them all RUNNING, must stay live: it was silently ended before (the bound
 * on waiting events counted the snapshot too), and a list on screen stopped moving.
 */
describe('a subscription far behind its events', () => {
  let a: TestServer;
  let b: TestServer;
  const logs = captureLogs('warn');
  let sql: ReturnType<typeof openSql>;
  let admin: { client: GraphQLTestClient; userId: string };
  const spaceIds: string[] = [];

  beforeAll(async () => {
    a = await startTestServer({ config: { subscriptionBacklog: BACKLOG }, logger: logs.logger });
    b = await startTestServer({ databaseUrl: a.databaseUrl });
    admin = await setupAdmin(a);
    sql = openSql(a.databaseUrl);
    const { createTemplate } = await admin.client.data<{ createTemplate: { id: string } }>(
      `mutation { createTemplate(input: { name: "machines", platform: MANUAL, job: "" }) { id } }`,
    );
    const rows = Array.from({ length: SPACES }, (_, i) => ({
      name: `machine-${String(i).padStart(2, '0')}`,
      owner_id: admin.userId,
      template_id: createTemplate.id,
      shell: 'sh',
      status: 'STOPPED',
      agent_token_hash: hashToken(newToken('knota')),
    }));
    spaceIds.push(...(await sql<{ id: string }[]>`insert into spaces ${sql(rows)} returning id`).map((r) => r.id));
  });
  afterAll(async () => {
    await admin?.client.close();
    await sql?.end();
    await b?.stop();
    await a?.stop();
  });

  it('keeps a subscription live whose snapshot alone is bigger than the bound (12,000 items, bound 10,000)', async () => {
    const pubsub = await createPubSub(a.app.services.database, createLogger('silent'));
    const size = 12_000;
    const big = pubsub.iterate('space', {
      initial: async () => Array.from({ length: size }, (_, i) => ({ spaceId: `snapshot-${i}`, ownerId: 'o', kind: 'SNAPSHOT' })),
    });
    let arrived = 0;
    const off = pubsub.on('space', () => arrived++);
    try {
      // The snapshot is in (its first item was read) before the other replica's events arrive.
      expect((await take(big, 1))[0]!.spaceId).toBe('snapshot-0');
      await burst(b.app.services.pubsub, [0, 1, 2].map((i) => ({ spaceId: `burst-${i}`, ownerId: 'o', kind: 'SERVICES' })));
      await waitFor(() => arrived === 3, { what: 'the burst to arrive' });

      const rest = await take(big, size - 1 + 3);
      expect(rest.slice(size - 1).map((e) => e.spaceId)).toEqual(['burst-0', 'burst-1', 'burst-2']);
      await b.app.services.pubsub.publish('space', { spaceId: 'later', ownerId: 'o', kind: 'SERVICES' });
      expect((await take(big, 1))[0]!.spaceId).toBe('later');
    } finally {
      await big.return!();
      off();
      await pubsub.close();
    }
  });

  it('replaces a backlog past the bound by a fresh snapshot, and stays live', async () => {
    const pubsub = await createPubSub(a.app.services.database, createLogger('silent'), { maxBacklog: 50 });
    let snapshots = 0;
    const slow = pubsub.iterate('space', { initial: async () => [{ spaceId: `snapshot-${++snapshots}`, ownerId: 'o', kind: 'SNAPSHOT' }] });
    let arrived = 0;
    const off = pubsub.on('space', () => arrived++);
    try {
      expect((await take(slow, 1))[0]!.spaceId).toBe('snapshot-1');
      // 200 events arrive while `slow` reads nothing.
      await burst(b.app.services.pubsub, Array.from({ length: 200 }, (_, i) => ({ spaceId: `burst-${i}`, ownerId: 'o', kind: 'SERVICES' })));
      await waitFor(() => arrived === 200, { what: 'the burst to arrive' });

      const read: string[] = [];
      while (!/^snapshot-[2-9]/.test(read.at(-1) ?? '')) read.push((await take(slow, 1))[0]!.spaceId);
      // What follows the fresh snapshot is at most one bound of the newest events, in order.
      await b.app.services.pubsub.publish('space', { spaceId: 'later', ownerId: 'o', kind: 'SERVICES' });
      for (;;) {
        const id = (await take(slow, 1))[0]!.spaceId;
        read.push(id);
        if (id === 'later') break;
      }
      expect(read.length).toBeLessThan(2 + 50 + 1);
      const after = read.slice(read.findIndex((id) => id.startsWith('snapshot-')) + 1, -1).map((id) => Number(id.slice('burst-'.length)));
      expect(after).toEqual([...after].sort((x, y) => x - y));
      if (after.length) expect(after.at(-1)).toBe(199);
    } finally {
      await slow.return!();
      off();
      await pubsub.close();
    }
  });

  it('spacesChanged: a burst from another replica past the bound brings every space fresh, says which went, and keeps delivering', async () => {
    const sub = admin.client.subscribe<SpacesChanged>(`subscription { spacesChanged { kind spaceId space { name } } }`);
    for (let i = 0; i < SPACES; i++) await sub.next((e) => e.spacesChanged.kind === 'SNAPSHOT');
    const initial = sub.events.length;

    // One space goes while B reports a change on every other space twice: its DELETED is in the
    // middle of a burst that A cannot send as fast as it arrives.
    const [gone, ...staying] = spaceIds;
    await sql`delete from spaces where id = ${gone!}`;
    const events: SpaceEvent[] = [];
    for (let round = 0; round < 2; round++) for (const spaceId of staying) events.push({ spaceId, ownerId: admin.userId, kind: 'SERVICES' });
    events.splice(10, 0, { spaceId: gone!, ownerId: admin.userId, kind: 'DELETED' });
    await burst(b.app.services.pubsub, events);

    const deleted = await sub.next((e) => e.spacesChanged.kind === 'DELETED', 10_000);
    expect(deleted.spacesChanged).toEqual({ kind: 'DELETED', spaceId: gone, space: null });
    // Every space still there arrives fresh, as a SNAPSHOT after the burst.
    await waitFor(
      () => {
        const resent = new Set(sub.events.slice(initial).filter((e) => e.spacesChanged.kind === 'SNAPSHOT').map((e) => e.spacesChanged.spaceId));
        return staying.every((id) => resent.has(id));
      },
      { what: 'a fresh snapshot of every remaining space' },
    );
    expect(logs.lines.some((l) => String(l.msg).includes('fell behind'))).toBe(true);

    await sql`update spaces set name = 'renamed-later' where id = ${staying[0]!}`;
    await b.app.services.pubsub.publish('space', { spaceId: staying[0]!, ownerId: admin.userId, kind: 'RENAMED' });
    const later = await sub.next((e) => e.spacesChanged.space?.name === 'renamed-later', 10_000);
    expect(later.spacesChanged.spaceId).toBe(staying[0]);
    expect(sub.completed).toBe(false);
    expect(sub.events.length - initial).toBeLessThan(events.length + 1);
    sub.close();
  });

  it('does not crash the server when rows read ahead for events it dropped cannot be read', async () => {
    // Each event's row is read as it arrives (spaces.ts prefetch); an event dropped with a backlog
    // (or whose subscriber left) is never sent, and a failure of its read had nobody to hear it:
    // an unhandled rejection ends a Node process (seen at shutdown, the database closing).
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    const sub = admin.client.subscribe<SpacesChanged>(`subscription { spacesChanged { kind spaceId space { name } } }`);
    const staying = spaceIds.slice(1);
    for (let i = 0; i < staying.length; i++) await sub.next((e) => e.spacesChanged.kind === 'SNAPSHOT');
    await sql`alter table spaces rename to spaces_away`;
    try {
      await burst(b.app.services.pubsub, staying.concat(staying).map((spaceId) => ({ spaceId, ownerId: admin.userId, kind: 'SERVICES' })));
      // The one event A sent failed to read its row, in the same batch as those it dropped.
      await waitFor(() => sub.errors.length > 0, { what: 'the subscriber to hear that the read failed' });
    } finally {
      await sql`alter table spaces_away rename to spaces`;
      process.off('unhandledRejection', onUnhandled);
      sub.close();
    }
    expect(unhandled).toEqual([]);
  });
});
