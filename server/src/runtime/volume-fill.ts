// Files into a named volume, with no host path and nothing started: the engine unpacks an archive
// only into a container, so a container that is created (from any image already present) and
// never started holds the volume while the engine copies the files in. Works the same when Knot
// runs in a container of its own or talks to a remote engine, where a bind mount of Knot's files
// would name a path the engine does not have.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Connection } from './connection.js';
import { RuntimeError, engineMessage, statusOf } from './errors.js';
import { FILL_COPY_TIMEOUT_MS, FILL_HELPER_LABEL, type VolumeFill } from './runtime.js';

const FILL_PATH = '/knot-fill';

export async function fillVolume(conn: Connection, spec: VolumeFill): Promise<'present' | 'filled'> {
  const docker = conn.docker;
  await conn
    .call('create volume', (signal) => docker.createVolume({ Name: spec.name, Labels: spec.labels ?? {}, abortSignal: signal }))
    .catch((err) => {
      // An engine that has the volume already answers 201 too; anything else is a real failure.
      throw new RuntimeError(`volume ${spec.name} could not be created: ${engineMessage(err)}`, 'create-failed', { cause: err });
    });
  let helper;
  try {
    helper = await conn.call('create container', (signal) =>
      docker.createContainer({
        name: `knot-fill-${randomBytes(6).toString('hex')}`,
        Image: spec.image,
        // Never run; a command is only required by images that have none.
        Cmd: ['/knot-fill-never-runs'],
        Entrypoint: [],
        Labels: { ...(spec.labels ?? {}), ...(spec.helperLabels ?? {}), [FILL_HELPER_LABEL]: spec.name },
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: spec.name, Target: FILL_PATH }] },
        abortSignal: signal,
      }),
    );
  } catch (err) {
    if (statusOf(err) === undefined) throw err;
    throw new RuntimeError(`volume ${spec.name} could not be filled: ${engineMessage(err)}`, 'create-failed', { cause: err });
  }
  try {
    if (await hasPath(conn, helper, `${FILL_PATH}/${spec.marker}`)) return 'present';
    try {
      const archive: Readable = spec.archive();
      await conn.call('copy into volume', (signal) => helper.putArchive(archive, { path: FILL_PATH, abortSignal: signal }), { timeoutMs: FILL_COPY_TIMEOUT_MS });
    } catch (err) {
      // Another server filling the same volume at once wins the race; its copy is as good as ours.
      if (await hasPath(conn, helper, `${FILL_PATH}/${spec.marker}`)) return 'present';
      if (statusOf(err) === undefined) throw err;
      throw new RuntimeError(`volume ${spec.name} could not be filled: ${engineMessage(err)}`, 'failed', { cause: err });
    }
    return 'filled';
  } finally {
    await conn.call('remove container', (signal) => helper.remove({ force: true, v: false, abortSignal: signal })).catch(() => {});
  }
}

async function hasPath(conn: Connection, container: { infoArchive(opts: object): Promise<unknown> }, path: string): Promise<boolean> {
  try {
    await conn.call('stat in container', (signal) => container.infoArchive({ path, abortSignal: signal }));
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}
