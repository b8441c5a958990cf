// Bundles the agent (and `ws`) into one ESM file that runs on plain Node 20 with no packages:
// agent/dist/knot-agent.mjs. Run by `npm run build`; the server and the tests call buildAgent().
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const AGENT_BUNDLE = path.join(here, 'dist', 'knot-agent.mjs');

export async function buildAgent() {
  await build({
    entryPoints: [path.join(here, 'src', 'main.ts')],
    outfile: AGENT_BUNDLE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // ws is CommonJS and requires Node's built-ins; an ESM bundle needs a real require for them.
    banner: { js: "import { createRequire as __knotCreateRequire } from 'node:module';\nconst require = __knotCreateRequire(import.meta.url);" },
    // ws's optional native speed-ups: absent, and ws falls back to JavaScript.
    external: ['bufferutil', 'utf-8-validate'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  return AGENT_BUNDLE;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildAgent();
  console.log(`built ${path.relative(process.cwd(), AGENT_BUNDLE)}`);
}
