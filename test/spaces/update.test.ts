import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  UPDATE_SPACE,
  UPDATE_TEMPLATE,
  busyboxJob,
  containerOf,
  startSpacesHarness,
  type SpacesHarness,
  type SpaceView,
} from './fixture.js';

const JOB = busyboxJob(`volumes:\n  - keep_\${{ .space.id }}:/keep\n  - old_\${{ .space.id }}:/old\n`);
const VOLUMES = `volumes:\n  keep_\${{ .space.id }}:\n  old_\${{ .space.id }}:\n`;

describe('updating a space when its template changes', () => {
  let h: SpacesHarness;
  let template: { id: string; hash: string };
  let space: SpaceView;
  beforeAll(async () => {
    h = await startSpacesHarness();
    template = await h.createTemplate({ name: 'evolving', job: JOB, volumes: VOLUMES });
    space = await h.createSpace({ templateId: template.id, name: 'follower' });
  });
  afterAll(() => h.dispose());

  it('shows no update for a stopped space, even after its template changed', async () => {
    await h.admin.client.data(UPDATE_TEMPLATE, { id: template.id, input: { withSSH: true } });
    expect((await h.space(space.id)).updateAvailable).toBe(false);
    await h.admin.client.data(UPDATE_TEMPLATE, { id: template.id, input: { withSSH: false } });
  });

  it('flips updateAvailable live on the subscription when the template of a running space is saved', async () => {
    const running = await h.startAndWait(space.id);
    expect(running.updateAvailable).toBe(false);
    await h.exec(space.id, ['sh', '-c', 'echo kept > /keep/file; echo doomed > /old/file']);

    const sub = await h.watch(space.id);
    // A description is not part of what the space runs: no badge, no event.
    await h.admin.client.data(UPDATE_TEMPLATE, { id: template.id, input: { description: 'Now with a description' } });
    const newJob = busyboxJob(`volumes:\n  - keep_\${{ .space.id }}:/keep\n  - new_\${{ .space.id }}:/new\n`);
    const newVolumes = `volumes:\n  keep_\${{ .space.id }}:\n  new_\${{ .space.id }}:\n`;
    const saved = await h.admin.client.data<{ updateTemplate: { hash: string } }>(UPDATE_TEMPLATE, {
      id: template.id,
      input: { job: newJob, volumes: newVolumes },
    });
    expect(saved.updateTemplate.hash).not.toBe(template.hash);
    const changed = await sub.next();
    expect(changed.spaceChanged.kind).toBe('TEMPLATE_CHANGED');
    expect(changed.spaceChanged.space).toMatchObject({ status: 'RUNNING', updateAvailable: true });
    sub.close();
    expect((await h.space(space.id)).updateAvailable).toBe(true);
    // The running container is left as it was until the user stops and starts it.
    expect(await h.exec(space.id, ['cat', '/old/file'])).toBe('doomed\n');
  });

  it('applies the new template on stop + start: added volumes are created, removed ones deleted with their data', async () => {
    const stopped = await h.stopAndWait(space.id);
    expect(stopped.updateAvailable).toBe(false);
    expect((await h.runtime.listVolumes({ 'knot.space': space.id })).sort()).toEqual([`keep_${space.id}`, `old_${space.id}`]);

    const running = await h.startAndWait(space.id);
    expect(running.updateAvailable).toBe(false);
    expect((await h.runtime.listVolumes({ 'knot.space': space.id })).sort()).toEqual([`keep_${space.id}`, `new_${space.id}`]);
    expect(await h.exec(space.id, ['cat', '/keep/file'])).toBe('kept\n');
    const old = await h.runtime.execCollect(containerOf(space.id), ['ls', '/old']);
    expect(old.exitCode).not.toBe(0);
    await h.exec(space.id, ['sh', '-c', 'echo fresh > /new/file']);
  });

  it('lets a running space be renamed and given other additional names, effective at once', async () => {
    const before = await h.runtime.inspectContainer(containerOf(space.id));
    const sub = await h.watch(space.id);
    const renamed = await h.admin.client.data<{ updateSpace: SpaceView }>(UPDATE_SPACE, {
      id: space.id,
      input: { name: 'renamed', altNames: ['api', 'docs'] },
    });
    expect(renamed.updateSpace).toMatchObject({ name: 'renamed', altNames: ['api', 'docs'], status: 'RUNNING' });
    const event = await sub.next();
    expect(event.spaceChanged.kind).toBe('RENAMED');
    expect(event.spaceChanged.space).toMatchObject({ name: 'renamed', altNames: ['api', 'docs'] });
    sub.close();

    // Still the same container, still running: an edit never restarts the space.
    const after = await h.runtime.inspectContainer(containerOf(space.id));
    expect(after!.id).toBe(before!.id);
    expect(after!.running).toBe(true);
    // The old name is free again at once, the new ones are taken at once.
    const other = await h.createSpace({ templateId: template.id, name: 'follower' });
    expect(other.name).toBe('follower');
    const taken = await h.admin.client.request(UPDATE_SPACE, { id: other.id, input: { altNames: ['DOCS'] } });
    expect(taken.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
  });

  it('refuses bad names on edit by the same rules, changing nothing', async () => {
    for (const [input, code] of [
      [{ name: 'bad--name' }, 'BAD_USER_INPUT'],
      [{ name: '1st' }, 'BAD_USER_INPUT'],
      [{ altNames: ['ok', 'no_underscores'] }, 'BAD_USER_INPUT'],
      [{ name: 'FOLLOWER' }, 'NAME_TAKEN'],
      [{ altNames: ['Follower'] }, 'NAME_TAKEN'],
    ] as const) {
      const res = await h.admin.client.request(UPDATE_SPACE, { id: space.id, input });
      expect(res.errors?.[0]?.extensions?.code, JSON.stringify(input)).toBe(code);
    }
    expect(await h.space(space.id)).toMatchObject({ name: 'renamed', altNames: ['api', 'docs'] });
  });
});
