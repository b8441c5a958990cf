import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, TEST_REGISTRY } from '../helpers/env.js';
import type { Subscription } from '../helpers/graphql.js';
import { START_SPACE, UPDATE_TEMPLATE, busyboxJob, removeImageAfterSavePull, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

const run = promisify(execFile);
// A repository of its own in the local registry, so no other test's pull races these.
const REPOSITORY = `knot-test/template-pull-${randomBytes(4).toString('hex')}`;
const IMAGE = `${TEST_REGISTRY}/${REPOSITORY}:latest`;

interface Pull {
  templateId: string;
  image: string | null;
  present: boolean;
  pulling: boolean;
  percent: number;
  status: string;
  error: string | null;
}
const PULL_FIELDS = 'templateId image present pulling percent status error';
const WATCH = `subscription($id: ID!) { templateImagePull(templateId: $id) { ${PULL_FIELDS} } }`;

/** How many times the engine pulled the image since `since` (Docker logs one `pull` event per pull). */
async function enginePulls(since: number): Promise<number> {
  const { stdout } = await run('docker', [
    'events', '--since', String(since / 1000), '--until', String(Date.now() / 1000),
    '--filter', 'type=image', '--filter', 'event=pull', '--filter', `image=${IMAGE}`, '--format', '{{.Actor.ID}} {{.TimeNano}}',
  ]);
  return stdout.split('\n').filter((l) => l.split(' ')[0] === IMAGE).length;
}

describe("template images pulled before the first start", () => {
  let h: SpacesHarness;
  const subs: Subscription<unknown>[] = [];

  beforeAll(async () => {
    h = await startSpacesHarness();
    await run('docker', ['tag', BUSYBOX_IMAGE, IMAGE]);
    await run('docker', ['push', IMAGE]);
    await h.runtime.removeImage(IMAGE);
  });
  afterAll(async () => {
    for (const sub of subs) sub.close();
    await h?.dispose();
    await run('docker', ['rmi', IMAGE]).catch(() => {});
    const head = await fetch(`http://${TEST_REGISTRY}/v2/${REPOSITORY}/manifests/latest`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    }).catch(() => null);
    const digest = head?.headers.get('docker-content-digest');
    if (digest) await fetch(`http://${TEST_REGISTRY}/v2/${REPOSITORY}/manifests/${digest}`, { method: 'DELETE' }).catch(() => {});
  });

  async function watch(templateId: string) {
    const sub = h.admin.client.subscribe<{ templateImagePull: Pull }>(WATCH, { id: templateId });
    subs.push(sub as Subscription<unknown>);
    return { sub, first: (await sub.next()).templateImagePull };
  }

  it('saving a template pulls its image, with progress on the subscription up to 100', async () => {
    const template = await h.createTemplate({ name: 'pulled on save', job: busyboxJob() });
    const { sub, first } = await watch(template.id);
    expect(first).toMatchObject({ image: BUSYBOX_IMAGE, present: true, pulling: false });

    await h.admin.client.data(UPDATE_TEMPLATE, { id: template.id, input: { job: busyboxJob('', IMAGE) } });
    const done = (await sub.next((e) => !e.templateImagePull.pulling)).templateImagePull;
    expect(done).toMatchObject({ templateId: template.id, image: IMAGE, present: true, percent: 100, error: null });
    const steps = sub.events.map((e) => e.templateImagePull).slice(1);
    expect(steps[0]).toMatchObject({ image: IMAGE, pulling: true, present: false });
    const percents = steps.map((s) => s.percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(await h.runtime.hasImage(IMAGE)).toBe(true);
    // The page reads the same state from the template.
    const read = await h.admin.client.data<{ template: { imagePull: Pull } }>(`query($id: ID!) { template(id: $id) { imagePull { ${PULL_FIELDS} } } }`, { id: template.id });
    expect(read.template.imagePull).toMatchObject({ present: true, pulling: false, percent: 100 });
  });

  it('two starts waiting on one image pull it once', async () => {
    const template = await h.createTemplate({ name: 'shared by starts', job: busyboxJob('', IMAGE) });
    await removeImageAfterSavePull(h, template.id, IMAGE);
    const spaces = [await h.createSpace({ templateId: template.id, name: 'first' }), await h.createSpace({ templateId: template.id, name: 'second' })];
    const since = Date.now(); // after the pull the save started: only the starts' pulls count
    const watches = await Promise.all(spaces.map((s) => h.watch(s.id)));
    await Promise.all(spaces.map((s) => h.admin.client.data(START_SPACE, { id: s.id })));
    for (const sub of watches) {
      const end = await sub.next((e) => ['RUNNING', 'FAILED'].includes(e.spaceChanged.space?.status ?? ''));
      expect(end.spaceChanged.space).toMatchObject({ status: 'RUNNING', error: null });
      // Each start showed the pull's progress, the one that joined from where it was.
      expect(sub.events.some((e) => e.spaceChanged.kind === 'PULL_PROGRESS')).toBe(true);
      sub.close();
    }
    expect(await enginePulls(since)).toBe(1);
  });

  it('"Pull now" and a start at once pull it once too; a missing image says why on the template', async () => {
    const template = await h.createTemplate({ name: 'pull now', job: busyboxJob('', IMAGE) });
    await removeImageAfterSavePull(h, template.id, IMAGE);
    const space = await h.createSpace({ templateId: template.id, name: 'third' });
    const since = Date.now(); // after the pull the save started: only the starts' pulls count
    const pulling = await h.admin.client.data<{ pullTemplateImage: Pull }>(`mutation($id: ID!) { pullTemplateImage(id: $id) { ${PULL_FIELDS} } }`, { id: template.id });
    expect(pulling.pullTemplateImage).toMatchObject({ image: IMAGE, pulling: true, present: false });
    expect((await h.startAndWait(space.id)).status).toBe('RUNNING');
    expect(await enginePulls(since)).toBe(1);

    const missing = `${TEST_REGISTRY}/knot-test/not-there-${randomBytes(4).toString('hex')}:1`;
    const broken = await h.createTemplate({ name: 'missing image', job: busyboxJob('', missing) });
    const { sub, first } = await watch(broken.id);
    const failed = first.pulling || first.error === null ? (await sub.next((e) => e.templateImagePull.error !== null)).templateImagePull : first;
    expect(failed).toMatchObject({ image: missing, present: false, pulling: false, status: 'Pull failed' });
    expect(failed.error).toContain(`image ${missing} could not be pulled`);
  });
});
