// `npm run build`: what `npm start` runs and serves, each part rebuilt only when its inputs changed:
// the server bundle (dist/server/main.mjs: compiled JavaScript, no transpiler at run time), the
// web UI (web/build) and the agent bundle (agent/dist). `--force` rebuilds everything.
//
// A part is fresh when its output exists and its stamp (dist/build-stamps.json) matches its inputs:
// first by each file's size and mtime (a few ms of stat calls), and when those differ (a fresh
// clone, a `touch`) by content, so only a real change rebuilds. Messages go to stderr: stdout is
// the server's JSON log.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMPS = path.join(root, 'dist', 'build-stamps.json');
/** Generated or installed folders inside input folders: never inputs. */
const SKIP = new Set(['node_modules', 'dist', 'build', '.svelte-kit']);
const SHARED = ['package-lock.json', 'scripts/build.mjs'];

export const SERVER_BUNDLE = path.join(root, 'dist', 'server', 'main.mjs');

const PARTS = [
  {
    name: 'server',
    inputs: ['server/src', 'protocol', 'schema/db', 'tsconfig.json', ...SHARED],
    output: SERVER_BUNDLE,
    async build() {
      const { build } = await import('esbuild');
      await build({
        absWorkingDir: root,
        entryPoints: ['server/src/main.ts'],
        outfile: SERVER_BUNDLE,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        // Dependencies load from node_modules as usual; only Knot's own code is compiled in.
        packages: 'external',
        sourcemap: 'linked',
        logLevel: 'warning',
      });
    },
  },
  {
    name: 'web',
    inputs: ['web/src', 'web/static', 'web/svelte.config.js', 'web/vite.config.ts', 'web/package.json', 'web/tsconfig.json', 'schema/client', ...SHARED],
    output: path.join(root, 'web', 'build', 'index.html'),
    build: () => run('npm', ['run', 'build', '-w', 'web'], { NODE_ENV: 'production' }),
  },
  {
    name: 'agent',
    inputs: ['agent', 'protocol', ...SHARED],
    output: path.join(root, 'agent', 'dist', 'knot-agent.mjs'),
    build: () => run(process.execPath, ['agent/build.mjs']),
  },
];

function run(cmd, args, env = {}) {
  // Build tools' progress is not the server's log: it goes to stderr too.
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', process.stderr, process.stderr], env: { ...process.env, ...env } });
}

/** Every input file under the given paths, sorted, as paths relative to the root. */
function files(inputs) {
  const out = [];
  const walk = (rel) => {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) return;
    if (!statSync(abs).isDirectory()) return void out.push(rel);
    for (const entry of readdirSync(abs)) if (!SKIP.has(entry)) walk(path.join(rel, entry));
  };
  inputs.forEach(walk);
  return [...new Set(out)].sort();
}

function statKey(list) {
  const hash = createHash('sha256');
  for (const rel of list) {
    const s = statSync(path.join(root, rel));
    hash.update(`${rel}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('base64url');
}

function contentKey(list) {
  const hash = createHash('sha256');
  for (const rel of list) hash.update(`${rel}\0`).update(readFileSync(path.join(root, rel))).update('\n');
  return hash.digest('base64url');
}

function readStamps() {
  try {
    return JSON.parse(readFileSync(STAMPS, 'utf8'));
  } catch {
    return {};
  }
}

/** Builds the parts whose inputs changed; returns what each part did ('built' or 'fresh'). */
export async function buildChanged({ force = false, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const stamps = readStamps();
  const before = JSON.stringify(stamps);
  const done = {};
  for (const part of PARTS) {
    // A checkout without a part (e.g. no web/ in a trimmed image) has nothing to build for it.
    if (!part.inputs.some((input) => existsSync(path.join(root, input)) && !SHARED.includes(input))) continue;
    const list = files(part.inputs);
    const stat = statKey(list);
    const old = stamps[part.name];
    let content;
    const fresh = !force && existsSync(part.output) && old && (old.stat === stat || old.content === (content = contentKey(list)));
    if (fresh) {
      done[part.name] = 'fresh';
      if (old.stat !== stat) stamps[part.name] = { ...old, stat };
      continue;
    }
    log(`building ${part.name}…`);
    const started = Date.now();
    await part.build();
    stamps[part.name] = { stat, content: content ?? contentKey(list) };
    done[part.name] = 'built';
    log(`built ${part.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  if (JSON.stringify(stamps) !== before) {
    mkdirSync(path.dirname(STAMPS), { recursive: true });
    writeFileSync(STAMPS, `${JSON.stringify(stamps, null, 2)}\n`);
  }
  return done;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const done = await buildChanged({ force: process.argv.includes('--force') });
  const fresh = Object.keys(done).filter((name) => done[name] === 'fresh');
  if (fresh.length) process.stderr.write(`up to date: ${fresh.join(', ')}\n`);
}
