import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createTestDatabase } from '../helpers/database.js';
import { createDockerRuntime } from '../../server/src/runtime/index.js';
import { busyboxJob } from '../spaces/fixture.js';
import { AUDIT, START, secondsBetween, watchAuto, type AutoView } from './fixture.js';

type Entry = { actorName: string; action: string; objectId: string };
const config = { autoStopWarningSeconds: 4 };

/** Two replicas on one database stop a due space once; a server restarted mid-countdown still stops it on time. */
describe('the scheduler across replicas and restarts', () => {
  let a: TestServer;
  let b: TestServer;
  let onA: GraphQLTestClient;
  let onB: GraphQLTestClient;
  let token: string;
  const runtime = createDockerRuntime();
  const spaceIds: string[] = [];
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    a = await startTestServer({ databaseUrl: database.url, config });
    b = await startTestServer({ databaseUrl: database.url, config });
    ({ client: onA, token } = await setupAdmin(a));
    onB = b.client(token);
  });
  afterAll(async () => {
    await onA?.close();
    await onB?.close();
    await b?.stop();
    await a?.stop().catch(() => {});
    for (const id of spaceIds) await runtime.stopAndRemoveContainer(`knot-space-${id}`, { timeoutSeconds: 0 }).catch(() => {});
    runtime.close();
    await database?.drop();
  });

  const newSpace = async (client: GraphQLTestClient, name: string) => {
    const t = await client.data<{ createTemplate: { id: string } }>(`mutation($i: TemplateInput!) { createTemplate(input: $i) { id } }`, {
      i: { name, job: busyboxJob(), maxUptimeSeconds: 10 },
    });
    const s = await client.data<{ createSpace: { id: string } }>(`mutation($t: ID!, $n: String!) { createSpace(input: { templateId: $t, name: $n }) { id } }`, { t: t.createTemplate.id, n: name });
    spaceIds.push(s.createSpace.id);
    return s.createSpace.id;
  };

  it('stops a space exactly once and audits it once when both replicas are due', async () => {
    const id = await newSpace(onA, 'shared');
    const sub = await watchAuto(onB, id);
    await onA.data(START, { id });
    const running = (await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING')).spaceChanged.space as AutoView;
    await sub.next((e) => e.spaceChanged.space?.status === 'STOPPED', 30_000);
    expect(secondsBetween(running.autoStopAt!, Date.now())).toBeLessThan(12);
    sub.close();
    const entries = (await onB.data<{ auditLog: { entries: Entry[] } }>(AUDIT)).auditLog.entries.filter((e) => e.objectId === id);
    expect(entries.filter((e) => e.action === 'stopSpace' && e.actorName === 'scheduler')).toHaveLength(1);
    expect(entries.filter((e) => e.action === 'warnAutoStop')).toHaveLength(1);
  });

  it('stops on time after the only server restarts mid-countdown', async () => {
    await b.stop();
    const id = await newSpace(onA, 'restarted');
    const started = await watchAuto(onA, id);
    await onA.data(START, { id });
    const running = (await started.next((e) => e.spaceChanged.space?.status === 'RUNNING')).spaceChanged.space as AutoView;
    started.close();
    await onA.close();
    await a.stop();
    b = await startTestServer({ databaseUrl: database.url, config });
    onB = b.client(token);
    const sub = await watchAuto(onB, id);
    const stopping = await sub.next((e) => e.spaceChanged.space?.status === 'STOPPING', 30_000);
    expect(stopping.spaceChanged.space!.stoppedReason).toBe('MAX_UPTIME');
    expect(secondsBetween(running.autoStopAt!, Date.now())).toBeLessThan(2);
    sub.close();
  });
});
