import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentBundle, captureLogs, WATCH_SERVICES, type ServicesChange } from '../agent/fixture.js';
import { CliProcess, runCli, spawnCli } from '../cli/run-cli.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { proxiedJob } from './fixture.js';

/** Sends `payload` on a fresh connection to 127.0.0.1:port and resolves with all it gets back once as many bytes arrived. */
function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received >= payload.length) {
        socket.destroy();
        resolve(Buffer.concat(chunks));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed after ${received} of ${payload.length} bytes`)));
    socket.write(payload);
  });
}

/** `knot forward` and the forward route behind it, to a TCP echo inside a space through its agent. */
describe('forwarding ports', () => {
  let h: SpacesHarness;
  let logs: ReturnType<typeof captureLogs>;
  let spaceId: string;
  let noSshId: string;
  let home: string;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    await agentBundle();
    logs = captureLogs();
    h = await startSpacesHarness({ host: '0.0.0.0', logger: logs.logger });
    // The "SSH server" is the TCP echo: enough to carry bytes the way ssh's ProxyCommand does.
    const job = proxiedJob({ KNOT_SSH_PORT: '9000' });
    const withSsh = (await h.createTemplate({ name: 'with ssh', job, withSSH: true })).id;
    const withoutSsh = (await h.createTemplate({ name: 'without ssh', job, withSSH: false })).id;
    spaceId = (await h.createSpace({ templateId: withSsh, name: 'tunnels' })).id;
    noSshId = (await h.createSpace({ templateId: withoutSsh, name: 'nossh' })).id;
    await Promise.all(
      [spaceId, noSshId].map(async (id) => {
        const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id });
        await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
        await h.startAndWait(id);
        await sub.next((e) => e.spaceChanged.space?.services.ports.length === 3 && (id !== spaceId || e.spaceChanged.space.services.ssh));
        sub.close();
      }),
    );
    home = mkdtempSync(path.join(tmpdir(), 'knot-forward-home-'));
    expect((await runCli(home, ['login', h.server.url, '--token', h.admin.token])).code).toBe(0);
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await h?.dispose();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('round-trips bytes through `knot forward port` to a TCP echo in the space, on several connections at once', async () => {
    const forward = new CliProcess(home, ['forward', 'port', '0', 'tunnels', '9000']);
    processes.push(forward);
    const { line } = await forward.line((l) => l.startsWith('Forwarding '));
    const match = /^Forwarding 127\.0\.0\.1:(\d+) to tunnels:9000\. Press Ctrl\+C to stop\.$/.exec(line);
    expect(match).not.toBeNull();
    const local = Number(match![1]);

    const payloads = [randomBytes(1024 * 1024), randomBytes(64 * 1024), Buffer.from('hello\n')];
    const echoed = await Promise.all(payloads.map((p) => roundTrip(local, p)));
    echoed.forEach((bytes, i) => expect(bytes.equals(payloads[i]!), `payload ${i}`).toBe(true));
    // Ctrl+C or SIGTERM stops it cleanly.
    expect(await forward.stop()).toBe(0);
  });

  it('carries stdin and stdout to the SSH port with `knot forward ssh` (as ssh -o ProxyCommand does), by name or as knot.<name>', async () => {
    for (const host of ['tunnels', 'knot.tunnels']) {
      const child = spawnCli(home, ['forward', 'ssh', host]);
      const payload = randomBytes(256 * 1024);
      const chunks: Buffer[] = [];
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const echoed = new Promise<Buffer>((resolve) =>
        child.stdout!.on('data', (c: Buffer) => {
          chunks.push(c);
          if (Buffer.concat(chunks).length >= payload.length) resolve(Buffer.concat(chunks));
        }),
      );
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      child.stdin!.write(payload);
      expect((await echoed).equals(payload), stderr).toBe(true);
      // ssh closes its end when the session is over; the tunnel then ends cleanly.
      child.stdin!.end();
      expect(await exited, stderr).toBe(0);
    }
  });

  it('refuses, before listening, a port the space does not offer or SSH it does not have', async () => {
    const hidden = await runCli(home, ['forward', 'port', '0', 'tunnels', '7000']);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toBe('knot: tunnels does not offer port 7000; its agent reports: 8080 (web, http), 8443 (secure, https), 9000 (echo, tcp).\n');
    const ssh = await runCli(home, ['forward', 'ssh', 'knot.nossh']);
    expect(ssh.code).toBe(1);
    expect(ssh.stderr).toMatch(/^knot: nossh has no SSH server answering/);
  });

  it('ends a tunnel when the token that opened it is revoked', async () => {
    const login = await h.server.anonymous.login('admin', 'correct-horse');
    const token = await login.createToken('tunnel');
    const ws = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}/spaces/${spaceId}/forward/9000`, { headers: { authorization: `Bearer ${token}` } });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(Buffer.from('ping'));
    expect(String(await new Promise((resolve) => ws.once('message', resolve)))).toBe('ping');
    const tokens = await login.data<{ apiTokens: { id: string; name: string }[] }>(`{ apiTokens { id name } }`);
    await login.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: tokens.apiTokens.find((t) => t.name === 'tunnel')!.id });
    expect(await closed).toEqual({ code: 4401, reason: 'Your login has ended.' });
  });

  it('closes the route with a reason and logs it when the port is not offered (whatever the client checked)', async () => {
    const outcome = (target: string, id = spaceId) =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        const ws = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}/spaces/${id}/forward/${target}`, {
          headers: { authorization: `Bearer ${h.admin.token}` },
        });
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.on('error', () => {});
      });
    expect(await outcome('7000')).toEqual({ code: 4404, reason: '"tunnels" does not offer port 7000.' });
    expect(logs.find('refused forward')).toMatchObject({ status: 404, spaceId });
    expect(await outcome('ssh', noSshId)).toEqual({ code: 4404, reason: '"nossh" has no SSH server answering.' });
    expect(await outcome('70000')).toEqual({ code: 4400, reason: '"70000" is not a port number.' });
  });
});
