import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentBundle } from '../agent/fixture.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import type { GraphQLTestClient, Subscription } from '../helpers/graphql.js';
import { httpGet, proxiedJob } from '../proxy/fixture.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { TerminalClient } from '../terminal/terminal-client.js';
import { AUDIT, KEEP, START, secondsBetween, watchAuto, type AutoChange } from './fixture.js';

const IDLE_SECONDS = 10;
const WARNING_SECONDS = 4;
/** Automatic stops are due within this of their time (the p99 target). */
const LATE_SECONDS = 2;
/** Activity is written this often here (5 s by default), so a countdown follows input within about a second. */
const FLUSH_MS = 1_000;

type Entry = { action: string; objectId: string; actorName: string; details: Record<string, unknown> | null };

/** Keeps doing `act` every second for `seconds`, asserting after each that the space never left RUNNING. */
async function keepBusy(sub: Subscription<AutoChange>, seconds: number, act: () => Promise<void>): Promise<void> {
  const until = Date.now() + seconds * 1000;
  const from = sub.events.length;
  while (Date.now() < until) {
    await act();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const left = sub.events.slice(from).find((e) => e.spaceChanged.space && e.spaceChanged.space.status !== 'RUNNING');
    expect(left?.spaceChanged.space, 'the space left RUNNING while it was in use').toBeUndefined();
  }
}

/** The idle timeout on a real server and Docker: stops after no traffic, not while terminal input or proxied HTTP arrives. */
describe('idle auto-stop', () => {
  let h: SpacesHarness;
  let admin: GraphQLTestClient;
  const terminals: TerminalClient[] = [];
  beforeAll(async () => {
    await agentBundle();
    // The agent in the proxied space fetches itself from the server, so it listens where containers reach it.
    h = await startSpacesHarness({ host: '0.0.0.0', config: { autoStopWarningSeconds: WARNING_SECONDS, activityFlushMs: FLUSH_MS } });
    admin = h.admin.client;
  });
  afterAll(async () => {
    for (const t of terminals) t.close();
    await h?.dispose();
  });

  const audit = async (spaceId: string) => (await admin.data<{ auditLog: { entries: Entry[] } }>(AUDIT)).auditLog.entries.filter((e) => e.objectId === spaceId);

  /** Waits for the warning then the IDLE stop, on time, and checks what it leaves behind. */
  async function expectIdleStop(sub: Subscription<AutoChange>, spaceId: string) {
    const warning = await sub.next((e) => e.spaceChanged.kind === 'AUTO_STOP_WARNING', 40_000);
    expect(warning.spaceChanged.space).toMatchObject({ status: 'RUNNING', autoStopReason: 'IDLE', autoStopWarning: true });
    const dueAt = warning.spaceChanged.space!.autoStopAt!;
    const stopping = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPING', 20_000);
    expect(secondsBetween(dueAt, Date.now())).toBeLessThan(LATE_SECONDS);
    expect(stopping.spaceChanged.space).toMatchObject({ stoppedReason: 'IDLE', autoStopAt: null, autoStopWarning: false });
    const stopped = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED', 20_000);
    expect(stopped.spaceChanged.space!.stoppedReason).toBe('IDLE');
    const stops = (await audit(spaceId)).filter((e) => e.action === 'stopSpace');
    expect(stops).toEqual([expect.objectContaining({ actorName: 'scheduler', details: expect.objectContaining({ reason: 'IDLE' }) })]);
    expect(await h.runtime.inspectContainer(`knot-space-${spaceId}`)).toBeNull();
  }

  it('stops a space with no traffic after its idle timeout, warning first, with reason IDLE', async () => {
    const template = await h.createTemplate({ name: 'idle', idleTimeoutSeconds: IDLE_SECONDS });
    const space = await h.createSpace({ templateId: template.id, name: 'untouched' });
    const sub = await watchAuto(admin, space.id);
    await admin.data(START, { id: space.id });
    const running = (await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING')).spaceChanged.space!;
    expect(running.autoStopReason).toBe('IDLE');
    expect(secondsBetween(running.lastActivityAt ?? Date.now(), running.autoStopAt!)).toBeGreaterThanOrEqual(IDLE_SECONDS - 1);
    await expectIdleStop(sub, space.id);
    sub.close();
  });

  it('does not stop while terminal input arrives for longer than the timeout, and stops once it ends', async () => {
    const template = await h.createTemplate({ name: 'typed', idleTimeoutSeconds: IDLE_SECONDS });
    const space = await h.createSpace({ templateId: template.id, name: 'typing' });
    const sub = await watchAuto(admin, space.id);
    await admin.data(START, { id: space.id });
    const running = (await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING')).spaceChanged.space!;
    const terminal = TerminalClient.open(h.server.url, space.id, { token: h.admin.token });
    terminals.push(terminal);
    await terminal.sessionId();
    await keepBusy(sub, IDLE_SECONDS + 6, () => terminal.type('true\n'));
    const now = (await admin.data<{ space: { status: string; lastActivityAt: string } }>(`query($id: ID!) { space(id: $id) { status lastActivityAt } }`, { id: space.id })).space;
    expect(now.status).toBe('RUNNING');
    expect(secondsBetween(running.lastActivityAt ?? running.autoStopAt!, now.lastActivityAt)).toBeGreaterThan(IDLE_SECONDS);
    terminal.close();
    await expectIdleStop(sub, space.id);
    sub.close();
  });

  it('does not stop while proxied HTTP requests reach one of its ports', async () => {
    const template = await h.createTemplate({ name: 'served', job: proxiedJob(), idleTimeoutSeconds: IDLE_SECONDS });
    const space = await h.createSpace({ templateId: template.id, name: 'serving' });
    const sub = await watchAuto(admin, space.id);
    await admin.data(START, { id: space.id });
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING');
    const url = `${h.server.url}/spaces/${space.id}/ports/8080/busy`;
    const get = async () => {
      const res = await httpGet(url, { authorization: `Bearer ${h.admin.token}` });
      return res.status;
    };
    // The agent and the service come up after RUNNING; Keep running gives the whole period back once they answer.
    const deadline = Date.now() + 30_000;
    while ((await get()) !== 200) {
      expect(Date.now(), 'the web port never answered').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await admin.data(KEEP, { id: space.id });
    await keepBusy(sub, IDLE_SECONDS + 6, async () => {
      expect(await get()).toBe(200);
    });
    expect((await h.space(space.id)).status).toBe('RUNNING');
    await expectIdleStop(sub, space.id);
    sub.close();
  });

  it('does not stop while someone is logged in over SSH with no traffic (the agent sees the connection), and stops once they leave', async () => {
    // A stand-in sshd: busybox nc serving port 2222 persistently; the injected agent watches it as the SSH port.
    const job = [
      `image: ${BUSYBOX_IMAGE}`,
      `command: [sh, -c, 'nc -ll -p 2222 -e cat & exec sleep 3600']`,
      'environment:',
      "  KNOT_SSH_PORT: '2222'",
      "  KNOT_REPORT_INTERVAL_MS: '500'",
    ].join('\n');
    const template = await h.createTemplate({ name: 'ssh-login', job, idleTimeoutSeconds: IDLE_SECONDS });
    const space = await h.createSpace({ templateId: template.id, name: 'logged-in' });
    const sub = await watchAuto(admin, space.id);
    await admin.data(START, { id: space.id });
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING');
    // A session that sends nothing: its input is a pipe that stays open and silent.
    // (Every stream of the background pipeline is redirected, so the exec returns at once; $! is the client.)
    await h.exec(space.id, ['sh', '-c', 'sleep 600 </dev/null 2>/dev/null | nc 127.0.0.1 2222 >/dev/null 2>&1 & echo $! > /tmp/ssh-client.pid']);
    await admin.data(KEEP, { id: space.id });
    await keepBusy(sub, IDLE_SECONDS + 6, async () => {});
    expect((await h.space(space.id)).status).toBe('RUNNING');
    await h.exec(space.id, ['sh', '-c', 'kill $(cat /tmp/ssh-client.pid)']);
    await expectIdleStop(sub, space.id);
    sub.close();
  });
});
