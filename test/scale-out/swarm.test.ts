/**
 * KNOT_RUNTIME=swarm on a real swarm: a manager and two workers, each a dockerd in its own network
 * namespace (test/helpers/swarm.ts), two Knot replicas on one database. Spaces are placed on the
 * workers, keep their data on their node across stop/start, follow a constraint, and fail with
 * the node named when its engine dies.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerRuntime, createSwarmRuntime, parseEngines, readEngineTls, type Runtime } from '../../server/src/runtime/index.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { startTestSwarm, type TestSwarm } from '../helpers/swarm.js';
import { issue, makeCa } from '../helpers/tls-certs.js';
import { waitFor } from '../helpers/wait.js';
import { CREATE_SPACE, CREATE_TEMPLATE, DELETE_SPACE, RESTART_SPACE, START_SPACE, STOP_SPACE, UPDATE_TEMPLATE, containerOf } from '../spaces/fixture.js';
import { SERVICES_FIELDS, agentBundle, plainJob } from '../agent/fixture.js';
import { TerminalClient } from '../terminal/terminal-client.js';
import { AGENT_PACKAGE_LABEL } from '../../server/src/spaces/agent-injection.js';

const FIELDS = 'id status error node';
const SPACE_CHANGED = `subscription($id: ID!) { spaceChanged(id: $id) { kind space { ${FIELDS} } } }`;
const GET_SPACE = `query($id: ID!) { space(id: $id) { ${FIELDS} } }`;
type Space = { id: string; status: string; error: string | null; node: string | null };
const WATCH_AGENT = `subscription($id: ID!) { spaceChanged(id: $id) { kind space { ${FIELDS} ${SERVICES_FIELDS} } } }`;
type AgentChange = { spaceChanged: { kind: string; space: (Space & { services: { terminal: boolean; ssh: boolean; ports: { name: string }[] } }) | null } };

// The whole file, swarm included, is bounded: a swarm that will not form fails it, not CI's clock.
describe('spaces on a Docker Swarm', { timeout: 240_000 }, () => {
  let swarm: TestSwarm;
  let a: TestServer;
  let b: TestServer;
  let admin: GraphQLTestClient;
  let onB: GraphQLTestClient;
  let runtime: Runtime;
  let token: string;
  const terminals: TerminalClient[] = [];
  const job = (extra = '', command = "[sleep, '3600']") => `image: ${BUSYBOX_IMAGE}\ncommand: ${command}\nagent: false\nvolumes:\n  - home_\${{ .space.id }}:/data\n${extra}`;

  beforeAll(async () => {
    await agentBundle();
    // The second worker's engine is reached over TCP with TLS (--tlsverify), the first over its socket.
    swarm = await startTestSwarm({ workers: 2, images: [BUSYBOX_IMAGE], tls: true });
    const config = { runtime: 'swarm' as const, dockerHost: swarm.manager.dockerHost, swarmEngines: swarm.engines, swarmCertPath: swarm.certPath };
    a = await startTestServer({ host: '0.0.0.0', config });
    b = await startTestServer({ host: '0.0.0.0', config, databaseUrl: a.databaseUrl });
    // Spaces reach Knot through their node's route to the host, at the host's address on the swarm's bridge.
    for (const server of [a, b]) server.app.services.config.agentUrl = `http://${swarm.hostIp}:${new URL(server.url).port}`;
    const setup = await setupAdmin(a);
    admin = setup.client;
    token = setup.token;
    onB = b.client(setup.token);
    runtime = createSwarmRuntime({ dockerHost: swarm.manager.dockerHost, engines: parseEngines(swarm.engines), certPath: swarm.certPath });
  }, 240_000);

  afterAll(async () => {
    for (const t of terminals) t.close();
    await admin?.close();
    await onB?.close();
    await b?.stop();
    await a?.stop();
    runtime?.close();
    await swarm?.down();
  }, 120_000);

  const workerNamed = (hostname: string | null) => swarm.workers.find((w) => w.hostname === hostname)!;
  const space = async (id: string) => (await admin.data<{ space: Space }>(GET_SPACE, { id })).space;

  async function newSpace(name: string, extra = '', command?: string): Promise<string> {
    const template = await admin.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, { input: { name: `swarm ${name}`, job: job(extra, command) } });
    const created = await admin.data<{ createSpace: Space }>(CREATE_SPACE, { input: { templateId: template.createTemplate.id, name } });
    return created.createSpace.id;
  }

  /** Runs the command and waits on replica B's subscription for the status. */
  async function act(mutation: string, id: string, until: string, through: GraphQLTestClient = admin): Promise<Space> {
    const sub = onB.subscribe<{ spaceChanged: { kind: string; space: Space | null } }>(SPACE_CHANGED, { id });
    try {
      await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
      await through.data(mutation, { id });
      const seen = await sub.next((e) => [until, 'FAILED'].includes(e.spaceChanged.space?.status ?? ''), 90_000);
      return seen.spaceChanged.space!;
    } finally {
      sub.close();
    }
  }

  /** Runs a command in the space's container, on its node's own engine. */
  const inSpace = async (s: Space, cmd: string) => {
    const worker = workerNamed(s.node);
    const id = await swarm.docker(worker, 'ps', '-q', '--filter', `label=knot.space=${s.id}`);
    return swarm.docker(worker, 'exec', id, 'sh', '-c', cmd);
  };

  it('places a space on a worker, RUNNING live on the other replica, and keeps its data on that node across stop and start', async () => {
    const id = await newSpace('placed');
    const running = await act(START_SPACE, id, 'RUNNING');
    expect(running).toMatchObject({ status: 'RUNNING', error: null });
    expect(swarm.workers.map((w) => w.hostname)).toContain(running.node);
    // A service with one task, on that node.
    // RUNNING follows the node's own report of the start; the manager's task list catches up a moment later.
    const tasks = () => swarm.docker(swarm.manager, 'service', 'ps', containerOf(id), '--format', '{{.Node}} {{.CurrentState}}');
    await waitFor(async () => new RegExp(`^${running.node} Running`).test(await tasks()), { timeout: 10_000, what: 'the manager to list the task running on that node' });
    expect((await tasks()).split('\n')).toHaveLength(1);
    await inSpace(running, 'echo kept-on-the-node > /data/proof');

    const stopped = await act(STOP_SPACE, id, 'STOPPED');
    expect(stopped.status).toBe('STOPPED');
    expect(await swarm.docker(swarm.manager, 'service', 'ls', '-q', '--filter', `name=${containerOf(id)}`)).toBe('');
    // The volume stays where the data is.
    expect(await swarm.docker(workerNamed(running.node), 'volume', 'ls', '-q', '--filter', `label=knot.space=${id}`)).toBe(`home_${id}`);

    const again = await act(START_SPACE, id, 'RUNNING');
    expect(again).toMatchObject({ status: 'RUNNING', node: running.node });
    expect(await inSpace(again, 'cat /data/proof')).toBe('kept-on-the-node');

    // Restart and delete, on the worker.
    const restarted = await act(RESTART_SPACE, id, 'RUNNING');
    expect(restarted).toMatchObject({ status: 'RUNNING', node: running.node });
    expect(await inSpace(restarted, 'cat /data/proof')).toBe('kept-on-the-node');
    await act(STOP_SPACE, id, 'STOPPED');
    await admin.data(DELETE_SPACE, { id });
    expect(await swarm.docker(workerNamed(running.node), 'volume', 'ls', '-q', '--filter', `label=knot.space=${id}`)).toBe('');
  });

  it("reaches a node's engine over TLS, refuses one whose certificate its CA did not sign, and is refused with a client certificate the engine does not trust", async () => {
    const worker = swarm.workers[1]!;
    expect(worker.knotHost).toMatch(/^tcp:\/\/.+:2376$/);
    // Knot's own client certificate and CA: the engine answers (with the image copied onto it).
    expect(await runtime.onNode(worker.hostname).hasImage(BUSYBOX_IMAGE)).toBe(true);

    // The same client certificate, but trusting another CA: the engine is not believed.
    const wrong = await mkdtemp(path.join(tmpdir(), 'knot-wrong-ca-'));
    try {
      const impostor = await makeCa(path.join(wrong, 'ca'), 'not-the-engines-ca');
      const certs = path.join(wrong, 'knot', worker.hostname);
      await mkdir(certs, { recursive: true });
      for (const file of ['cert.pem', 'key.pem']) await copyFile(path.join(swarm.certPath!, worker.hostname, file), path.join(certs, file));
      await copyFile(path.join(impostor, 'ca.pem'), path.join(certs, 'ca.pem'));
      const misled = createSwarmRuntime({ dockerHost: swarm.manager.dockerHost, engines: parseEngines(swarm.engines), certPath: path.join(wrong, 'knot') });
      try {
        await expect(misled.onNode(worker.hostname).hasImage(BUSYBOX_IMAGE)).rejects.toThrow(
          new RegExp(`node ${worker.hostname} is down: Docker engine at ${worker.knotHost} cannot be trusted: its TLS certificate is not signed by the CA in ${certs}/ca.pem`),
        );
      } finally {
        misled.close();
      }
      // Knot's client certificate signed by a CA the engine does not trust: the engine refuses Knot.
      const strangerCerts = await issue(impostor, path.join(wrong, 'stranger', worker.hostname), { name: 'knot' });
      await copyFile(path.join(swarm.certPath!, worker.hostname, 'ca.pem'), path.join(strangerCerts, 'ca.pem'));
      const stranger = createSwarmRuntime({ dockerHost: swarm.manager.dockerHost, engines: parseEngines(swarm.engines), certPath: path.join(wrong, 'stranger') });
      try {
        await expect(stranger.onNode(worker.hostname).hasImage(BUSYBOX_IMAGE)).rejects.toThrow(
          new RegExp(`node ${worker.hostname} is down: Docker engine at ${worker.knotHost} .*client certificate in ${strangerCerts}`),
        );
      } finally {
        stranger.close();
      }
      // The same files as DOCKER_TLS_VERIFY/DOCKER_CERT_PATH give them, for one engine reached directly (KNOT_RUNTIME=docker).
      const direct = createDockerRuntime({ dockerHost: worker.knotHost, tls: readEngineTls(path.join(swarm.certPath!, worker.hostname), 'the test') });
      try {
        await direct.ping();
        expect(await direct.hasImage(BUSYBOX_IMAGE)).toBe(true);
      } finally {
        direct.close();
      }
      // And without any TLS: refused before a connection is made, unless the network is declared trusted.
      expect(() => createSwarmRuntime({ dockerHost: swarm.manager.dockerHost, engines: parseEngines(swarm.engines) })).toThrow(
        new RegExp(`node ${worker.hostname}'s engine ${worker.knotHost} would be reached without TLS.*KNOT_SWARM_INSECURE=true`),
      );
    } finally {
      await rm(wrong, { recursive: true, force: true });
    }
  });

  it('runs the injected agent on a worker (its engine over TLS): icons reported to both replicas, a terminal and a port through the replica without the agent, update and restart on the node', async () => {
    const worker = swarm.workers[1]!;
    const job = (port: string) => plainJob(BUSYBOX_IMAGE, `constraints: ["node.hostname == ${worker.hostname}"]`).replace('8080=web', `8080=${port}`);
    const { createTemplate: template } = await admin.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, {
      input: { name: 'swarm agent', job: job('web'), withTerminal: true, withSSH: true },
    });
    const { createSpace: created } = await admin.data<{ createSpace: Space }>(CREATE_SPACE, { input: { templateId: template.id, name: 'agented', shell: 'sh' } });
    const id = created.id;
    const portsOf = (e: AgentChange) => e.spaceChanged.space?.services.ports.map((p) => p.name).join(',') ?? '';

    // Started through A, whose agent URL the space gets: its agent connects to A. B's subscriber sees the icons.
    const watch = onB.subscribe<AgentChange>(WATCH_AGENT, { id });
    try {
      await watch.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
      await admin.data(START_SPACE, { id });
      const up = (await watch.next((e) => e.spaceChanged.space?.status === 'FAILED' || (portsOf(e) === 'web' && e.spaceChanged.space!.services.ssh), 90_000)).spaceChanged.space!;
      expect(up).toMatchObject({ status: 'RUNNING', error: null, node: worker.hostname, services: { terminal: true, ssh: true } });
    } finally {
      watch.close();
    }
    expect(a.app.services.agents.isConnected(id)).toBe(true);
    expect(b.app.services.agents.isConnected(id)).toBe(false);
    // The package was copied into a volume on the worker's own engine, the one the space mounts.
    const packageVolumes = (node: typeof worker) => swarm.docker(node, 'volume', 'ls', '-q', '--filter', `label=${AGENT_PACKAGE_LABEL}`);
    expect(await packageVolumes(worker)).toMatch(/^knot-agent-[0-9a-f]{16}$/);
    expect(await packageVolumes(swarm.manager)).toBe('');

    // A terminal through B (Docker exec on the worker's engine, from the replica without the agent) echoes.
    const terminal = TerminalClient.open(b.url, id, { token });
    terminals.push(terminal);
    expect(await terminal.run('echo on-$(hostname)-$((6 * 7))')).toMatch(/^on-.+-42\n$/);
    terminal.close();
    // A port through B goes through the agent on A: relayed.
    const page = await fetch(`${b.url}/spaces/${id}/ports/8080/`, { headers: { authorization: `Bearer ${token}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('hello from a plain image');

    // Update: the template changes, the space offers the update, a restart applies it on the same node, agent and all.
    await admin.data(UPDATE_TEMPLATE, { id: template.id, input: { name: 'swarm agent', job: job('site'), withTerminal: true, withSSH: true } });
    await waitFor(async () => (await admin.data<{ space: { updateAvailable: boolean } }>(`query($id: ID!) { space(id: $id) { updateAvailable } }`, { id })).space.updateAvailable, { what: 'the update to be offered' });
    const again = onB.subscribe<AgentChange>(WATCH_AGENT, { id });
    try {
      await again.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
      await admin.data(RESTART_SPACE, { id });
      const updated = (await again.next((e) => e.spaceChanged.space?.status === 'FAILED' || portsOf(e) === 'site', 90_000)).spaceChanged.space!;
      expect(updated).toMatchObject({ status: 'RUNNING', error: null, node: worker.hostname });
    } finally {
      again.close();
    }
    const afterRestart = TerminalClient.open(b.url, id, { token });
    terminals.push(afterRestart);
    expect(await afterRestart.run('echo restarted-$((6 * 7))')).toBe('restarted-42\n');
    afterRestart.close();

    await act(STOP_SPACE, id, 'STOPPED');
    await admin.data(DELETE_SPACE, { id });
  });

  it("removes a volume-fill helper that a killed server left on a worker's own engine", async () => {
    const worker = swarm.workers[1]!;
    // As volume-fill.ts makes one (created, never started), for the agent package; its server died mid-copy.
    const name = `knot-fill-left-${swarm.id}`;
    const labels = { 'knot.managed': 'true', 'knot.agent-package': 'x', 'knot.instance': a.app.services.instanceId, 'knot.fill': 'knot-agent-x' };
    await swarm.docker(worker, 'create', '--name', name, '--network', 'none', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), BUSYBOX_IMAGE, 'true');
    const helperOnWorker = () => swarm.docker(worker, 'ps', '-aq', '--filter', `name=${name}`);
    expect(await helperOnWorker()).not.toBe('');
    // Young, it may be another replica's copy in progress: it stays. Past the longest copy, it goes.
    const gc = a.app.services.garbageCollector;
    const now = await waitFor(async () => (await gc.sweep()).swept && true, { what: 'a sweep of its own' });
    expect(now).toBe(true);
    expect(await helperOnWorker()).not.toBe('');
    const later = await waitFor(async () => {
      const result = await gc.sweep(new Date(Date.now() + 3601_000));
      return result.swept ? result : null;
    }, { what: 'a later sweep of its own' });
    expect(later.removedContainers).toContain(name);
    expect(await helperOnWorker()).toBe('');
  });

  it('places a space on the node its template constrains it to', async () => {
    for (const worker of swarm.workers) {
      const id = await newSpace(`pinned-${worker.role}`, `constraints: ["node.hostname == ${worker.hostname}"]\n`);
      const running = await act(START_SPACE, id, 'RUNNING');
      expect(running).toMatchObject({ status: 'RUNNING', node: worker.hostname });
      await act(STOP_SPACE, id, 'STOPPED');
      await admin.data(DELETE_SPACE, { id });
    }
  });

  it('refuses a template whose constraint Swarm would not understand', async () => {
    const res = await admin.request(CREATE_TEMPLATE, { input: { name: 'swarm bad constraint', job: job('constraints: ["hostname = x"]\n') } });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toContain('constraint');
  });

  it('keeps spaces on one node apart, each reaching Knot, with no network made or left per space', async () => {
    const worker = swarm.workers[1]!;
    const on = `constraints: ["node.hostname == ${worker.hostname}"]\n`;
    const serving = await newSpace('serving', on, "[httpd, -f, -p, '8080']");
    const other = await newSpace('other', on);
    // The second through replica B, which finds the spaces' network replica A made (as a restarted Knot does).
    const [first, second] = [await act(START_SPACE, serving, 'RUNNING'), await act(START_SPACE, other, 'RUNNING', onB)];
    expect(second.status).toBe('RUNNING');
    // A TCP connection and nothing more: busybox's nc runs `true` once connected, else fails.
    const connects = (host: string, port: number | string) => `nc -w 3 ${host} ${port} -e true 2>/dev/null && echo open || echo closed`;
    const servingIp = (await inSpace(first, "ip -4 -o addr show eth0 | awk '{print $4}'")).split('/')[0]!;
    // The listener is up (seen from inside), yet the other space on the same node cannot reach it.
    await waitFor(async () => (await inSpace(first, connects('127.0.0.1', 8080))) === 'open');
    expect(await inSpace(second, connects(servingIp, 8080))).toBe('closed');
    // Both reach Knot (the agent's way back), through the node's route to the host.
    const knot = new URL(a.app.services.config.agentUrl);
    expect(await inSpace(second, connects(knot.hostname, knot.port))).toBe('open');
    expect(await inSpace(first, connects(knot.hostname, knot.port))).toBe('open');
    // One shared swarm network for all spaces; nothing per space on the manager, before or after a delete.
    const networks = async () => (await swarm.docker(swarm.manager, 'network', 'ls', '--format', '{{.Name}}')).split('\n');
    expect((await networks()).filter((n) => n.includes(serving) || n.includes(other))).toEqual([]);
    for (const id of [serving, other]) {
      await act(STOP_SPACE, id, 'STOPPED');
      await admin.data(DELETE_SPACE, { id });
    }
    expect((await networks()).filter((n) => n.includes(serving) || n.includes(other))).toEqual([]);
  });

  it('fails a space whose command cannot run, saying which, and leaves no service', async () => {
    // Its init starts (the node reports the container started, before the manager does) and
    // exits 127: whatever the order of the node's and the manager's reports, the space ends
    // FAILED with the reason, not RUNNING.
    const broken = await newSpace('broken', '', '[/no/such/program]');
    await act(START_SPACE, broken, 'RUNNING');
    await waitFor(async () => (await space(broken)).status === 'FAILED', { timeout: 30_000, what: 'the broken space to be FAILED' });
    expect((await space(broken)).error).toMatch(/could not be started: .*\/no\/such\/program|exit code 127\. Its last output: .*\/no\/such\/program/);
    await waitFor(async () => (await swarm.docker(swarm.manager, 'service', 'ls', '-q', '--filter', `name=${containerOf(broken)}`)) === '', { what: 'its service to go' });
    await admin.data(DELETE_SPACE, { id: broken });
  });

  it('fails a space with its node named when the node\'s engine dies', async () => {
    const worker = swarm.workers[0]!;
    const id = await newSpace('lost', `constraints: ["node.hostname == ${worker.hostname}"]\n`);
    expect((await act(START_SPACE, id, 'RUNNING')).node).toBe(worker.hostname);
    const sub = onB.subscribe<{ spaceChanged: { kind: string; space: Space | null } }>(SPACE_CHANGED, { id });
    try {
      await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
      await swarm.killEngine(worker);
      const failed = (await sub.next((e) => e.spaceChanged.space?.status === 'FAILED', 90_000)).spaceChanged.space!;
      expect(failed.error).toContain(`node ${worker.hostname} is down`);
    } finally {
      sub.close();
    }
    // Its volumes are on that node: a start says so instead of starting it empty elsewhere.
    const retried = await act(START_SPACE, id, 'RUNNING');
    expect(retried.status).toBe('FAILED');
    expect(retried.error).toContain(`node ${worker.hostname}`);
    await waitFor(async () => (await space(id)).status === 'FAILED');
  });
});
