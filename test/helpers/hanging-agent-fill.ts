/**
 * Run as a child process (`node --import tsx`) by test/spaces/garbage-collector.test.ts: prepares
 * the injected agent exactly as a space's start does (server/src/spaces/agent-injection.ts), but
 * into the test's own volume and with a copy that never ends, so the test can SIGKILL a server
 * in the middle of a volume fill. Prints "filling" once the copy has begun.
 * Arguments: <volume> <installation id> <image>.
 */
import { PassThrough } from 'node:stream';
import { createLogger } from '../../server/src/logger.js';
import { createDockerRuntime, type Runtime } from '../../server/src/runtime/index.js';
import { prepareAgent } from '../../server/src/spaces/agent-injection.js';

const [volume, instanceId, image] = process.argv.slice(2) as [string, string, string];
const runtime = createDockerRuntime();
const hanging = new Proxy(runtime, {
  get(target, key) {
    if (key === 'fillVolume') {
      const fill: Runtime['fillVolume'] = (spec) =>
        target.fillVolume({
          ...spec,
          name: volume,
          archive: () => {
            process.stdout.write('filling\n');
            return new PassThrough();
          },
        });
      return fill;
    }
    const value = Reflect.get(target, key, target) as unknown;
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
await prepareAgent({ runtime: hanging, log: createLogger('silent'), instanceId }, image);
