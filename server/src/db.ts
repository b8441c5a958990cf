import { mkdirSync } from 'node:fs';
import { fromRoot } from './paths.js';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from '../../schema/db/index.js';
import type { Config } from './config.js';
import { lockDataDir } from './data-dir-lock.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import type { Logger } from './logger.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** The database plus the one feature the two drivers provide differently: cross-process notifications. */
export interface Database {
  db: Db;
  kind: 'postgres' | 'embedded';
  /**
   * Delivers every notification on `channel`, including this process's own. `onRelisten` runs each
   * time the LISTEN connection comes back after a drop: notifications sent meanwhile are lost.
   */
  listen(channel: string, onMessage: (payload: string) => void, onRelisten?: () => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Runs `fn` while holding the lock `key` across every replica, or returns false at once
   * (without running it) when another holder has it.
   */
  tryExclusive(key: number, fn: () => Promise<void>): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const migrationsFolder = fromRoot('migrations');
/** Any constant works; it only has to be the same in every replica. */
const MIGRATION_LOCK_KEY = 4_242_001;

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, log: Logger): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openEmbedded(config.dataDir, log);
}

/*
 * Why the embedded default is a real PostgreSQL and not PGlite (measured; figures in the
 * README's configuration table):
 * - Durability. Acknowledged writes were lost with PGlite (0.5.16) when the server was SIGKILLed
 *   (3 chaos runs of 3, before this change). That did not reproduce later (PGlite alone, eight
 *   concurrent creates killed 0.7 s after their answers, and one `npm run chaos` on the commit
 *   before the switch: 0 lost), so the cause stays unknown; a real Postgres commits with its WAL
 *   flushed (fsync, synchronous_commit on) and recovers from a kill like from any crash, which is
 *   a guarantee rather than an observation.
 * - One driver. PGlite runs one connection in this process: every query of every request waits on
 *   one mutex, a transaction holds it for its whole length, and LISTEN/NOTIFY had to be faked
 *   with an in-process emitter. The embedded Postgres is driven by postgres.js exactly like
 *   DATABASE_URL, with real LISTEN/NOTIFY, so the code path tested is the code path run.
 * - Cold start is faster: 6–8 s for initdb + migrations on an empty directory and 0.3 s to restart,
 *   against 20–27 s and 1–2.4 s for PGlite (same loaded 2-core machine, load average 16–18);
 *   `npm run chaos` took 461 s against PGlite's 603 s.
 */
async function openEmbedded(dataDir: string, log: Logger): Promise<Database> {
  mkdirSync(dataDir, { recursive: true });
  const lock = await lockDataDir(dataDir);
  try {
    const pg = await startEmbeddedPostgres(dataDir, log);
    const database = await openPostgres({ path: pg.socketPath, user: pg.user, database: pg.database }, 'embedded');
    return {
      ...database,
      async close() {
        try {
          await database.close();
          await pg.stop();
        } finally {
          await lock.release();
        }
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function openPostgres(target: string | { path: string; user: string; database: string }, kind: Database['kind'] = 'postgres'): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  const options = { max: 10, onnotice: () => {} };
  const client = typeof target === 'string' ? postgres(target, options) : postgres({ ...target, ...options });
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
    kind,
    async listen(channel, onMessage, onRelisten) {
      // postgres.js calls onlisten on the first LISTEN and again after every reconnect.
      let first = true;
      const { unlisten } = await client.listen(channel, onMessage, () => {
        if (first) first = false;
        else onRelisten?.();
      });
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
