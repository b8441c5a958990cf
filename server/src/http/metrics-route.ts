import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * /metrics names routes, counts users' sockets and shows load: for the operator's scraper, not
 * for anyone who can reach the port. It answers only `Authorization: Bearer $KNOT_METRICS_TOKEN`,
 * and is off (404) while no token is set.
 */
export function metricsRoute(config: Pick<Config, 'metricsToken'>, metrics: Metrics) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const expected = config.metricsToken;
    if (!expected) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Metrics are off: set KNOT_METRICS_TOKEN and scrape with that Bearer token.\n');
      return;
    }
    const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    // Digests have one length, so the comparison takes the same time whatever was sent.
    if (!timingSafeEqual(digest(given), digest(expected))) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="knot metrics"' }).end('A Bearer token is required.\n');
      return;
    }
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
  };
}
