import { describe, expect, it } from 'vitest';
import { useRuntime } from './helpers.js';

describe('volumes', { timeout: 30_000 }, () => {
  const { runtime, labels, spec, volumeName } = useRuntime();

  it('creates, lists by label and removes a volume', async () => {
    const name = volumeName();
    await runtime.createVolume(name, { ...labels, 'knot.space': 'v1' });
    expect(await runtime.listVolumes({ ...labels, 'knot.space': 'v1' })).toEqual([name]);
    expect(await runtime.listVolumes({ ...labels, 'knot.space': 'other' })).toEqual([]);
    expect((await runtime.inspectVolume(name))?.labels).toEqual({ ...labels, 'knot.space': 'v1' });

    await runtime.removeVolume(name);
    expect(await runtime.listVolumes(labels)).toEqual([]);
    await runtime.removeVolume(name); // already gone is fine
    expect(await runtime.inspectVolume(name)).toBeNull();
  });

  it('keeps data across containers', async () => {
    const name = volumeName();
    await runtime.createVolume(name, labels);
    const mounts = [{ type: 'volume' as const, source: name, target: '/data' }];

    const writer = await runtime.runContainer(spec({ mounts }));
    const wrote = await runtime.execCollect(writer, ['sh', '-c', 'echo "kept across containers" > /data/note.txt']);
    expect(wrote.exitCode).toBe(0);
    await runtime.stopAndRemoveContainer(writer, { timeoutSeconds: 0 });

    const reader = await runtime.runContainer(spec({ mounts: [{ ...mounts[0]!, readOnly: true }] }));
    const read = await runtime.execCollect(reader, ['cat', '/data/note.txt']);
    expect(read).toEqual({ exitCode: 0, stdout: 'kept across containers\n', stderr: '' });
    const denied = await runtime.execCollect(reader, ['sh', '-c', 'echo x > /data/other.txt']);
    expect(denied.exitCode).not.toBe(0);
    expect(denied.stderr).toMatch(/Read-only file system/);
  });

  it('refuses to remove a volume in use, with a clear message', async () => {
    const name = volumeName();
    await runtime.createVolume(name, labels);
    await runtime.runContainer(spec({ mounts: [{ type: 'volume', source: name, target: '/data' }] }));
    await expect(runtime.removeVolume(name)).rejects.toThrow(`volume ${name} is in use by a container`);
  });
});
