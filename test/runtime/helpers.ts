// Shared setup for the runtime tests: a runtime on the real engine, a label unique to the
// test file so cleanup only touches what it made, and a list of disposers drained after each test.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, afterEach } from 'vitest';
import { createDockerRuntime, type ContainerSpec, type Runtime } from '../../server/src/runtime/index.js';

export const BUSYBOX = 'knot-test/busybox:latest';
export const REGISTRY_BUSYBOX = '127.0.0.1:5000/knot-test/busybox:latest';

const run = promisify(execFile);

/** The docker CLI, for doing things "from outside" the runtime under test. */
export async function dockerCli(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

export function randomId(): string {
  return randomBytes(4).toString('hex');
}

export async function waitFor<T>(probe: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Call once per test file at top level. Everything created through `spec()`/`volumeName()`
 * carries knot.test=<run id>; afterAll sweeps whatever a failed test left behind.
 */
export function useRuntime() {
  const runId = randomId();
  const labels = { 'knot.test': runId };
  const runtime: Runtime = createDockerRuntime();
  const disposers: (() => unknown)[] = [];

  afterEach(async () => {
    const pending = disposers.splice(0).reverse();
    for (const dispose of pending) await dispose();
  });

  afterAll(async () => {
    for (const c of await runtime.listContainers(labels)) await runtime.stopAndRemoveContainer(c.id, { timeoutSeconds: 0 });
    for (const v of await runtime.listVolumes(labels)) await runtime.removeVolume(v);
    runtime.close();
  });

  return {
    runtime,
    labels,
    defer(dispose: () => unknown) {
      disposers.push(dispose);
    },
    /** A busybox `sleep 3600` container spec, labelled and removed after the test. */
    spec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
      const name = `knot-test-${runId}-${randomId()}`;
      disposers.push(() => runtime.stopAndRemoveContainer(name, { timeoutSeconds: 0 }));
      return { name, image: BUSYBOX, cmd: ['sleep', '3600'], ...overrides, labels: { ...labels, ...overrides.labels } };
    },
    volumeName(): string {
      const name = `knot-test-${runId}-${randomId()}`;
      disposers.push(() => runtime.removeVolume(name));
      return name;
    },
  };
}
