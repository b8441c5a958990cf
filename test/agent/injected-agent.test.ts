import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentPackageUnavailable, loadAgentPackage } from '../../server/src/agent-gateway/agent-package.js';
import { AGENT_MOUNT, AGENT_PACKAGE_LABEL } from '../../server/src/spaces/agent-injection.js';
import { BUSYBOX_IMAGE, GLIBC_IMAGE, MUSL_IMAGE } from '../helpers/env.js';
import type { Subscription } from '../helpers/graphql.js';
import { waitFor } from '../helpers/wait.js';
import { httpGet } from '../proxy/fixture.js';
import { containerOf, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { WATCH_SERVICES, agentBundle, agentJob, plainJob, type ServicesChange, type ServicesView } from './fixture.js';

const SERVING: ServicesView = { terminal: true, codeServer: false, desktop: false, ssh: true, vscodeTunnel: null, ports: [] };

/**
 * A template with no agent lines, in images without Node.js: Knot brings its agent in and starts
 * it, so the space gets its terminal, an HTTP port icon (and link) and SSH.
 */
describe('the agent Knot brings into every Docker space', () => {
  let h: SpacesHarness;
  const subs: Subscription<ServicesChange>[] = [];

  beforeAll(async () => {
    await agentBundle();
    h = await startSpacesHarness({ host: '0.0.0.0', config: { agentTimeoutMs: 3_000 } });
  });
  afterAll(async () => {
    for (const sub of subs) sub.close();
    await h?.dispose();
  });

  async function startSpace(name: string, job: string) {
    const template = await h.createTemplate({ name: `${name} template`, job, withSSH: true, withTerminal: true });
    const space = await h.createSpace({ templateId: template.id, name });
    const sub = h.admin.client.subscribe<ServicesChange>(WATCH_SERVICES, { id: space.id });
    subs.push(sub);
    await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
    await h.startAndWait(space.id);
    return { id: space.id, sub };
  }

  const processes = async (spaceId: string) => h.exec(spaceId, ['ps', '-o', 'args']);

  for (const [kind, image] of [
    ['busybox only (no C library, no Node.js)', BUSYBOX_IMAGE],
    ['glibc with bash, no Node.js (Debian family)', GLIBC_IMAGE],
    ['musl, no Node.js (standing in for Alpine)', MUSL_IMAGE],
  ] as const) {
    it(`in an image with ${kind}: terminal, HTTP port icon and link, SSH`, async () => {
      const { id, sub } = await startSpace(`plain-${image.split('/')[1]!.split(':')[0]}`, plainJob(image));
      const { spaceChanged } = await sub.next((e) => (e.spaceChanged.space?.services.ports.length ?? 0) > 0 && !!e.spaceChanged.space?.services.ssh, 30_000);
      expect(spaceChanged.space!.status).toBe('RUNNING');
      expect(spaceChanged.space!.error).toBeNull();
      const portUrl = `${h.server.app.services.config.url}/spaces/${id}/ports/8080/`;
      expect(spaceChanged.space!.services).toEqual({ ...SERVING, ports: [{ port: 8080, name: 'web', protocol: 'HTTP', url: portUrl }] });

      // The port link reaches the space's web server through the agent.
      const page = await httpGet(`${h.server.url}/spaces/${id}/ports/8080/`, { authorization: `Bearer ${h.admin.token}` });
      expect(page.status).toBe(200);
      expect(page.body).toContain('hello from a plain image');

      // The agent's shell works too (a manual space's terminal goes through it).
      const shell = await h.server.app.services.agents.openShell(id, { shell: 'sh', cols: 80, rows: 24 });
      let output = '';
      shell.stream.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
      shell.stream.write('echo "inj""ected"\r');
      await waitFor(() => output.includes('injected'), { what: `the shell's echo in ${JSON.stringify(output)}` });
      shell.stream.write('exit 4\r');
      expect(await shell.exited).toBe(4);

      // The package is mounted read-only: the space cannot alter the agent other spaces run.
      await expect(h.exec(id, ['sh', '-c', `echo x > ${AGENT_MOUNT}/node`])).rejects.toThrow(/exited [1-9]/);
      expect(await processes(id)).toMatch(new RegExp(`${AGENT_MOUNT}/knot-agent\\.mjs`));
      // And the image still has no Node.js of its own.
      await expect(h.exec(id, ['sh', '-c', 'command -v node'])).rejects.toThrow(/exited 1/);
    });
  }

  it('keeps the package in one volume per Knot version, labelled so the garbage collector leaves it', async () => {
    const volumes = await h.runtime.listVolumeSummaries({ 'knot.managed': 'true' });
    const packages = volumes.filter((v) => v.labels[AGENT_PACKAGE_LABEL]);
    expect(packages.length).toBeGreaterThanOrEqual(1);
    for (const volume of packages) {
      expect(volume.name).toBe(`knot-agent-${volume.labels[AGENT_PACKAGE_LABEL]}`);
      expect(volume.labels['knot.space']).toBeUndefined();
      expect(volume.labels['knot.instance']).toBeUndefined();
    }
  });

  it('brings no agent into a space whose job says agent: false', async () => {
    const { id, sub } = await startSpace('no-agent', plainJob(BUSYBOX_IMAGE, 'agent: false'));
    // A space of the same template with an agent (above) reported within seconds; this one has
    // neither the package nor a process, so it never will.
    await expect(h.exec(id, ['ls', AGENT_MOUNT])).rejects.toThrow(/exited [1-9]/);
    expect(await processes(id)).not.toMatch(/knot-agent/);
    expect(h.server.app.services.agents.isConnected(id)).toBe(false);
    const now = await h.space(id);
    expect(now.status).toBe('RUNNING');
    expect(now.error).toBeNull();
    sub.close();
  });

  it('adds no second agent to a template that starts its own', async () => {
    const { id, sub } = await startSpace('own-agent', agentJob());
    await sub.next((e) => (e.spaceChanged.space?.services.ports.length ?? 0) === 2, 30_000);
    const agents = (await processes(id)).split('\n').filter((line) => line.includes('knot-agent.mjs') && !line.startsWith('/sbin/docker-init'));
    expect(agents).toEqual([expect.stringContaining('node /tmp/knot-agent.mjs')]);
    await expect(h.exec(id, ['ls', AGENT_MOUNT])).rejects.toThrow(/exited [1-9]/);
  });

  it("keeps the space's agent token out of the shells the agent opens", async () => {
    const { id, sub } = await startSpace('as-user', plainJob(BUSYBOX_IMAGE));
    await sub.next((e) => !!e.spaceChanged.space?.services.ssh, 30_000);
    const shell = await h.server.app.services.agents.openShell(id, { shell: 'sh', cols: 80, rows: 24 });
    let output = '';
    shell.stream.on('data', (chunk: Buffer) => (output += chunk.toString('latin1')));
    shell.stream.write('echo "token=[$KNOT_AGENT_TOKEN]"\r');
    await waitFor(() => /token=\[\]\r?\n/.test(output), { what: `the shell's answer in ${JSON.stringify(output)}` });
    shell.stream.write('exit\r');
    await shell.exited;
    expect(await h.runtime.inspectContainer(containerOf(id))).toMatchObject({ running: true });
  });
});

describe('the agent package', () => {
  it('is made from the Node.js that runs Knot, its libraries and loader, and the bundle', async () => {
    await agentBundle();
    const pkg = await loadAgentPackage();
    expect(pkg.id).toMatch(/^[0-9a-f]{16}$/);
    const command = pkg.command('/mnt');
    expect(command.slice(-2)).toEqual(['/mnt/node', '/mnt/knot-agent.mjs']);
    // Through its own loader with only its own libraries: nothing of the image's C library is used.
    expect(command[0]).toMatch(/^\/mnt\/lib\/ld-/);
    expect(command.slice(1, 3)).toEqual(['--library-path', '/mnt/lib']);
  });

  it('says why when the Node.js it would ship cannot be packaged', async () => {
    const missing = `/nonexistent/node-${process.pid}`;
    await expect(loadAgentPackage(missing)).rejects.toThrow(AgentPackageUnavailable);
  });
});
