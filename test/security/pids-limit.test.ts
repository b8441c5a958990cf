import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxJob, CREATE_TEMPLATE, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

/** A space could start processes until the host ran out; now every space has a ceiling. */
describe('pids limit on every space', () => {
  let h: SpacesHarness;
  const pidsMax = async (spaceId: string) => (await h.exec(spaceId, ['cat', '/sys/fs/cgroup/pids/pids.max'])).trim();

  beforeAll(async () => {
    h = await startSpacesHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('caps a space at 4096 processes when its template says nothing', async () => {
    const { id: templateId } = await h.createTemplate({ name: 'plain', job: busyboxJob() });
    const { id } = await h.createSpace({ templateId, name: 'plain' });
    await h.startAndWait(id);
    expect(await pidsMax(id)).toBe('4096');
  });

  it('uses the job spec\'s pids_limit instead, and a fork bomb stops there', async () => {
    const { id: templateId } = await h.createTemplate({ name: 'small', job: busyboxJob('pids_limit: 20') });
    const { id } = await h.createSpace({ templateId, name: 'small' });
    await h.startAndWait(id);
    expect(await pidsMax(id)).toBe('20');
    const spawned = await h.runtime.execCollect(`knot-space-${id}`, ['sh', '-c', 'for i in $(seq 40); do sleep 30 & done; wait']);
    expect(spawned.exitCode).not.toBe(0);
    expect(spawned.stderr).toMatch(/fork|resource/i);
  });

  it('refuses a pids_limit that is not a whole number of at least 1, with the line', async () => {
    for (const value of ['0', '-1', 'lots', '1.5']) {
      const res = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: `bad ${value}`, job: busyboxJob(`pids_limit: ${value}`) } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'job', line: 3 });
      expect(res.errors?.[0]?.message).toContain('"pids_limit" must be a whole number of processes of at least 1');
    }
  });
});
