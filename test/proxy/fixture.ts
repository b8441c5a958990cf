import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { NODE_IMAGE } from '../helpers/env.js';

const SERVICES = fileURLToPath(new URL('./space', import.meta.url));

/**
 * A Docker job with real services (space/services.mjs, with a test-only TLS certificate) and the agent fetched from the server, as a
 * template would run it. Port 7000 answers but is not offered; the desktop expects the owner's
 * service password, rendered into the job at start.
 */
export function proxiedJob(extra: Record<string, string> = {}): string {
  const env = {
    KNOT_HTTP_PORT: '8080=web',
    KNOT_HTTPS_PORT: '8443=secure',
    KNOT_TCP_PORT: '9000=echo',
    KNOT_CODE_SERVER_PORT: '13337',
    KNOT_VNC_HTTP_PORT: '6901',
    KNOT_REPORT_INTERVAL_MS: '300',
    KNOT_EXPECTED_AUTH: '${{ .user.username }}:${{ .user.service_password }}',
    ...extra,
  };
  return [
    `image: ${NODE_IMAGE}`,
    'command:',
    '  - sh',
    '  - -c',
    '  - |',
    '    node /srv/test/services.mjs &',
    '    wget -qO /tmp/knot-agent.mjs "$KNOT_SERVER/agent/knot-agent.mjs"',
    '    node /tmp/knot-agent.mjs &',
    '    exec sleep 3600',
    'volumes:',
    `  - ${SERVICES}:/srv/test:ro`,
    'environment:',
    ...Object.entries(env).map(([k, v]) => `  ${k}: "${v}"`),
  ].join('\n');
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP request that may set any header (fetch forbids Host, which port hosts need). */
export function httpGet(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}
