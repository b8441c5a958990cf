import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../server/src/app.js';
import { createLogger } from '../../server/src/logger.js';
import { GraphQLTestClient } from '../helpers/graphql.js';

/**
 * The default mode: no DATABASE_URL, an embedded PGlite under KNOT_DATA_DIR. This is the smoke
 * test of `npm start` on a fresh machine (the rest of the suite runs on the real PostgreSQL).
 */
describe('embedded PGlite (no DATABASE_URL)', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-pglite-'));
  let app: App | undefined;
  const boot = async () => {
    app = await createApp({
      env: { KNOT_DATA_DIR: dataDir },
      config: { databaseUrl: undefined, logLevel: 'silent' },
      logger: createLogger('silent'),
    });
    expect(app.services.database.kind).toBe('pglite');
    expect(app.services.config.dataDir).toBe(dataDir);
    return new GraphQLTestClient(await app.start(0, '127.0.0.1'));
  };
  afterAll(async () => {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('sets up, answers /healthz, and keeps the data across a restart', async () => {
    const first = await boot();
    const setup = await first.request(`mutation { setup(input: { username: "admin", email: "admin@example.com", password: "correct-horse" }) { id } }`);
    expect(setup.errors).toBeUndefined();
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    await app!.stop();
    app = undefined;

    const second = await boot();
    const session = await second.login('admin', 'correct-horse');
    expect((await session.data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('admin');
    const again = await second.request(`mutation { setup(input: { username: "eve", email: "eve@example.com", password: "correct-horse" }) { id } }`);
    expect(again.errors![0]!.extensions!.code).toBe('ALREADY_SET_UP');
  }, 120_000); // a fresh PGlite runs initdb: 3–4 s on an idle machine, several times that under load
});
