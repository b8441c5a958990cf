import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { AUDIT, KEEP, START, secondsBetween, wallClock, watchAuto, type AutoView } from './fixture.js';

const WARNING_SECONDS = 4;
/** Automatic stops are due within this of their time (the p99 target). */
const LATE_SECONDS = 2;

type Entry = { actorId: string | null; actorName: string; action: string; objectId: string; details: Record<string, unknown> | null };

/** Schedules, maximum uptime and their warnings, on a real server and Docker, with periods of seconds set through the API. */
describe('automatic stops', () => {
  let h: SpacesHarness;
  let admin: GraphQLTestClient;
  let ida: { client: GraphQLTestClient; userId: string };
  beforeAll(async () => {
    h = await startSpacesHarness({ config: { autoStopWarningSeconds: WARNING_SECONDS } });
    admin = h.admin.client;
    ida = await createUser(h.server, admin, 'ida');
  });
  afterAll(async () => {
    await ida?.client.close();
    await h?.dispose();
  });

  const audit = async (spaceId: string) => (await admin.data<{ auditLog: { entries: Entry[] } }>(AUDIT)).auditLog.entries.filter((e) => e.objectId === spaceId);

  it('refuses bad schedules and periods below 10 s with BAD_USER_INPUT, changing nothing, and accepts 10 s', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ schedule: [{ days: ['MONDAY'], from: '18:00', to: '08:00' }] }, /window 1: "from" \(18:00\) must be before "to" \(08:00\)/],
      [{ schedule: [{ days: ['MONDAY'], from: '09:00', to: '17:00' }, { days: ['FUNDAY'], from: '09:00', to: '17:00' }] }, /window 2: "FUNDAY" is not a day/],
      [{ schedule: [{ days: [], from: '09:00', to: '17:00' }] }, /needs at least one day/],
      [{ schedule: [{ days: ['MONDAY'], from: '9am', to: '17:00' }] }, /must be a time like 08:00/],
      [{ maxUptimeSeconds: 9 }, /maximum uptime must be a whole number of seconds, at least 10/],
      [{ idleTimeoutSeconds: 0 }, /idle timeout must be a whole number of seconds, at least 10/],
    ];
    for (const [input, message] of bad) {
      const res = await admin.request(`mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`, {
        input: { name: 'refused', job: 'image: knot-test/busybox:latest', ...input },
      });
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(message);
    }
    const templates = await admin.data<{ templates: { name: string }[] }>(`{ templates { name } }`);
    expect(templates.templates.map((t) => t.name)).not.toContain('refused');

    const ok = await h.createTemplate({ name: 'ten seconds', maxUptimeSeconds: 10, idleTimeoutSeconds: 10, schedule: [{ days: ['monday', 'FRIDAY'], from: '08:00', to: '24:00' }] });
    const read = await admin.data<{ template: { maxUptimeSeconds: number; idleTimeoutSeconds: number; schedule: unknown[] } }>(
      `query($id: ID!) { template(id: $id) { maxUptimeSeconds idleTimeoutSeconds schedule { days from to } } }`,
      { id: ok.id },
    );
    expect(read.template).toEqual({ maxUptimeSeconds: 10, idleTimeoutSeconds: 10, schedule: [{ days: ['MONDAY', 'FRIDAY'], from: '08:00', to: '24:00' }] });
    // Omitted keeps, null clears.
    const cleared = await admin.data<{ updateTemplate: { maxUptimeSeconds: number | null; idleTimeoutSeconds: number | null } }>(
      `mutation($id: ID!) { updateTemplate(id: $id, input: { idleTimeoutSeconds: null }) { maxUptimeSeconds idleTimeoutSeconds } }`,
      { id: ok.id },
    );
    expect(cleared.updateTemplate).toEqual({ maxUptimeSeconds: 10, idleTimeoutSeconds: null });
  });

  it("refuses a start outside the schedule (in the owner's time zone) with OUTSIDE_SCHEDULE and the next allowed time", async () => {
    await ida.client.data(`mutation { updateProfile(input: { timezone: "Asia/Kolkata" }) { id } }`);
    // A window that opened an hour ago in Kolkata and is already over: the next one is a week later at the same time.
    const opened = Date.now() - 3_600_000;
    const from = wallClock(opened, 'Asia/Kolkata');
    const to = wallClock(opened + 1_800_000, 'Asia/Kolkata');
    if (to.time < from.time) return; // the hour straddles midnight in Kolkata: the window cannot be written as one
    const template = await h.createTemplate({ name: 'closed now', schedule: [{ days: [from.day], from: from.time, to: to.time }] });
    const space = await h.createSpace({ templateId: template.id, name: 'too-late' }, ida.client);
    const res = await ida.client.request(START, { id: space.id });
    const error = res.errors?.[0];
    expect(error?.extensions?.code).toBe('OUTSIDE_SCHEDULE');
    const next = new Date(String(error?.extensions?.nextAllowedAt)).getTime();
    expect(Math.abs(next - (opened + 7 * 86_400_000))).toBeLessThan(1_000);
    expect(error?.message).toMatch(/next window opens .* \(Asia\/Kolkata\)/);
    expect((await h.space(space.id)).status).toBe('STOPPED');
  });

  it('stops a running space at the end of its schedule window, with the warning pushed live before, and audits it as the system', async () => {
    const now = Date.now();
    const start = wallClock(now - 60_000, 'UTC');
    const end = wallClock(now + 12_000, 'UTC');
    if (end.time < start.time) return; // the window would cross midnight UTC
    const template = await h.createTemplate({ name: 'window', schedule: [{ days: [start.day], from: start.time, to: end.time }] });
    const space = await h.createSpace({ templateId: template.id, name: 'windowed' });
    const sub = await watchAuto(admin, space.id);
    await admin.data(START, { id: space.id });
    const planned = (await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING')).spaceChanged.space!;
    expect(planned.autoStopReason).toBe('SCHEDULE');
    const endsAt = now + 12_000 - (now % 1000);
    expect(Math.abs(new Date(planned.autoStopAt!).getTime() - endsAt)).toBeLessThan(1_000);
    const warning = await sub.next((e) => e.spaceChanged.kind === 'AUTO_STOP_WARNING', 20_000);
    expect(warning.spaceChanged.space).toMatchObject({ autoStopWarning: true, autoStopReason: 'SCHEDULE', status: 'RUNNING' });
    const stopping = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPING', 20_000);
    expect(secondsBetween(planned.autoStopAt!, Date.now())).toBeLessThan(LATE_SECONDS);
    expect(stopping.spaceChanged.space).toMatchObject({ stoppedReason: 'SCHEDULE', autoStopAt: null, autoStopWarning: false });
    const stopped = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED', 20_000);
    expect(stopped.spaceChanged.space!.stoppedReason).toBe('SCHEDULE');
    sub.close();
    const entries = await audit(space.id);
    expect(entries.filter((e) => e.action === 'stopSpace')).toEqual([
      expect.objectContaining({ actorId: null, actorName: 'scheduler', details: expect.objectContaining({ reason: 'SCHEDULE' }) }),
    ]);
    expect(entries.filter((e) => e.action === 'warnAutoStop')).toHaveLength(1);
    expect(await h.runtime.inspectContainer(`knot-space-${space.id}`)).toBeNull();
  });

  it('stops a space at its maximum uptime; Keep running moves it one period later; the next start clears stoppedReason', async () => {
    const template = await h.createTemplate({ name: 'short-lived', maxUptimeSeconds: 12 });
    const space = await h.createSpace({ templateId: template.id, name: 'short' }, ida.client);
    const sub = await watchAuto(ida.client, space.id);
    await ida.client.data(START, { id: space.id });
    const planned = (await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING')).spaceChanged.space!;
    expect(planned.autoStopReason).toBe('MAX_UPTIME');

    await sub.next((e) => e.spaceChanged.kind === 'AUTO_STOP_WARNING', 20_000);
    // Another user cannot keep it running: it is not theirs to see.
    const other = await createUser(h.server, admin, 'jon');
    expect((await other.client.request(KEEP, { id: space.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await other.client.close();

    const kept = (await ida.client.data<{ keepSpaceRunning: AutoView }>(KEEP, { id: space.id })).keepSpaceRunning;
    const keptAt = Date.now();
    expect(kept).toMatchObject({ autoStopReason: 'MAX_UPTIME', autoStopWarning: false, status: 'RUNNING' });
    expect(Math.abs(new Date(kept.autoStopAt!).getTime() - (keptAt + 12_000))).toBeLessThan(1_500);
    const moved = await sub.next((e) => e.spaceChanged.kind === 'AUTO_STOP');
    expect(moved.spaceChanged.space!.autoStopAt).toBe(kept.autoStopAt);

    // Not stopped at the first due time: warned again, then stopped at the kept time.
    await sub.next((e) => e.spaceChanged.kind === 'AUTO_STOP_WARNING', 20_000);
    const stopping = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPING', 20_000);
    expect(secondsBetween(kept.autoStopAt!, Date.now())).toBeGreaterThan(-0.5);
    expect(secondsBetween(kept.autoStopAt!, Date.now())).toBeLessThan(LATE_SECONDS);
    expect(stopping.spaceChanged.space!.stoppedReason).toBe('MAX_UPTIME');
    await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED', 20_000);

    const refused = await ida.client.request(KEEP, { id: space.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('SPACE_NOT_RUNNING');
    expect(refused.errors?.[0]?.message).toMatch(/only a running space can be kept running/);

    await ida.client.data(START, { id: space.id });
    const again = (await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING')).spaceChanged.space!;
    expect(again.stoppedReason).toBeNull();
    sub.close();
    await h.stopAndWait(space.id, ida.client);
    const entries = await audit(space.id);
    expect(entries.filter((e) => e.action === 'keepSpaceRunning')).toHaveLength(1);
  });
});
