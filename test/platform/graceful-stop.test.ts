import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { GraphQLTestClient } from '../helpers/graphql.js';
import { RawGraphQLSocket } from '../helpers/raw-socket.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';
import { TEST_DATABASE_URL } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';

const main = fileURLToPath(new URL('../../server/src/main.ts', import.meta.url));

async function connectionsTo(databaseUrl: string): Promise<number> {
  const sql = openSql(TEST_DATABASE_URL);
  try {
    const rows = await sql`select count(*)::int as n from pg_stat_activity where datname = ${new URL(databaseUrl).pathname.slice(1)}`;
    return rows[0]!.n;
  } finally {
    await sql.end();
  }
}

async function subscribedSocket(url: string, token: string) {
  const socket = new RawGraphQLSocket(url, { connectionParams: { token } });
  await socket.acknowledged();
  socket.subscribe('live', `subscription { spacesChanged { kind } }`);
  return socket;
}

describe('graceful shutdown', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('stop() closes WebSockets with 1001, stops listening and ends the database pool', async () => {
    const server: TestServer = await startTestServer();
    cleanups.push(() => server.stop());
    const { token } = await setupAdmin(server);
    const socket = await subscribedSocket(server.url, token);
    expect(await connectionsTo(server.databaseUrl)).toBeGreaterThan(0);

    await server.app.stop();
    expect((await socket.closed).code).toBe(1001);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    await waitFor(async () => (await connectionsTo(server.databaseUrl)) === 0, { what: 'the pool to close' });
  });

  it('`knot` (main.ts) shuts down on SIGTERM: sockets closed with 1001, exit code 0, JSON logs throughout', async () => {
    const database = await createTestDatabase();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-main-'));
    cleanups.push(async () => {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, DATABASE_URL: database.url, PORT: '0', KNOT_DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(async () => void (child.exitCode === null && child.kill('SIGKILL')));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const port = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`knot exited early: ${stderr}`);
        return stdout.split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l) : {})).find((l) => l.msg === 'knot is listening')?.port as number | undefined;
      },
      { timeout: 45_000, what: 'knot to listen' },
    );
    const url = `http://127.0.0.1:${port}`;
    const anonymous = new GraphQLTestClient(url);
    await anonymous.data(`mutation { setup(input: { username: "admin", email: "admin@example.com", password: "correct-horse" }) { id } }`);
    const token = await (await anonymous.login('admin', 'correct-horse')).createToken('sigterm');
    const socket = await subscribedSocket(url, token);

    child.kill('SIGTERM');
    expect((await socket.closed).code).toBe(1001);
    expect(await exited).toBe(0);
    const lines = stdout.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const messages = lines.map((l) => JSON.parse(l) as { msg: string; level: number; service: string });
    expect(messages.every((m) => m.service === 'knot' && typeof m.level === 'number')).toBe(true);
    expect(messages.map((m) => m.msg)).toEqual(expect.arrayContaining(['shutting down', 'knot stopped']));
    expect(await connectionsTo(database.url)).toBe(0);
  }, 90_000);
});
