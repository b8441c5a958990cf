import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

/** Found: `/metrics` was public, and any `Host` was answered (DNS rebinding before the first setup). */

interface Answer {
  status: number;
  body: string;
}

/** A request with any Host header (fetch forbids setting it). */
function send(url: string, host: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: body ? 'POST' : 'GET', headers: { host, 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const SETUP = JSON.stringify({
  query: 'mutation($i: SetupInput!) { setup(input: $i) { id } }',
  variables: { i: { username: 'rebound', email: 'r@example.com', password: 'correct-horse' } },
});
const SETUP_REQUIRED = JSON.stringify({ query: '{ serverInfo { setupRequired } }' });

describe('Host header', () => {
  let server: TestServer;
  let port: string;
  beforeAll(async () => {
    // A fresh server, before its first setup: what a rebinding page would aim at.
    server = await startTestServer({
      config: { url: 'https://knot.example.test', agentUrl: 'http://agents.internal.test:3000', wildcardDomain: '*.spaces.example.test' },
    });
    port = new URL(server.url).port;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('refuses a name it does not own with 421, runs nothing, and still sits waiting for its setup', async () => {
    for (const host of [`rebind.attacker.example:${port}`, 'knot.example.test.attacker.example', 'spaces.example.test.evil', '10.0.0.5']) {
      const refused = await send(server.url, host, '/graphql', SETUP);
      expect(refused.status, host).toBe(421);
      expect(refused.body).toContain('Knot does not answer to this host name');
      expect((await send(server.url, host, '/healthz')).status, host).toBe(421);
    }
    const info = await send(server.url, `127.0.0.1:${port}`, '/graphql', SETUP_REQUIRED);
    expect(JSON.parse(info.body)).toEqual({ data: { serverInfo: { setupRequired: true } } });
  });

  it('refuses a WebSocket upgrade for a name it does not own', async () => {
    const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers: { host: 'rebind.attacker.example' } });
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.once('open', () => resolve(101));
      ws.once('error', () => {});
    });
    ws.terminate();
    expect(status).toBe(421);
  });

  it("answers its own names: KNOT_URL's host, the agents' host, the wildcard domain's hosts, and loopback", async () => {
    const own = [
      'knot.example.test',
      'KNOT.example.test:443',
      'agents.internal.test:3000',
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      'knot.localhost',
    ];
    for (const host of own) expect((await send(server.url, host, '/healthz')).status, host).toBe(200);
    // A port host goes on to the port proxy, which asks who is visiting.
    expect((await send(server.url, 'alice--dev--8080.spaces.example.test', '/')).status).toBe(401);
  });
});

describe('/metrics', () => {
  let server: TestServer;
  let adminToken: string;
  beforeAll(async () => {
    server = await startTestServer({ config: { metricsToken: 'scraper-secret' } });
    adminToken = (await setupAdmin(server)).token;
  });
  afterAll(async () => {
    await server?.stop();
  });

  const scrape = (authorization?: string) => fetch(`${server.url}/metrics`, { headers: authorization ? { authorization } : {} });

  it('answers only the Bearer KNOT_METRICS_TOKEN, not a user, not even an Admin', async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape('Bearer wrong')).status).toBe(401);
    expect((await scrape(`Bearer ${adminToken}`)).status).toBe(401);
    const ok = await scrape('Bearer scraper-secret');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('knot_http_requests_total');
  });

  it('is off while no token is set', async () => {
    const plain = await startTestServer();
    try {
      const res = await fetch(`${plain.url}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain('set KNOT_METRICS_TOKEN');
    } finally {
      await plain.stop();
    }
  });
});
