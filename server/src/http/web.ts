import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fromRoot } from '../paths.js';
import sirv from 'sirv';
import { inlineScripts, PAGE_HEADERS, pagePolicy } from './security-headers.js';

const webBuild = fromRoot('web', 'build');

/** Every HTML file of the build, for the hashes of the inline scripts SvelteKit and early.ts wrote. */
function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return htmlFiles(full);
    return entry.name.endsWith('.html') ? [full] : [];
  });
}

/**
 * Serves the built SvelteKit SPA; unknown paths get index.html so client-side routes work on reload.
 * Every answer carries the page headers and a CSP allowing exactly the build's inline scripts.
 */
export function createWebHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  if (!existsSync(webBuild)) {
    return (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...PAGE_HEADERS });
      res.end('The web UI is not built yet: run `npm run build` (npm start does it for you).\n');
    };
  }
  const policy = pagePolicy(htmlFiles(webBuild).flatMap((file) => inlineScripts(readFileSync(file, 'utf8'))));
  const serve = sirv(webBuild, { single: true, etag: true, dev: false });
  return (req, res) => {
    for (const [name, value] of Object.entries(PAGE_HEADERS)) res.setHeader(name, value);
    res.setHeader('content-security-policy', policy);
    serve(req, res, () => {
      res.writeHead(404).end();
    });
  };
}
