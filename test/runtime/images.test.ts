import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../server/src/runtime/index.js';
import { REGISTRY_BUSYBOX, dockerCli, randomId, useRuntime } from './helpers.js';

function recorder() {
  const seen: { percent: number; status: string }[] = [];
  return { seen, onProgress: (percent: number, status: string) => seen.push({ percent, status }) };
}

function expectMonotonicTo100(seen: { percent: number }[]) {
  const percents = seen.map((s) => s.percent);
  expect(percents.length).toBeGreaterThan(0);
  expect(percents.at(-1)).toBe(100);
  for (let i = 1; i < percents.length; i++) expect(percents[i]!).toBeGreaterThanOrEqual(percents[i - 1]!);
  for (const p of percents) expect(p >= 0 && p <= 100).toBe(true);
}

describe('images', { timeout: 60_000 }, () => {
  const { runtime, defer, spec } = useRuntime();

  it('pulls from the local registry with progress ending at 100', async () => {
    await runtime.removeImage(REGISTRY_BUSYBOX);
    expect(await runtime.hasImage(REGISTRY_BUSYBOX)).toBe(false);

    const { seen, onProgress } = recorder();
    await runtime.pullImage(REGISTRY_BUSYBOX, onProgress);
    expectMonotonicTo100(seen);
    expect(await runtime.hasImage(REGISTRY_BUSYBOX)).toBe(true);
  });

  it('reports intermediate progress while a new layer downloads', async () => {
    // An image with a layer the engine does not have: a container's changes, committed and pushed.
    const ref = `127.0.0.1:5000/knot-test/pull-${randomId()}:latest`;
    const id = await runtime.runContainer(spec());
    const wrote = await runtime.execCollect(id, ['dd', 'if=/dev/urandom', 'of=/payload', 'bs=1M', 'count=4']);
    expect(wrote.exitCode).toBe(0);
    await dockerCli('commit', id, ref);
    defer(() => runtime.removeImage(ref));
    await dockerCli('push', ref);
    await runtime.removeImage(ref);

    const { seen, onProgress } = recorder();
    await runtime.pullImage(ref, onProgress);
    expectMonotonicTo100(seen);
    expect(seen.some((s) => s.percent > 0 && s.percent < 100)).toBe(true);
    expect(seen.some((s) => /Downloading/.test(s.status))).toBe(true);
  });

  it('throws a clear error for an image the registry does not have', async () => {
    const ref = '127.0.0.1:5000/does-not-exist:latest';
    const err = await runtime.pullImage(ref, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).reason).toBe('image-pull-failed');
    expect((err as Error).message).toMatch(/^image 127\.0\.0\.1:5000\/does-not-exist:latest could not be pulled: .+/);
    expect(await runtime.hasImage(ref)).toBe(false);
  });

  it('throws a clear error when the registry cannot be reached', async () => {
    const err = await runtime.pullImage('127.0.0.1:5999/knot-test/busybox:latest').catch((e: unknown) => e);
    expect((err as RuntimeError).reason).toBe('image-pull-failed');
    expect((err as Error).message).toMatch(/could not be pulled: .*(connection refused|connect)/i);
  });
});
