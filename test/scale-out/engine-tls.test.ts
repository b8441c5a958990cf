/**
 * Which engines Knot accepts at start on a swarm, and where it takes their TLS files from. The
 * handshake itself, against a real dockerd with --tlsverify, is in swarm.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/src/app.js';
import { loadConfig } from '../../server/src/config.js';
import { createRuntime } from '../../server/src/runtime-choice.js';
import { nodeEngineAccess } from '../../server/src/runtime/swarm/engine-access.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder with the three files (their contents only matter to a handshake). */
function certFolder(dir: string, tag: string): string {
  mkdirSync(dir, { recursive: true });
  for (const file of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(path.join(dir, file), `${tag} ${file}`);
  return dir;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'knot-engine-tls-'));
  dirs.push(dir);
  return dir;
}

const SWARM = { KNOT_RUNTIME: 'swarm', DOCKER_HOST: 'unix:///run/knot-test-no-such.sock' };

describe('TLS to the engines of a swarm', () => {
  it('refuses to start with a node engine on plain tcp://, before opening the database, and says how to fix it', async () => {
    // A database nobody listens on: the refusal comes first, so nothing is opened and nothing waits.
    const env = { ...SWARM, KNOT_SWARM_ENGINES: 'build-1=unix:///run/b1.sock,build-2=tcp://10.0.0.12:2375', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const refused = createApp({ env });
    await expect(refused).rejects.toThrow(/node build-2's engine tcp:\/\/10\.0\.0\.12:2375 would be reached without TLS/);
    await expect(refused).rejects.toThrow(/--tlsverify.*KNOT_SWARM_CERT_PATH/);
    await expect(refused).rejects.toThrow(/KNOT_SWARM_INSECURE=true/);
  });

  it('accepts plain tcp:// engines when KNOT_SWARM_INSECURE=true, and unix sockets always', () => {
    const env = { ...SWARM, KNOT_SWARM_ENGINES: 'build-1=unix:///run/b1.sock,build-2=tcp://10.0.0.12:2375', KNOT_SWARM_INSECURE: 'true' };
    createRuntime(loadConfig(env)).close();
    createRuntime(loadConfig({ ...SWARM, KNOT_SWARM_ENGINES: 'build-1=unix:///run/b1.sock' })).close();
  });

  it('refuses a manager on plain tcp:// unless DOCKER_TLS_VERIFY gives it TLS, naming a missing file', () => {
    const env = { ...SWARM, DOCKER_HOST: 'tcp://10.0.0.10:2376', KNOT_SWARM_ENGINES: 'build-1=unix:///run/b1.sock' };
    expect(() => createRuntime(loadConfig(env))).toThrow(/DOCKER_HOST: the swarm manager tcp:\/\/10\.0\.0\.10:2376 would be reached without TLS.*DOCKER_TLS_VERIFY=1/);
    const empty = tempDir();
    expect(() => createRuntime(loadConfig({ ...env, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: empty }))).toThrow(`${path.join(empty, 'ca.pem')} is missing`);
    const certs = certFolder(tempDir(), 'manager');
    createRuntime(loadConfig({ ...env, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs })).close();
  });

  it("takes a node's files from the folder named after its hostname, else from the top of KNOT_SWARM_CERT_PATH", () => {
    const certPath = certFolder(tempDir(), 'shared');
    certFolder(path.join(certPath, 'build-2'), 'own');
    const access = nodeEngineAccess({ 'build-1': 'tcp://10.0.0.11:2376', 'build-2': 'tcp://10.0.0.12:2376', local: 'unix:///run/l.sock' }, { certPath });
    expect(access['build-1']!.tls).toMatchObject({ dir: certPath, cert: Buffer.from('shared cert.pem') });
    expect(access['build-2']!.tls).toMatchObject({ dir: path.join(certPath, 'build-2'), key: Buffer.from('own key.pem'), ca: Buffer.from('own ca.pem') });
    expect(access.local).toEqual({ dockerHost: 'unix:///run/l.sock' });
    // A folder that misses a file is a mistake, said at start, even with the insecure switch on.
    rmSync(path.join(certPath, 'key.pem'));
    expect(() => nodeEngineAccess({ 'build-1': 'tcp://10.0.0.11:2376' }, { certPath, insecure: true })).toThrow(
      `TLS for node build-1 (tcp://10.0.0.11:2376): ${path.join(certPath, 'key.pem')} is missing`,
    );
  });
});
