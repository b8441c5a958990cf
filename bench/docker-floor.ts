// The floor for the space lifecycle benchmarks: what raw dockerode takes to create+start and
// to stop(t=0)+remove a container, with no Knot code in between. It imports dockerode
// directly on purpose, so the runtime module is measured against the engine, not itself.
import { pathToFileURL } from 'node:url';
import Docker from 'dockerode';

export interface DockerFloor {
  createStartMs: number[];
  stopRemoveMs: number[];
}

/**
 * `networkId`: start the containers on that network, with the host-gateway name and the pids
 * limit a space gets, so the floor pays what Docker charges for the same container as Knot's
 * (joining a user-defined bridge costs ~70 ms more per start than the default bridge here).
 */
export async function measureDockerFloor(image: string, runs: number, options: { networkId?: string } = {}): Promise<DockerFloor> {
  const docker = new Docker();
  const createStartMs: number[] = [];
  const stopRemoveMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const container = await docker.createContainer({
      name: `knot-bench-floor-${process.pid}-${i}`,
      Image: image,
      Cmd: ['sleep', '3600'],
      Labels: { 'knot.bench': 'docker-floor' },
      // As the runtime does: without an init, `sleep` ignores SIGTERM (moot at t=0, but equal footing).
      HostConfig: {
        Init: true,
        ...(options.networkId
          ? { NetworkMode: options.networkId, ExtraHosts: ['host.docker.internal:host-gateway'], PidsLimit: 4096 }
          : {}),
      },
    });
    try {
      await container.start();
      createStartMs.push(performance.now() - t0);
      const t1 = performance.now();
      await container.stop({ t: 0 });
      await container.remove();
      stopRemoveMs.push(performance.now() - t1);
    } catch (err) {
      await container.remove({ force: true }).catch(() => {});
      throw err;
    }
  }
  return { createStartMs, stopRemoveMs };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// `tsx bench/docker-floor.ts [image] [runs]` prints the medians.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const image = process.argv[2] ?? 'knot-test/busybox:latest';
  const runs = Number(process.argv[3] ?? 10);
  const floor = await measureDockerFloor(image, runs);
  console.log(
    `docker floor (${image}, ${runs} runs): create+start median ${median(floor.createStartMs).toFixed(0)} ms, ` +
      `stop(t=0)+remove median ${median(floor.stopRemoveMs).toFixed(0)} ms`,
  );
}
