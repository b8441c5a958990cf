/**
 * Run as a child process (`node --import tsx`) by test/spaces/garbage-collector.test.ts and
 * test/spaces/fill-interrupted.test.ts: prepares the injected agent exactly as a space's start
 * does (server/src/spaces/agent-injection.ts), but into the test's own volume and with a copy
 * that never ends, so the test can SIGKILL a server in the middle of a volume fill. Prints
 * "filling <replica id>" once the copy has begun.
 * Arguments: <volume> <installation id> <image> [database URL]. With a database URL, a real Knot
 * server runs on it (its replica registered and beating, its installation id used instead).
 */
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../server/src/logger.js';
import { createDockerRuntime, type Runtime } from '../../server/src/runtime/index.js';
import { prepareAgent } from '../../server/src/spaces/agent-injection.js';
import { startTestServer } from './server.js';

const [volume, instance, image, databaseUrl] = process.argv.slice(2) as [string, string, string, string | undefined];
const server = databaseUrl ? await startTestServer({ databaseUrl, keepDatabase: true, config: { replicaHeartbeatMs: 200, gcIntervalSeconds: 3600 } }) : null;
const runtime = server?.app.services.runtime ?? createDockerRuntime();
const replicas = server?.app.services.replicas ?? { id: randomUUID(), live: async () => new Set<string>() };
const instanceId = server?.app.services.instanceId ?? instance;
const hanging = new Proxy(runtime, {
  get(target, key) {
    if (key === 'fillVolume') {
      const fill: Runtime['fillVolume'] = (spec) =>
        target.fillVolume({
          ...spec,
          name: volume,
          archive: () => {
            process.stdout.write(`filling ${replicas.id}\n`);
            return new PassThrough();
          },
        });
      return fill;
    }
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
await prepareAgent({ runtime: hanging, log: createLogger('silent'), instanceId, replicas }, image);
