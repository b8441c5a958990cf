// `npm start`: rebuilds only what changed (scripts/build.mjs; nothing on an unchanged checkout),
// then runs the compiled server in this same process, so signals reach it directly.
import { pathToFileURL } from 'node:url';
import { buildChanged, SERVER_BUNDLE } from './build.mjs';

await buildChanged();
await import(pathToFileURL(SERVER_BUNDLE).href);
