import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';

export interface DataDirLock {
  release(): Promise<void>;
}

/**
 * One Knot server per data directory. The lock is a listening Unix socket in Linux's abstract
 * namespace, named after the directory: the kernel frees it the moment its process dies, however it
 * dies, so a SIGKILLed server never blocks the next start (no stale lock file to judge), while a live
 * one always does. knot.pid beside the data only tells the refused server whom to name.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const dir = realpathSync(dataDir);
  const name = `\0knot-data-dir-${createHash('sha256').update(dir).digest('hex').slice(0, 32)}`;
  const pidFile = path.join(dir, 'knot.pid');
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') return reject(err);
      const holder = readHolder(pidFile);
      reject(
        new Error(
          `Another Knot server${holder ? ` (pid ${holder})` : ''} is using the data directory ${dir}. ` +
            'Two servers cannot share one embedded database: stop that server first, or give this one its own KNOT_DATA_DIR ' +
            '(or point both at one PostgreSQL with DATABASE_URL to run them as replicas).',
        ),
      );
    });
    server.listen(name, resolve);
  });
  server.unref();
  writeFileSync(pidFile, `${process.pid}\n`);
  return {
    async release() {
      rmSync(pidFile, { force: true });
      await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
    },
  };
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
