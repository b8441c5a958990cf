import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { agentBundle, captureLogs, WATCH_SERVICES, type ServicesChange } from '../agent/fixture.js';
import { CliProcess, runCli } from '../cli/run-cli.js';
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
  let home: string;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    await agentBundle();
    logs = captureLogs();
    h = await startSpacesHarness({ host: '0.0.0.0', logger: logs.logger });
    const templateId = (await h.createTemplate({ name: 'proxied', job: proxiedJob() })).id;
    spaceId = (await h.createSpace({ templateId, name: 'tunnels' })).id;
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: spaceId });
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    await h.startAndWait(spaceId);
    await sub.next((e) => e.spaceChanged.space?.services.ports.length === 3);
    sub.close();
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

  it('refuses, before listening, a port the space does not offer or SSH it does not have', async () => {
    const hidden = await runCli(home, ['forward', 'port', '0', 'tunnels', '7000']);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toBe('knot: tunnels does not offer port 7000; its agent reports: 8080 (web, http), 8443 (secure, https), 9000 (echo, tcp).\n');
    const ssh = await runCli(home, ['forward', 'ssh', 'knot.tunnels']);
    expect(ssh.code).toBe(1);
    expect(ssh.stderr).toMatch(/^knot: tunnels has no SSH server answering/);
  });

  it('closes the route with a reason and logs it when the port is not offered (whatever the client checked)', async () => {
    const outcome = (target: string) =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        const ws = new WebSocket(`${h.server.url.replace(/^http/, 'ws')}/spaces/${spaceId}/forward/${target}`, {
          headers: { authorization: `Bearer ${h.admin.token}` },
        });
        ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.on('error', () => {});
      });
    expect(await outcome('7000')).toEqual({ code: 4404, reason: '"tunnels" does not offer port 7000.' });
    expect(logs.find('refused forward')).toMatchObject({ status: 404, spaceId });
    expect(await outcome('ssh')).toEqual({ code: 4404, reason: '"tunnels" has no SSH server answering.' });
    expect(await outcome('70000')).toEqual({ code: 4400, reason: '"70000" is not a port number.' });
  });
});
