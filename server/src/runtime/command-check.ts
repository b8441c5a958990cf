// With Init: true the engine starts docker-init (tini), which then fails to exec a missing
// command: the start "succeeds" and the container dies with 127 a moment later. Looking the
// command up in the created container's filesystem turns that into a clear start error.
import type Docker from 'dockerode';
import { envRecord } from './container-spec.js';
import { statusOf } from './errors.js';

// What the engine puts in a container's environment when the image sets no PATH.
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The executable the container will run, and the directories it will be searched in. */
export function executableOf(
  cmd: string[] | undefined,
  env: string[],
  image: { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null; Env?: string[] | null },
): { exe: string; path: string[] } | undefined {
  const entrypoint = Array.isArray(image.Entrypoint) ? image.Entrypoint : [];
  const imageCmd = Array.isArray(image.Cmd) ? image.Cmd : [];
  const exe = entrypoint[0] ?? (cmd ?? imageCmd)[0];
  if (!exe) return undefined;
  const vars = { ...envRecord(image.Env), ...envRecord(env) };
  return { exe, path: (vars.PATH ?? DEFAULT_PATH).split(':').filter(Boolean) };
}

/**
 * Resolves to a message when the executable definitely is not there; undefined when it is,
 * or when the lookup itself fails (a heuristic must never block a start).
 */
export async function missingExecutable(
  container: Docker.Container,
  target: { exe: string; path: string[] },
  workingDir = '/',
): Promise<string | undefined> {
  const { exe, path } = target;
  const candidates = exe.includes('/')
    ? [exe.startsWith('/') ? exe : `${workingDir.replace(/\/$/, '')}/${exe}`]
    : path.map((dir) => `${dir.replace(/\/$/, '')}/${exe}`);
  const found = await Promise.all(
    candidates.map((p) =>
      container.infoArchive({ path: p }).then(
        () => true,
        (err: unknown) => statusOf(err) !== 404, // only a clear "no such file" counts as missing
      ),
    ),
  );
  if (found.some(Boolean)) return undefined;
  return exe.includes('/')
    ? `${exe}: no such file or directory`
    : `${exe}: command not found in PATH (${path.join(':')})`;
}
