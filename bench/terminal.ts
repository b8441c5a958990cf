/**
 * The web terminal against its floor: the same shell reached through `docker exec` directly
 * (dockerode, as `docker exec -it` does). Both run `stty -icanon -echo; dd bs=1` for the round
 * trip (one keystroke to its echo, one at a time) and `head -c 20000000 /dev/zero | base64` for
 * bulk output, in a busybox space started by Knot. The clients run in a child process
 * (terminal-worker.ts), one round at a time, alternating. Knot's side reattaches to a persistent
 * session (`?session=`) before measuring, so the echo goes through the session's ring buffer.
 * The targets: keystroke echo p50 at most 1.2× the floor and p99 at most 1.5×; throughput at
 * least 1/1.2. For reference (no target), the same keystrokes through a bare WebSocket relay
 * (terminal-relay.ts): what the extra hop alone costs on this machine, whatever the relay does.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { busyboxJob, containerOf, startSpacesHarness } from '../test/spaces/fixture.js';
import { startBareRelay } from './terminal-relay.js';
import type { Figures, WorkerOptions, WorkerTarget } from './terminal-worker.js';
import { percentile } from './stats.js';
import type { BenchResult } from './types.js';

const KEYSTROKES = Number(process.env.BENCH_KEYSTROKES ?? 400);
const BULK_BYTES = Number(process.env.BENCH_BULK_BYTES ?? 20_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const worker = fileURLToPath(new URL('./terminal-worker.ts', import.meta.url));

function runWorker(target: WorkerTarget): Promise<Figures> {
  const options: WorkerOptions = { target, keystrokes: KEYSTROKES, bulkBytes: BULK_BYTES };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', worker, JSON.stringify(options)], { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`terminal worker failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Figures);
    });
  });
}


function merge(into: Figures, from: Figures) {
  into.latencies.push(...from.latencies);
  into.throughputs.push(...from.throughputs);
}

function summarize(f: Figures) {
  return { p50: percentile(f.latencies, 50), p99: percentile(f.latencies, 99), mbps: percentile(f.throughputs, 50), samples: f.latencies.length };
}

export async function benchTerminal(): Promise<BenchResult[]> {
  const h = await startSpacesHarness();
  let relay: Awaited<ReturnType<typeof startBareRelay>> | undefined;
  try {
    const templateId = (await h.createTemplate({ name: 'bench', job: busyboxJob() })).id;
    const space = await h.createSpace({ templateId, name: 'bench', shell: 'sh' });
    await h.startAndWait(space.id);
    relay = await startBareRelay(containerOf(space.id));
    const knotFigures: Figures = { latencies: [], throughputs: [] };
    const floorFigures: Figures = { latencies: [], throughputs: [] };
    const relayFigures: Figures = { latencies: [], throughputs: [] };
    // Rounds alternate, so a slow moment of the (shared) machine does not land on one side only.
    for (let i = 0; i < ROUNDS; i++) {
      merge(knotFigures, await runWorker({ kind: 'knot', url: h.server.url, spaceId: space.id, token: h.admin.token }));
      merge(floorFigures, await runWorker({ kind: 'docker', container: containerOf(space.id) }));
      merge(relayFigures, await runWorker({ kind: 'relay', url: relay.url }));
    }
    const knot = summarize(knotFigures);
    const floor = summarize(floorFigures);
    const bare = summarize(relayFigures);
    console.log(`  ${knot.samples} keystrokes each; bulk ${BULK_BYTES} bytes as base64, median of ${ROUNDS} rounds`);
    return [
      {
        name: 'terminal keystroke→echo p50 (Knot route)',
        value: knot.p50,
        unit: 'ms',
        baseline: { name: 'docker exec p50', value: floor.p50 },
        better: 'lower',
        target: 1.2,
      },
      {
        name: 'terminal keystroke→echo p99 (Knot route)',
        value: knot.p99,
        unit: 'ms',
        baseline: { name: 'docker exec p99', value: floor.p99 },
        better: 'lower',
        target: 1.5,
      },
      {
        name: 'terminal bulk output (Knot route)',
        value: knot.mbps,
        unit: 'MB/s',
        baseline: { name: 'docker exec', value: floor.mbps },
        better: 'higher',
        // 1/1.2, rounded: throughput at least 83% of the floor.
        target: 0.83,
      },
      // References without a target: the hop itself, measured with the same client code.
      { name: 'terminal keystroke→echo p50 (bare WebSocket relay, reference)', value: bare.p50, unit: 'ms', baseline: { name: 'docker exec p50', value: floor.p50 }, better: 'lower' },
      { name: 'terminal keystroke→echo p99 (bare WebSocket relay, reference)', value: bare.p99, unit: 'ms', baseline: { name: 'docker exec p99', value: floor.p99 }, better: 'lower' },
    ];
  } finally {
    await relay?.close();
    await h.dispose();
  }
}
