import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../server/src/runtime/index.js';
import { dockerCli, useRuntime } from './helpers.js';

describe('containers', { timeout: 30_000 }, () => {
  const { runtime, labels, spec } = useRuntime();

  it('runs a container that inspect shows running with its env and labels', async () => {
    const s = spec({ env: { GREETING: 'hello world', EMPTY: '' }, labels: { 'knot.space': 'abc' } });
    const id = await runtime.runContainer(s);

    const info = await runtime.inspectContainer(id);
    expect(info).toMatchObject({ id, name: s.name, running: true, state: 'running', exitCode: null });
    expect(info!.env).toMatchObject({ GREETING: 'hello world', EMPTY: '' });
    expect(info!.labels).toMatchObject({ ...labels, 'knot.space': 'abc' });

    const listed = await runtime.listContainers({ ...labels, 'knot.space': 'abc' });
    expect(listed.map((c) => c.id)).toEqual([id]);
    expect(await runtime.inspectContainer(s.name)).toMatchObject({ id });
  });

  it('stops and removes quickly (init forwards SIGTERM), and again without complaint', async () => {
    const s = spec();
    const id = await runtime.runContainer(s);

    const started = Date.now();
    await runtime.stopAndRemoveContainer(id, { timeoutSeconds: 10 });
    // Without Init, `sleep` as PID 1 ignores SIGTERM and this takes the full 10 s.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await runtime.inspectContainer(id)).toBeNull();

    await runtime.stopAndRemoveContainer(id, { timeoutSeconds: 10 });
    await runtime.stopAndRemoveContainer(s.name);
  });

  it('stops a container that already exited', async () => {
    const id = await runtime.runContainer(spec({ cmd: ['true'] }));
    await expect.poll(async () => (await runtime.inspectContainer(id))?.running).toBe(false);
    expect(await runtime.inspectContainer(id)).toMatchObject({ state: 'exited', exitCode: 0 });
    await runtime.stopAndRemoveContainer(id);
    expect(await runtime.inspectContainer(id)).toBeNull();
  });

  it('lists stopped containers too', async () => {
    const id = await runtime.runContainer(spec({ cmd: ['sh', '-c', 'exit 3'] }));
    await expect.poll(async () => (await runtime.inspectContainer(id))?.exitCode).toBe(3);
    const listed = await runtime.listContainers(labels);
    expect(listed.find((c) => c.id === id)).toMatchObject({ running: false, state: 'exited' });
  });

  it('refuses a missing command at start and leaves no container behind', async () => {
    const s = spec({ cmd: ['/nope'] });
    const err = await runtime.runContainer(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as RuntimeError).reason).toBe('start-failed');
    expect((err as Error).message).toBe(`container ${s.name} could not be started: /nope: no such file or directory`);
    expect(await runtime.listContainers(labels)).toEqual([]);
  });

  it('refuses a command missing from PATH', async () => {
    const err = await runtime.runContainer(spec({ cmd: ['nope-not-here', 'x'] })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/nope-not-here: command not found in PATH \(\/usr\/local\/bin:/);
    expect(await runtime.listContainers(labels)).toEqual([]);
  });

  it('removes the container when the engine refuses to start it', async () => {
    // A device that does not exist passes create and fails at start.
    const s = spec({ devices: [{ hostPath: '/dev/knot-test-nope' }] });
    const err = await runtime.runContainer(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toMatch(new RegExp(`^container ${s.name} could not be started: .*knot-test-nope`));
    expect(await runtime.listContainers(labels)).toEqual([]);
  });

  it('reports a missing image as a create failure', async () => {
    const err = await runtime.runContainer(spec({ image: 'knot-test/not-there:latest' })).catch((e: unknown) => e);
    expect((err as RuntimeError).reason).toBe('create-failed');
    expect((err as Error).message).toMatch(/could not be created: No such image: knot-test\/not-there:latest/);
  });

  it('reports a taken name', async () => {
    const s = spec();
    await runtime.runContainer(s);
    const err = await runtime.runContainer(s).catch((e: unknown) => e);
    expect((err as RuntimeError).reason).toBe('name-conflict');
  });

  it('applies ports, hostname, extra hosts and resource limits', async () => {
    const id = await runtime.runContainer(
      spec({
        hostname: 'knot-box',
        ports: [{ containerPort: 8080, hostIp: '127.0.0.1' }],
        extraHosts: ['knot.internal:10.1.2.3'],
        memoryBytes: 64 * 1024 * 1024,
        nanoCpus: 500_000_000,
        capDrop: ['NET_RAW'],
      }),
    );
    const host = await runtime.execCollect(id, ['hostname']);
    expect(host.stdout.trim()).toBe('knot-box');
    const hosts = await runtime.execCollect(id, ['cat', '/etc/hosts']);
    expect(hosts.stdout).toMatch(/10\.1\.2\.3\s+knot\.internal/);
    expect(await dockerCli('port', id, '8080/tcp')).toMatch(/^127\.0\.0\.1:\d+$/);
    const limits = await dockerCli('inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CapDrop}} {{.HostConfig.Init}}', id);
    expect(limits).toBe(`${64 * 1024 * 1024} 500000000 [NET_RAW] true`);
  });

  it('returns null for an unknown container', async () => {
    expect(await runtime.inspectContainer('knot-test-does-not-exist')).toBeNull();
  });

  it('shows why a container died in its logs', async () => {
    const id = await runtime.runContainer(spec({ cmd: ['sh', '-c', 'echo out; echo boom >&2; exit 1'] }));
    await expect.poll(async () => (await runtime.inspectContainer(id))?.exitCode).toBe(1);
    expect(await runtime.containerLogs(id)).toContain('boom');
  });
});
