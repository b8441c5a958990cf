import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';

const BUILD_SCRIPT = new URL('../../../agent/build.mjs', import.meta.url);
const BUNDLE = fileURLToPath(new URL('../../../agent/dist/knot-agent.mjs', import.meta.url));

/**
 * GET /agent/knot-agent.mjs: the agent bundle, for templates to fetch at container start. Built by
 * `npm run build`; a development server without it builds it on first request.
 */
export function agentBundleHandler(log: Logger) {
  let cached: Promise<{ body: Buffer; etag: string } | null> | null = null;
  const load = async () => {
    if (!existsSync(BUNDLE)) {
      try {
        const { buildAgent } = (await import(BUILD_SCRIPT.href)) as { buildAgent(): Promise<string> };
        await buildAgent();
      } catch (err) {
        log.error({ err }, 'the agent bundle is missing and could not be built; run `npm run build`');
        return null;
      }
    }
    const body = readFileSync(BUNDLE);
    return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
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
