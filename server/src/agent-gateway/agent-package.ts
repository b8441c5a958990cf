/**
 * The agent as Knot ships it into every Docker space: the agent bundle, the Node.js that runs this
 * server, and the shared libraries that Node needs, down to the dynamic loader. The space starts
 * it through that loader with only these libraries on its path, so it needs nothing from the
 * image: not Node, not even a C library of the same kind (it runs in busybox-only and musl images).
 *
 * Made from files already on this machine (the npm-installed or Debian-packaged Node and its
 * libraries), never downloaded. Content-addressed: the same Node and bundle give the same id.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { readAgentBundle } from './bundle.js';

/** Written last into the package: present means the copy is complete. */
export const PACKAGE_MARKER = '.complete';

export interface AgentPackage {
  /** Short content hash of the Node, its libraries and the bundle. */
  id: string;
  /** The command that starts the agent, given the folder where the package is mounted. */
  command(mountPath: string): string[];
  /** The package as a tar stream (node, lib/…, knot-agent.mjs, then the marker). */
  archive(): Readable;
}

export class AgentPackageUnavailable extends Error {}

interface PackedFile {
  name: string;
  source: string;
  mode: number;
}

/** Node's shared libraries, as `ldd` lists them: `[libraries, loader]`; no loader for a static Node. */
function sharedLibraries(node: string): { libraries: string[]; loader: string | null } {
  const ldd = spawnSync('ldd', [node], { encoding: 'utf8' });
  const text = `${ldd.stdout ?? ''}${ldd.stderr ?? ''}`;
  if (/not a dynamic executable|statically linked/.test(text)) return { libraries: [], loader: null };
  if (ldd.error || ldd.status !== 0) {
    throw new AgentPackageUnavailable(`Knot could not list the libraries its Node.js needs (ldd ${ldd.error ? 'is missing' : `failed: ${text.trim()}`})`);
  }
  const libraries: string[] = [];
  let loader: string | null = null;
  for (const line of text.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const linked = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    if (linked) libraries.push(linked[1]!);
    else if (bare) loader = bare[1]!;
    else if (/=>\s+not found/.test(line)) throw new AgentPackageUnavailable(`Node.js on this server misses a library: ${line.trim()}`);
  }
  if (!loader) throw new AgentPackageUnavailable('Knot could not find the dynamic loader of its Node.js');
  // musl's loader is its libc too: ldd lists it under both names.
  return { libraries: libraries.filter((l) => realpathSync(l) !== realpathSync(loader!)), loader };
}

/** Reads what the package holds (not the bytes of Node: their sizes and this version identify them). */
export async function loadAgentPackage(node = process.execPath): Promise<AgentPackage> {
  if (process.platform !== 'linux') throw new AgentPackageUnavailable(`Knot runs on ${process.platform}; the agent it ships needs a Linux server of the same architecture as the spaces`);
  const bundle = await readAgentBundle();
  const { libraries, loader } = sharedLibraries(node);
  const files: PackedFile[] = [
    { name: 'node', source: node, mode: 0o755 },
    ...libraries.map((l) => ({ name: `lib/${path.basename(l)}`, source: l, mode: 0o755 })),
    ...(loader ? [{ name: `lib/${path.basename(loader)}`, source: loader, mode: 0o755 }] : []),
  ];
  const hash = createHash('sha256').update(`${process.version} ${process.arch}\n`).update(bundle);
  for (const file of files) hash.update(`${file.name} ${statSync(file.source).size}\n`);
  const id = hash.digest('hex').slice(0, 16);

  return {
    id,
    command: (mount) =>
      loader
        ? [`${mount}/lib/${path.basename(loader)}`, '--library-path', `${mount}/lib`, `${mount}/node`, `${mount}/knot-agent.mjs`]
        : [`${mount}/node`, `${mount}/knot-agent.mjs`],
    archive: () => packArchive(files, bundle),
  };
}

function packArchive(files: PackedFile[], bundle: Buffer): Readable {
  const tar = pack();
  const mtime = new Date();
  void (async () => {
    try {
      tar.entry({ name: 'lib', type: 'directory', mode: 0o755, mtime });
      for (const file of files) {
        const size = statSync(file.source).size;
        await new Promise<void>((resolve, reject) => {
          const entry = tar.entry({ name: file.name, size, mode: file.mode, mtime }, (err) => (err ? reject(err) : resolve()));
          createReadStream(file.source).on('error', reject).pipe(entry);
        });
      }
      tar.entry({ name: 'knot-agent.mjs', mode: 0o644, mtime }, bundle);
      tar.entry({ name: PACKAGE_MARKER, mode: 0o644, mtime }, `${new Date().toISOString()}\n`);
      tar.finalize();
    } catch (err) {
      tar.destroy(err as Error);
    }
  })();
  // tar-stream's streams are streamx streams; the engine client wants a Node one.
  return Readable.from(tar, { objectMode: false });
}
