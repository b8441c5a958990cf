import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { fromRoot } from '../paths.js';
import type { Logger } from '../logger.js';

const BUILD_SCRIPT = pathToFileURL(fromRoot('agent', 'build.mjs'));
const BUNDLE = fromRoot('agent', 'dist', 'knot-agent.mjs');

let building: Promise<Buffer> | null = null;

/**
 * The agent bundle's bytes. Built by `npm run build`; a development server without it builds it
 * on first use. Throws (and tries again next time) when it is missing and cannot be built.
 */
export function readAgentBundle(): Promise<Buffer> {
  building ??= (async () => {
    if (!existsSync(BUNDLE)) {
      const { buildAgent } = (await import(BUILD_SCRIPT.href)) as { buildAgent(): Promise<string> };
      await buildAgent();
    }
    return readFileSync(BUNDLE);
  })();
  building.catch(() => (building = null));
  return building;
}

/** GET /agent/knot-agent.mjs: the agent bundle, for templates that fetch and start it themselves. */
export function agentBundleHandler(log: Logger) {
  let cached: Promise<{ body: Buffer; etag: string } | null> | null = null;
  const load = async () => {
    try {
      const body = await readAgentBundle();
      return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    } catch (err) {
      log.error({ err }, 'the agent bundle is missing and could not be built; run `npm run build`');
      return null;
    }
  };
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    cached ??= load();
    const bundle = await cached;
    if (!bundle) {
      cached = null;
      return void res.writeHead(503, { 'content-type': 'text/plain' }).end('The agent is not built on this server: run `npm run build`.\n');
    }
    if (req.headers['if-none-match'] === bundle.etag) return void res.writeHead(304, { etag: bundle.etag }).end();
    res.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': bundle.body.length,
      etag: bundle.etag,
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : bundle.body);
  };
}
