import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentBundle, agentJob } from '../agent/fixture.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import type { Subscription } from '../helpers/graphql.js';
import { waitFor } from '../helpers/wait.js';
import { CREATE_TEMPLATE, RESTART_SPACE, startSpacesHarness, type SpacesHarness } from './fixture.js';

const run = promisify(execFile);

interface HealthView {
  id: string;
  status: string;
  health: string;
  healthReason: string | null;
}
interface HealthChange {
  spaceChanged: { kind: string; space: HealthView | null };
}
const WATCH_HEALTH = `subscription($id: ID!) { spaceChanged(id: $id) { kind space { id status health healthReason } } }`;
const GET_HEALTH = `query($id: ID!) { space(id: $id) { id status health healthReason } }`;
const AUDIT = `query { auditLog(first: 100) { entries { actorName action objectId details } } }`;

/** The agent test job (httpd on 8080, the agent fetched from the server) with a health check appended. */
const withCheck = (check: string) => `${agentJob()}\nhealthcheck:\n${check.replace(/^/gm, '  ')}`;

/**
 * Health checks run by the agent in real containers, with the server's restart policy shortened to
 * a 1 s backoff and a cap of 2 restarts.
 */
describe('space health', () => {
  let h: SpacesHarness;
  const subs: Subscription<HealthChange>[] = [];
  const images: string[] = [];

  const watch = async (spaceId: string) => {
    const sub = h.admin.client.subscribe<HealthChange>(WATCH_HEALTH, { id: spaceId });
    subs.push(sub);
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    return sub;
  };
  const spaceFrom = async (name: string, job: string, autoRestart = false) => {
    const template = await h.createTemplate({ name, job, autoRestart });
    return (await h.createSpace({ templateId: template.id, name })).id;
  };
  const healthEvent = (sub: Subscription<HealthChange>, match: (s: HealthView) => boolean, timeout?: number) =>
    sub.next((e) => !!e.spaceChanged.space && match(e.spaceChanged.space), timeout).then((e) => e.spaceChanged.space!);
  const read = async (spaceId: string) => (await h.admin.client.data<{ space: HealthView }>(GET_HEALTH, { id: spaceId })).space;
  const restartsAudited = async (spaceId: string) =>
    (await h.admin.client.data<{ auditLog: { entries: { actorName: string; action: string; objectId: string; details: Record<string, unknown> }[] } }>(AUDIT)).auditLog.entries.filter(
      (e) => e.objectId === spaceId && e.action === 'restartSpace' && e.actorName === 'health-check',
    );

  beforeAll(async () => {
    await agentBundle();
    h = await startSpacesHarness({ host: '0.0.0.0', config: { healthRestartBackoffSeconds: 1, healthRestartLimit: 2 } });
  });
  afterAll(async () => {
    for (const sub of subs) sub.close();
    await h?.dispose();
    for (const image of images) await run('docker', ['rmi', '-f', image]).catch(() => {});
  });

  it('a failing HTTP check makes the space UNHEALTHY live, restarts it with backoff, then gives up and says so', async () => {
    const spaceId = await spaceFrom('failing-web', withCheck('http: { port: 8080, path: /healthz }\ninterval: 1s\ntimeout: 1s\nretries: 2'), true);
    const sub = await watch(spaceId);
    await h.startAndWait(spaceId);

    const first = await healthEvent(sub, (s) => s.health === 'UNHEALTHY');
    expect(first.status).toBe('RUNNING');
    expect(first.healthReason).toMatch(/GET http:\/\/127\.0\.0\.1:8080\/healthz answered 404.*Restarting it now \(automatic restart 1 of 2\)/);

    // Restart 1 at once, restart 2 after the 1 s backoff.
    await healthEvent(sub, (s) => s.status === 'STOPPING');
    await healthEvent(sub, (s) => s.status === 'RUNNING');
    const second = await healthEvent(sub, (s) => s.health === 'UNHEALTHY');
    const unhealthyAgainAt = Date.now();
    expect(second.healthReason).toMatch(/answered 404.*Restarting it in 1 s \(automatic restart 2 of 2\)/);
    await healthEvent(sub, (s) => s.status === 'STOPPING');
    expect(Date.now() - unhealthyAgainAt).toBeGreaterThanOrEqual(900);
    await healthEvent(sub, (s) => s.status === 'RUNNING');

    const capped = await healthEvent(sub, (s) => s.health === 'UNHEALTHY');
    expect(capped.healthReason).toMatch(/answered 404 Not Found\. Knot restarted it 2 times and will not again; restart it yourself/);
    expect(await read(spaceId)).toMatchObject({ status: 'RUNNING', health: 'UNHEALTHY' });

    const audited = await restartsAudited(spaceId);
    expect(audited).toHaveLength(2);
    expect(audited.map((e) => e.details.attempt).sort()).toEqual([1, 2]);
    expect(String(audited[0]!.details.reason)).toMatch(/^health check failing: GET .* answered 404/);

    // Capped: the next restart would come 2 s later; none does while the check keeps failing.
    await expect(healthEvent(sub, (s) => s.status !== 'RUNNING', 4_000)).rejects.toThrow(/no matching event/);
    expect(await restartsAudited(spaceId)).toHaveLength(2);

    // A person's restart gives it a fresh count (the cap is per run of trouble, not forever).
    await h.admin.client.data(RESTART_SPACE, { id: spaceId });
    await healthEvent(sub, (s) => s.status === 'RUNNING');
    const fresh = await healthEvent(sub, (s) => s.health === 'UNHEALTHY');
    expect(fresh.healthReason).toMatch(/automatic restart 1 of 2/);
  });

  it('a passing check makes the space HEALTHY, and a service that stops answering turns it UNHEALTHY with the reason (no restart without autoRestart)', async () => {
    const spaceId = await spaceFrom('healthy-web', withCheck('http: { port: 8080, path: / }\ninterval: 1s\nretries: 1'));
    const sub = await watch(spaceId);
    await h.startAndWait(spaceId);
    const healthy = await healthEvent(sub, (s) => s.health === 'HEALTHY');
    expect(healthy).toMatchObject({ status: 'RUNNING', healthReason: null });

    await h.exec(spaceId, ['sh', '-c', 'kill $(cat /tmp/web.pid)']);
    const down = await healthEvent(sub, (s) => s.health === 'UNHEALTHY');
    expect(down.healthReason).toBe('GET http://127.0.0.1:8080/ failed: nothing listens on the port');
    expect(await restartsAudited(spaceId)).toHaveLength(0);

    await h.exec(spaceId, ['sh', '-c', 'httpd -p 127.0.0.1:8080 -h /srv/web']);
    await healthEvent(sub, (s) => s.health === 'HEALTHY');
    expect(await read(spaceId)).toMatchObject({ status: 'RUNNING', health: 'HEALTHY', healthReason: null });

    await h.stopAndWait(spaceId);
    expect(await read(spaceId)).toMatchObject({ status: 'STOPPED', health: 'UNKNOWN', healthReason: null });
  });

  it('a command check and a TCP check report what failed', async () => {
    const commandSpace = await spaceFrom('command-check', withCheck('command: [sh, -c, "test -f /tmp/ok || { echo no ok file; exit 3; }"]\ninterval: 1s\nretries: 1'));
    const tcpSpace = await spaceFrom('tcp-check', withCheck('tcp: { port: 9000 }\ninterval: 1s\nretries: 1'));
    const [commandSub, tcpSub] = await Promise.all([watch(commandSpace), watch(tcpSpace)]);
    await Promise.all([h.startAndWait(commandSpace), h.startAndWait(tcpSpace)]);

    const failing = await healthEvent(commandSub, (s) => s.health === 'UNHEALTHY');
    expect(failing.healthReason).toMatch(/exited with code 3: no ok file$/);
    await h.exec(commandSpace, ['touch', '/tmp/ok']);
    await healthEvent(commandSub, (s) => s.health === 'HEALTHY');

    await healthEvent(tcpSub, (s) => s.health === 'HEALTHY');
    await h.exec(tcpSpace, ['sh', '-c', 'kill $(cat /tmp/echo.pid)']);
    expect((await healthEvent(tcpSub, (s) => s.health === 'UNHEALTHY')).healthReason).toBe('port 9000 refused the connection');
  });

  it("uses the image's own HEALTHCHECK when the template declares none", async () => {
    const image = `knot-test/healthcheck-${randomBytes(4).toString('hex')}:latest`;
    images.push(image);
    const dockerfile = `FROM ${BUSYBOX_IMAGE}\nHEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD test -f /tmp/ok || { echo missing /tmp/ok; exit 1; }\n`;
    await new Promise<void>((resolve, reject) => {
      const child = execFile('docker', ['build', '-q', '-t', image, '-'], (err) => (err ? reject(err) : resolve()));
      child.stdin!.end(dockerfile);
    });
    const spaceId = await spaceFrom('image-check', `image: ${image}\ncommand: [sleep, '3600']`, true);
    const sub = await watch(spaceId);
    await h.startAndWait(spaceId);
    const down = await healthEvent(sub, (s) => s.health === 'UNHEALTHY');
    expect(down.healthReason).toMatch(/^the image's HEALTHCHECK exited with code 1: missing \/tmp\/ok\. Restarting it now/);
    await healthEvent(sub, (s) => s.status === 'STOPPING');
    await healthEvent(sub, (s) => s.status === 'RUNNING');
    await waitFor(() => h.exec(spaceId, ['touch', '/tmp/ok']).then(() => true), { what: 'the restarted container to take a command' });
    await healthEvent(sub, (s) => s.health === 'HEALTHY');
  });

  it('refuses checks on ports the template does not expose, and malformed checks, with the line', async () => {
    const refused = async (check: string) => {
      const res = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: `bad ${randomBytes(3).toString('hex')}`, job: withCheck(check) } });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      return { message: res.errors![0]!.message, line: res.errors![0]!.extensions!.line };
    };
    const line = withCheck('').split('\n').length;
    expect(await refused('http: { port: 5432, path: /health }')).toEqual({
      message: expect.stringMatching(/job line \d+.*"healthcheck\.http\.port" 5432 is not a port this template exposes \(it exposes 8080, 9000, 13337/),
      line,
    });
    expect((await refused('tcp: { port: 9000 }\nhttp: { port: 8080 }')).message).toMatch(/needs exactly one of .* not http and tcp/);
    expect((await refused('command: [true]\ninterval: 100ms')).message).toMatch(/"healthcheck\.interval" must be a duration from 1s/);
    expect((await refused('command: [true]\nretries: 0')).message).toMatch(/"healthcheck\.retries" must be a whole number from 1 to 100/);
    expect((await refused('command: []')).message).toMatch(/"healthcheck\.command" must not be empty/);
    expect((await refused('http: { port: 8080, path: healthz }')).message).toMatch(/"healthcheck\.http\.path" must start with "\/"/);
    expect((await refused('grpc: { port: 8080 }')).message).toMatch(/unknown key "healthcheck\.grpc"/);
  });
});
