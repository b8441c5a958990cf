import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentBundle } from '../agent/fixture.js';
import { createDockerRuntime } from '../../server/src/runtime/index.js';
import { NODE_IMAGE } from '../helpers/env.js';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

/**
 * Found: from one user's space, another user's dev server answered on its container IP.
 * Two users' real spaces, each running the agent and a web server on 0.0.0.0:8080.
 */
const DEV_SERVER_JOB = [
  `image: ${NODE_IMAGE}`,
  'command:',
  '  - sh',
  '  - -c',
  '  - |',
  '    mkdir -p /srv/web && echo "dev server of $KNOT_USER" > /srv/web/index.html',
  '    httpd -f -p 8080 -h /srv/web &',
  '    wget -qO /tmp/knot-agent.mjs "$KNOT_SERVER/agent/knot-agent.mjs"',
  '    exec node /tmp/knot-agent.mjs',
].join('\n');

/** A node script run in a space: connects, sends an HTTP request, prints what came back or why nothing did. */
const probe = (host: string, port: number) => [
  'node',
  '-e',
  `const s = require('net').connect({ host: ${JSON.stringify(host)}, port: ${port}, timeout: 3000 });
   let got = '';
   s.on('connect', () => s.write('GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n'));
   s.on('data', (d) => (got += d));
   s.on('end', () => console.log('answered: ' + got.split('\\r\\n\\r\\n').pop().trim()));
   s.on('timeout', () => { console.log('no answer: timeout'); s.destroy(); });
   s.on('error', (e) => console.log('no answer: ' + e.code));`,
];

describe('network isolation between users', () => {
  const network = `knot-test-isolation-${randomBytes(4).toString('hex')}`;
  let h: SpacesHarness;
  let alice: string;
  let bob: string;
  let port: string;

  const ipOf = async (spaceId: string) => {
    const out = await h.exec(spaceId, ['sh', '-c', 'ip -4 -o addr show eth0']);
    return /inet (\d+\.\d+\.\d+\.\d+)/.exec(out)![1]!;
  };
  const probeFrom = async (spaceId: string, host: string, p: number) =>
    (await h.runtime.execCollect(containerOf(spaceId), probe(host, p))).stdout.trim();

  beforeAll(async () => {
    await agentBundle();
    h = await startSpacesHarness({ host: '0.0.0.0', config: { spacesNetwork: network } });
    port = new URL(h.server.url).port;
    const { id: templateId } = await h.createTemplate({ name: 'dev server', job: DEV_SERVER_JOB });
    const users = await Promise.all(['alice', 'bob'].map((name) => createUser(h.server, h.admin.client, name)));
    const spaces = await Promise.all(users.map((user) => h.createSpace({ templateId, name: 'dev', userId: user.userId })));
    alice = spaces[0]!.id;
    bob = spaces[1]!.id;
    await Promise.all([h.startAndWait(alice), h.startAndWait(bob)]);
    await waitFor(() => h.server.app.services.agents.isConnected(alice) && h.server.app.services.agents.isConnected(bob), {
      timeout: 60_000,
      what: 'both agents connected to Knot',
    });
  }, 120_000);
  afterAll(async () => {
    await h?.dispose();
    await h?.runtime.removeNetwork(network).catch(() => {});
  });

  it("puts each user's space where another user's space cannot connect to its ports", async () => {
    const bobIp = await ipOf(bob);
    // The dev server really listens on that address: Bob's own space and the host get an answer.
    await waitFor(async () => (await probeFrom(bob, bobIp, 8080)) === 'answered: dev server of bob', { what: "Bob's dev server up" });
    const fromHost = await fetch(`http://${bobIp}:8080/`);
    expect(await fromHost.text()).toBe('dev server of bob\n');

    expect(await probeFrom(alice, bobIp, 8080)).toMatch(/^no answer/);
    const aliceIp = await ipOf(alice);
    expect(await probeFrom(bob, aliceIp, 8080)).toMatch(/^no answer/);
  });

  it('still lets a space reach Knot on the host: its agent is connected and Knot answers it', async () => {
    expect(h.server.app.services.agents.isConnected(alice)).toBe(true);
    const out = await h.runtime.execCollect(containerOf(alice), [
      'node',
      '-e',
      `fetch('http://host.docker.internal:${port}/healthz').then((r) => r.text()).then(console.log, (e) => console.log('failed', e.cause?.code))`,
    ]);
    expect(JSON.parse(out.stdout)).toEqual({ status: 'ok', database: 'ok' });
  });

  it('settles on one network when several servers create it at once on a fresh engine', async () => {
    const name = `${network}-race`;
    const servers = Array.from({ length: 4 }, () => createDockerRuntime());
    try {
      const ids = await Promise.all(servers.map((engine) => engine.ensureNetwork({ name, interContainer: false })));
      // Whoever lost the race settles on the winner the next time it looks (each start looks).
      const settled = await Promise.all(servers.map((engine) => engine.ensureNetwork({ name, interContainer: false })));
      expect(new Set(settled).size).toBe(1);
      expect(ids).toContain(settled[0]);
      await waitFor(async () => (await h.runtime.ensureNetwork({ name, interContainer: false })) === settled[0], { what: 'one network' });
    } finally {
      await h.runtime.removeNetwork(name);
      for (const engine of servers) engine.close();
    }
  });

  it('refuses to start spaces on a network of that name that lets containers reach each other', async () => {
    const handMade = `${network}-open`;
    const engine = h.runtime;
    await engine.ensureNetwork({ name: handMade, interContainer: true });
    try {
      await expect(engine.ensureNetwork({ name: handMade, interContainer: false })).rejects.toThrow(/lets its containers reach each other/);
    } finally {
      await engine.removeNetwork(handMade);
    }
  });
});
