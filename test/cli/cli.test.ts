import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REGISTRY } from '../helpers/env.js';
import { createUser } from '../helpers/server.js';
import { busyboxJob, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { CliProcess, runCli } from './run-cli.js';

/** A port nothing listens on: bound once by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the knot CLI', () => {
  let h: SpacesHarness;
  let home: string;
  let templateId: string;
  const processes: CliProcess[] = [];
  const knot = (args: string[], input?: string) => runCli(home, args, input);
  const configFile = () => path.join(home, '.config', 'knot', 'config.json');

  beforeAll(async () => {
    h = await startSpacesHarness();
    home = mkdtempSync(path.join(tmpdir(), 'knot-cli-home-'));
    templateId = (await h.createTemplate({ name: 'busybox', withSSH: true })).id;
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await h?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('says how to log in, and exits 3, before anyone has', async () => {
    const res = await knot(['spaces', 'list']);
    expect(res.code).toBe(3);
    expect(res.stderr).toBe('knot: Not logged in. Run `knot login <server>` first.\n');
  });

  it('refuses a token the server does not accept and saves nothing', async () => {
    const res = await knot(['login', h.server.url, '--token', 'knot_wrong']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/did not accept that token; nothing was saved/);
    expect(() => statSync(configFile())).toThrow();
  });

  it('logs in with a username and password by creating an API token, readable by the owner only', async () => {
    const res = await knot(['login', h.server.url], 'admin\ncorrect-horse\n');
    expect(res.stderr).toMatch(/Username: Password: /);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^Logged in to http:\/\/127\.0\.0\.1:\d+ as admin/);
    const saved = JSON.parse(readFileSync(configFile(), 'utf8'));
    expect(saved.server).toBe(h.server.url);
    expect(statSync(configFile()).mode & 0o777).toBe(0o600);
    const tokens = await h.admin.client.data<{ apiTokens: { name: string }[] }>(`{ apiTokens { name } }`);
    expect(tokens.apiTokens.map((t) => t.name)).toContainEqual(expect.stringMatching(/^knot CLI on /));
    // The stored token works on its own.
    expect((await h.server.client(saved.token).data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('admin');
  });

  it('refuses a wrong password with the server\'s reason', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'knot-cli-home-'));
    const res = await runCli(other, ['login', h.server.url], 'admin\nwrong-horse\n');
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/username or password is wrong/);
    rmSync(other, { recursive: true, force: true });
  });

  it('logs in with a given token', async () => {
    const res = await knot(['login', h.server.url, '--token', h.admin.token]);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(readFileSync(configFile(), 'utf8'))).toEqual({ server: h.server.url, token: h.admin.token });
  });

  it('lists spaces for people and as JSON for scripts', async () => {
    await h.createSpace({ templateId, name: 'alpha' });
    await h.createSpace({ templateId, name: 'beta', altNames: ['b2'] });
    const res = await knot(['spaces', 'list']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+TEMPLATE\s+PORTS\s+NOTE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['alpha', 'STOPPED', 'busybox'],
      ['beta', 'STOPPED', 'busybox'],
    ]);
    const json = JSON.parse((await knot(['spaces', 'list', '--json'])).stdout);
    expect(json.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['alpha', 'STOPPED'],
      ['beta', 'STOPPED'],
    ]);
  });

  it('starts a space and waits until it is RUNNING, then stops it and waits until it is STOPPED', async () => {
    const started = await knot(['spaces', 'start', 'alpha', '--wait']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout.trim().split('\n').at(-1)).toBe('alpha: RUNNING');
    expect((await h.space((await h.admin.client.data<{ spaces: { id: string; name: string }[] }>(`{ spaces { id name } }`)).spaces.find((s) => s.name === 'alpha')!.id)).status).toBe('RUNNING');
    const stopped = await knot(['spaces', 'stop', 'ALPHA', '--wait']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout.trim().split('\n')).toEqual(['alpha: STOPPING', 'alpha: STOPPED']);
  });

  it('finds a space by an additional name, and refuses an action the space is not ready for', async () => {
    const res = await knot(['spaces', 'stop', 'b2']);
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('knot: "beta" is stopped; only a running space can be stopped.\n');
    const missing = await knot(['spaces', 'start', 'gamma']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('knot: You have no space named "gamma" (your spaces: alpha, beta).\n');
  });

  it('finds a space shared with you as <owner>/<name>; a bare name that is also yours means yours', async () => {
    const carol = await createUser(h.server, h.admin.client, 'carol');
    const theirs = await h.createSpace({ templateId, name: 'alpha' }, carol.client);
    await carol.client.data(`mutation($id: ID!, $u: ID!) { shareSpace(id: $id, userId: $u) { id } }`, { id: theirs.id, u: h.admin.userId });
    const started = await knot(['spaces', 'start', 'carol/alpha', '--wait']);
    expect(started.code, started.stderr).toBe(0);
    expect((await h.space(theirs.id)).status).toBe('RUNNING');
    // The admin's own alpha is stopped: a bare name is theirs, not carol's running one.
    const own = await knot(['spaces', 'stop', 'alpha']);
    expect(own.stderr).toBe('knot: "alpha" is stopped; only a running space can be stopped.\n');
    const stopped = await knot(['spaces', 'stop', 'Carol/ALPHA', '--wait']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect((await h.space(theirs.id)).status).toBe('STOPPED');
  });

  it('prints one JSON line per change while watching', async () => {
    const watch = new CliProcess(home, ['spaces', 'watch', 'beta', '--json']);
    processes.push(watch);
    const snapshot = await watch.line((l) => l.includes('"SNAPSHOT"'));
    expect(JSON.parse(snapshot.line)).toMatchObject({ kind: 'SNAPSHOT', name: 'beta', status: 'STOPPED', error: null });
    const restart = await knot(['spaces', 'start', 'beta']);
    expect(restart.stdout).toBe('beta: STARTING\n');
    const running = await watch.line((l) => JSON.parse(l).status === 'RUNNING', { from: snapshot.index + 1 });
    const seen = watch.lines.slice(snapshot.index + 1, running.index + 1).map((l) => JSON.parse(l));
    expect(seen.map((e) => e.status)).toContain('STARTING');
    for (const e of seen) expect(e).toMatchObject({ name: 'beta', id: expect.any(String), time: expect.any(String), kind: expect.any(String) });
    await watch.stop();
  });

  it('watches every space as plain lines when no name is given', async () => {
    const watch = new CliProcess(home, ['spaces', 'watch']);
    processes.push(watch);
    await watch.line((l) => / alpha {2}STOPPED$/.test(l));
    const from = (await watch.line((l) => / beta {2}RUNNING$/.test(l))).index + 1;
    await h.createSpace({ templateId, name: 'delta' });
    await watch.line((l) => / delta {2}STOPPED$/.test(l), { from });
    await watch.stop();
  });

  it('exits 1 with the error when a start ends FAILED', async () => {
    const broken = await h.createTemplate({ name: 'missing-image', job: busyboxJob('', `${TEST_REGISTRY}/knot-test/does-not-exist:latest`) });
    await h.createSpace({ templateId: broken.id, name: 'broken' });
    const res = await knot(['spaces', 'start', 'broken', '--wait']);
    expect(res.code).toBe(1);
    expect(res.stdout.trim().split('\n').at(-1)).toBe('broken: FAILED');
    expect(res.stderr).toMatch(/^knot: broken failed: The space could not start: .*does-not-exist/);
  });

  it('writes a managed ~/.ssh/config block for spaces with SSH and keeps the rest of the file', async () => {
    mkdirSync(path.join(home, '.ssh'), { recursive: true });
    writeFileSync(path.join(home, '.ssh', 'config'), 'Host work\n  HostName work.example.com\n');
    const first = await knot(['ssh-config', 'update']);
    expect(first.code, first.stderr).toBe(0);
    const noSsh = await h.createTemplate({ name: 'no-ssh' });
    await h.createSpace({ templateId: noSsh.id, name: 'plain' });
    const second = await knot(['ssh-config', 'update']);
    expect(second.code).toBe(0);
    const config = readFileSync(path.join(home, '.ssh', 'config'), 'utf8');
    expect(config.startsWith('Host work\n  HostName work.example.com\n\n# BEGIN knot')).toBe(true);
    expect(config.match(/# BEGIN knot/g)).toHaveLength(1);
    expect([...config.matchAll(/^Host (knot\.\S+)$/gm)].map((m) => m[1])).toEqual(['knot.alpha', 'knot.beta', 'knot.delta']);
    expect(config).toMatch(/^ {2}ProxyCommand .*knot\.js" forward ssh alpha$|^ {2}ProxyCommand .*knot\.js forward ssh alpha$/m);
    expect(statSync(path.join(home, '.ssh', 'config')).mode & 0o777).toBe(0o600);
  });

  it('exits 2 on wrong arguments, 3 on a revoked token and 4 when the server is unreachable', async () => {
    expect((await knot(['spaces', 'frobnicate'])).code).toBe(2);
    expect((await knot(['forward', 'port', 'eighty', 'alpha', '80'])).code).toBe(2);
    const bob = await createUser(h.server, h.admin.client, 'bob');
    await knot(['login', h.server.url, '--token', bob.token]);
    const tokens = await bob.client.data<{ apiTokens: { id: string }[] }>(`{ apiTokens { id } }`);
    await bob.client.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: tokens.apiTokens[0]!.id });
    const revoked = await knot(['spaces', 'list']);
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toMatch(/knot login/);
    const closed = await closedPort();
    writeFileSync(configFile(), JSON.stringify({ server: `http://127.0.0.1:${closed}`, token: h.admin.token }));
    const unreachable = await knot(['spaces', 'list']);
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toBe(`knot: Could not reach http://127.0.0.1:${closed}: ECONNREFUSED.\n`);
  });
});
