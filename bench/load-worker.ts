/**
 * A bounded HTTP load loop, run in its own process (see load.ts) so it never shares the measured
 * server's event loop: N keep-alive connections, each sending the same POST back to back for a
 * warm-up and then for a fixed duration. Prints one JSON line with the figures.
 */
import http from 'node:http';

export interface LoadOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Every answer must contain this, or it counts as an error (a fast wrong answer is no answer). */
  expect: string;
}

export interface LoadResult {
  /** Requests answered during the warm-up, not in the figures but in the server's CPU time. */
  warmupRequests: number;
  requests: number;
  errors: number;
  durationMs: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function post(agent: http.Agent, url: URL, options: LoadOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { ...options.headers, 'content-length': Buffer.byteLength(options.body) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function phase(options: LoadOptions, ms: number, record: boolean) {
  const url = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  let errors = 0;
  let count = 0;
  const started = performance.now();
  const deadline = started + ms;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await post(agent, url, options);
        if (res.status !== 200 || !res.body.includes(options.expect)) errors++;
      } catch {
        errors++;
      }
      count++;
      if (record) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  const elapsed = performance.now() - started;
  agent.destroy();
  return { latencies, errors, elapsed, count };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const warmup = await phase(options, options.warmupMs, false);
  const { latencies, errors, elapsed } = await phase(options, options.durationMs, true);
  latencies.sort((a, b) => a - b);
  return {
    warmupRequests: warmup.count,
    requests: latencies.length,
    errors,
    durationMs: elapsed,
    requestsPerSecond: ((latencies.length - errors) * 1000) / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

// Run as a child process: options as the first argument, result as the last stdout line.
if (process.argv[2]) {
  const result = await runLoad(JSON.parse(process.argv[2]) as LoadOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
