import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DELETE_SPACE,
  UPDATE_TEMPLATE,
  busyboxJob,
  startSpacesHarness,
  type SpacesHarness,
} from './fixture.js';

/**
 * A volume named after the space id is the space's own; any other name is shared on purpose by
 * every space that names it, and Knot never deletes it. Checked against Docker itself.
 */
describe('volumes a template shares between its spaces', () => {
  let h: SpacesHarness;
  // Unique per run: the engine is shared with other test files and other checkouts.
  const shared = `knot-test-shared-${randomBytes(4).toString('hex')}`;
  const legacy = `${shared}-legacy`;
  let templateId: string;

  beforeAll(async () => {
    h = await startSpacesHarness();
    ({ id: templateId } = await h.createTemplate({
      name: 'shared-data',
      job: busyboxJob(`volumes:\n  - own_\${{ .space.id }}:/own\n  - ${shared}:/shared\n`),
    }));
  });
  afterAll(async () => {
    await h.dispose();
    // Knot never removes a shared volume: the test that made it does.
    for (const volume of [shared, legacy]) await h.runtime.removeVolume(volume).catch(() => {});
  });

  const has = async (volume: string, labels?: Record<string, string>) => (await h.runtime.listVolumes(labels)).includes(volume);

  it('labels the own volume with its space and the shared one as shared, and both spaces see the shared data', async () => {
    const a = await h.createSpace({ templateId, name: 'alpha' });
    const b = await h.createSpace({ templateId, name: 'beta' });
    await h.startAndWait(a.id);
    await h.startAndWait(b.id);

    expect(await h.runtime.listVolumes({ 'knot.space': a.id })).toEqual([`own_${a.id}`]);
    expect(await h.runtime.listVolumes({ 'knot.space': b.id })).toEqual([`own_${b.id}`]);
    expect(await has(shared, { 'knot.managed': 'true', 'knot.shared': 'true' })).toBe(true);

    await h.exec(a.id, ['sh', '-c', 'echo from-alpha > /shared/note']);
    expect((await h.exec(b.id, ['cat', '/shared/note'])).trim()).toBe('from-alpha');
  });

  it('deletes a space with its own volumes only: the shared volume and its data stay for the other space', async () => {
    const [a, b] = await Promise.all(['alpha', 'beta'].map(async (name) => (await spaceNamed(name))!));
    await h.stopAndWait(a!.id);
    // What an older Knot did: label the shared volume with the first space that made it. A name
    // without the space id is still not the space's own, so it stays too.
    await h.runtime.createVolume(legacy, { 'knot.managed': 'true', 'knot.space': a!.id });

    expect((await h.admin.client.request(DELETE_SPACE, { id: a!.id })).errors).toBeUndefined();
    expect(await has(`own_${a!.id}`)).toBe(false);
    expect(await has(shared)).toBe(true);
    expect(await has(legacy)).toBe(true);
    expect((await h.exec(b!.id, ['cat', '/shared/note'])).trim()).toBe('from-alpha');
  });

  it('keeps the shared volume when the template drops it, while the space\'s own dropped volume goes', async () => {
    const b = (await spaceNamed('beta'))!;
    await h.admin.client.data(UPDATE_TEMPLATE, { id: templateId, input: { job: busyboxJob(`volumes:\n  - other_\${{ .space.id }}:/other\n`) } });
    await h.stopAndWait(b.id);
    await h.startAndWait(b.id);

    expect(await h.runtime.listVolumes({ 'knot.space': b.id })).toEqual([`other_${b.id}`]);
    expect(await has(shared)).toBe(true);

    await h.stopAndWait(b.id);
    expect((await h.admin.client.request(DELETE_SPACE, { id: b.id })).errors).toBeUndefined();
    expect(await h.runtime.listVolumes({ 'knot.space': b.id })).toEqual([]);
    expect(await has(shared)).toBe(true);
  });

  async function spaceNamed(name: string) {
    const data = await h.admin.client.data<{ spaces: { id: string; name: string }[] }>(`{ spaces { id name } }`);
    return data.spaces.find((s) => s.name === name);
  }
});
