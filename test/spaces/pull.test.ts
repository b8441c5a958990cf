import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE, TEST_REGISTRY } from '../helpers/env.js';
import { START_SPACE, busyboxJob, containerOf, removeImageAfterSavePull, startSpacesHarness, type SpaceChange, type SpacesHarness } from './fixture.js';

const run = promisify(execFile);
// A name of its own in the local registry (the busybox layers, pushed under it), so no other test
// pulling or removing the shared 127.0.0.1:5000/knot-test/busybox can race this one.
const REPOSITORY = `knot-test/space-pull-${randomBytes(4).toString('hex')}`;
const REMOTE_IMAGE = `${TEST_REGISTRY}/${REPOSITORY}:latest`;
const VOLUMES = `volumes:\n  data_\${{ .space.id }}:\n`;

/** Pulls from the local registry: the image is pushed there, then removed from the engine. */
describe('starting a space whose image is not on the engine', () => {
  let h: SpacesHarness;
  beforeAll(async () => {
    h = await startSpacesHarness();
    await run('docker', ['tag', BUSYBOX_IMAGE, REMOTE_IMAGE]);
    await run('docker', ['push', REMOTE_IMAGE]);
    await h.runtime.removeImage(REMOTE_IMAGE);
  });
  afterAll(async () => {
    await h.dispose(); // the space's container goes first, so the image can be removed
    await run('docker', ['rmi', REMOTE_IMAGE]).catch(() => {});
    // And out of the registry again (its blobs are busybox's, shared, so only the manifest goes).
    const manifest = `http://${TEST_REGISTRY}/v2/${REPOSITORY}/manifests/latest`;
    const head = await fetch(manifest, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
    }).catch(() => null);
    const digest = head?.headers.get('docker-content-digest');
    if (digest) await fetch(`http://${TEST_REGISTRY}/v2/${REPOSITORY}/manifests/${digest}`, { method: 'DELETE' }).catch(() => {});
  });

  it('pulls it, publishing progress up to 100 on the subscription before RUNNING', async () => {
    expect(await h.runtime.hasImage(REMOTE_IMAGE)).toBe(false);
    const template = await h.createTemplate({ name: 'from-registry', job: busyboxJob('', REMOTE_IMAGE), volumes: VOLUMES });
    await removeImageAfterSavePull(h, template.id, REMOTE_IMAGE);
    const space = await h.createSpace({ templateId: template.id, name: 'pulled' });
    const sub = await h.watch(space.id);
    await h.admin.client.data(START_SPACE, { id: space.id });
    const running = await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' || e.spaceChanged.space?.status === 'FAILED');
    sub.close();
    expect(running.spaceChanged.space!.error).toBeNull();
    expect(running.spaceChanged.space!.status).toBe('RUNNING');
    expect(running.spaceChanged.space!.pullProgress).toBeNull();

    const progress = sub.events.map((e) => e.spaceChanged).filter((c: SpaceChange) => c.kind === 'PULL_PROGRESS');
    const percents = progress.map((c) => c.space!.pullProgress!);
    expect(percents[0]).toBe(0);
    expect(percents.at(-1)).toBe(100);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    for (const change of progress) expect(change.space!.status).toBe('STARTING');
    // Every progress event came before RUNNING.
    const kinds = sub.events.map((e) => `${e.spaceChanged.kind}:${e.spaceChanged.space?.status}`);
    expect(kinds.lastIndexOf('PULL_PROGRESS:STARTING')).toBeLessThan(kinds.indexOf('STATUS:RUNNING'));

    expect(await h.runtime.hasImage(REMOTE_IMAGE)).toBe(true);
    expect((await h.runtime.inspectContainer(containerOf(space.id)))?.running).toBe(true);
  });

  it('fails with a readable error and leaves no container or volume when the image cannot be pulled', async () => {
    const image = `${TEST_REGISTRY}/nope:latest`;
    const template = await h.createTemplate({ name: 'missing-image', job: busyboxJob('', image), volumes: VOLUMES });
    const space = await h.createSpace({ templateId: template.id, name: 'unpullable' });
    const sub = await h.watch(space.id);
    await h.admin.client.data(START_SPACE, { id: space.id });
    const failed = await sub.next((e) => e.spaceChanged.space?.status === 'FAILED' || e.spaceChanged.space?.status === 'RUNNING');
    sub.close();
    const error = failed.spaceChanged.space!.error!;
    expect(failed.spaceChanged.space!.status).toBe('FAILED');
    expect(error).toContain(`image ${image} could not be pulled`);
    expect(error).toMatch(/^The space could not start: /);
    expect(failed.spaceChanged.space!.pullProgress).toBeNull();
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();
    expect(await h.runtime.listVolumes({ 'knot.space': space.id })).toEqual([]);
    expect(await h.runtime.hasImage(image)).toBe(false);
  });
});
