import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

const webBuild = fileURLToPath(new URL('../../../web/build', import.meta.url));

/** Serves the built SvelteKit SPA; unknown paths get index.html so client-side routes work on reload. */
export function createWebHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  if (!existsSync(webBuild)) {
    return (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The web UI is not built yet: run `npm run build` (npm start does it for you).\n');
    };
  }
  const serve = sirv(webBuild, { single: true, etag: true, dev: false });
  return (req, res) =>
    serve(req, res, () => {
      res.writeHead(404).end();
    });
}
