import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/src/app.js';
import { createLogger } from '../../server/src/logger.js';
import { GraphQLTestClient } from '../helpers/graphql.js';
import { startKnotProcess, type KnotProcess } from '../helpers/knot-process.js';

const SETUP = `mutation { setup(input: { username: "admin", email: "admin@example.com", password: "correct-horse" }) { id } }`;

/**
 * The default mode: no DATABASE_URL, an embedded PostgreSQL under KNOT_DATA_DIR. This is the smoke
 * test of `npm start` on a fresh machine (the rest of the suite runs on the provisioned PostgreSQL).
 */
describe('embedded PostgreSQL (no DATABASE_URL)', () => {
  const dirs: string[] = [];
  const processes: KnotProcess[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'knot-embedded-'));
    dirs.push(dir);
    return dir;
  };
  const spawnKnot = async (dataDir: string) => {
    const knot = await startKnotProcess({ KNOT_DATA_DIR: dataDir });
    processes.push(knot);
    return knot;
  };
  afterAll(async () => {
    for (const p of processes) await p.kill();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('sets up, answers /healthz, and keeps the data across a clean restart', async () => {
    const dataDir = newDataDir();
    let app: App | undefined;
    const boot = async () => {
      app = await createApp({ env: { KNOT_DATA_DIR: dataDir }, config: { databaseUrl: undefined, logLevel: 'silent' }, logger: createLogger('silent') });
      expect(app.services.database.kind).toBe('embedded');
      expect(app.services.config.dataDir).toBe(dataDir);
      return new GraphQLTestClient(await app.start(0, '127.0.0.1'));
    };
    try {
      const first = await boot();
      expect((await first.request(SETUP)).errors).toBeUndefined();
      expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
      await app!.stop();
      app = undefined;

      const second = await boot();
      const session = await second.login('admin', 'correct-horse');
      expect((await session.data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('admin');
      const again = await second.request(SETUP.replace('"admin"', '"eve"'));
      expect(again.errors![0]!.extensions!.code).toBe('ALREADY_SET_UP');
    } finally {
      await app?.stop();
    }
  }, 180_000); // initdb on an empty directory: a few seconds idle, several times that under load

  it('a write acknowledged survives SIGKILL of a real server process, and the kill leaves no lock behind', async () => {
    const dataDir = newDataDir();
    let knot = await spawnKnot(dataDir);
    const anonymous = new GraphQLTestClient(knot.url);
    expect((await anonymous.request(SETUP)).errors).toBeUndefined();
    const token = await (await anonymous.login('admin', 'correct-horse')).createToken('kill-test');
    // Concurrent writes, each acknowledged before the kill; the kill comes right after the last answer.
    const names = Array.from({ length: 8 }, (_, i) => `acked-${i}`);
    await Promise.all(names.map((name) => new GraphQLTestClient(knot.url, token).data(`mutation($n: String!) { createApiToken(name: $n) { token } }`, { n: name })));
    await knot.kill();

    knot = await spawnKnot(dataDir); // the SIGKILLed server's lock must not block this start
    const tokens = await new GraphQLTestClient(knot.url, token).data<{ apiTokens: { name: string }[] }>(`{ apiTokens { name } }`);
    expect(tokens.apiTokens.map((t) => t.name)).toEqual(expect.arrayContaining(names));
    await knot.stop();
  }, 180_000);

  it('refuses a second server on the same data directory, naming the directory and what to do', async () => {
    const dataDir = newDataDir();
    const first = await spawnKnot(dataDir);
    const second = startKnotProcess({ KNOT_DATA_DIR: dataDir });
    const error = await second.then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(error).toContain(`Another Knot server (pid ${first.pid}) is using the data directory ${dataDir}`);
    expect(error).toContain('KNOT_DATA_DIR');
    // The first one is unharmed.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    await first.stop();
  }, 180_000);
});
