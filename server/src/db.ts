import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from '../../schema/db/index.js';
import type { Config } from './config.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The database plus the one feature the two drivers provide differently: cross-process notifications. */
export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Delivers every notification on `channel`, including this process's own. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Runs `fn` while holding the lock `key` across every replica, or returns false at once
   * (without running it) when another holder has it.
   */
  tryExclusive(key: number, fn: () => Promise<void>): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));
/** Any constant works; it only has to be the same in every replica. */
const MIGRATION_LOCK_KEY = 4_242_001;

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openPglite(config.dataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const client = postgres(url, { max: 10, onnotice: () => {} });
  const db = drizzle(client, { schema }) as unknown as Db;

  // Replicas may boot together; the advisory lock makes them migrate one at a time.
  const lock = await client.reserve();
  try {
    await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migrate(drizzle(client, { schema }), { migrationsFolder });
  } finally {
    await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    lock.release();
  }

  return {
    db,
    kind: 'postgres',
    async listen(channel, onMessage) {
      const { unlisten } = await client.listen(channel, onMessage);
      return unlisten;
    },
    async notify(channel, payload) {
      await client.notify(channel, payload);
    },
    async tryExclusive(key, fn) {
      // A session lock on a connection of its own: no transaction stays open while fn runs.
      const session = await client.reserve();
      try {
        const [row] = await session`select pg_try_advisory_lock(${key}) as locked`;
        if (!row?.locked) return false;
        try {
          await fn();
        } finally {
          await session`select pg_advisory_unlock(${key})`;
        }
        return true;
      } finally {
        session.release();
      }
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const dir = path.join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const pgliteDb = drizzle(client, { schema });
  await migrate(pgliteDb, { migrationsFolder });

  // PGlite lives inside this one process, so an in-process emitter is the whole of "every replica".
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const held = new Set<number>();
  return {
    db: pgliteDb as unknown as Db,
    kind: 'pglite',
    async listen(channel, onMessage) {
      emitter.on(channel, onMessage);
      return async () => void emitter.off(channel, onMessage);
    },
    async notify(channel, payload) {
      // Asynchronous like a real NOTIFY, so publishers never run subscriber code inline.
      setImmediate(() => emitter.emit(channel, payload));
    },
    async tryExclusive(key, fn) {
      // One process owns the data directory, so a lock in memory is a lock for every "replica".
      if (held.has(key)) return false;
      held.add(key);
      try {
        await fn();
      } finally {
        held.delete(key);
      }
      return true;
    },
    async ping() {
      await client.query('select 1');
    },
    async close() {
      await client.close();
    },
  };
}
