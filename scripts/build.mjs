// `npm run build`: everything `npm start` serves that is not TypeScript run by tsx —
// the web UI (static files) and the agent bundle. Parts that do not exist yet are skipped.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });

if (existsSync('web/svelte.config.js')) run('npm', ['run', 'build', '-w', 'web']);
if (existsSync('agent/build.mjs')) run('node', ['agent/build.mjs']);
