import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_AGENT_TOKEN, HostAgent, agentBundle } from '../agent/fixture.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

/**
 * The starters run local stand-ins for their public images (test/images/starters.sh says which
 * stands for which and what of the original's layout each keeps), named as an operator with a
 * mirror would, in KNOT_STARTER_IMAGES.
 */
const STAND_INS = {
  shell: BUSYBOX_IMAGE,
  'code-server': 'knot-test/starter-code-server:latest',
  desktop: 'knot-test/starter-desktop:latest',
};

const STARTERS = `{ starterTemplates { id name description gives image platform job } }`;
const FROM_STARTER = `mutation($id: ID!) { createTemplateFromStarter(starterId: $id) { id name platform job withCodeServer } }`;

interface StarterView {
  id: string;
  name: string;
  description: string;
  gives: string[];
  image: string | null;
  platform: string;
  job: string;
}

describe('starter templates', () => {
  let h: SpacesHarness;
  const agents: HostAgent[] = [];

  beforeAll(async () => {
    h = await startSpacesHarness({ config: { starterImages: STAND_INS } });
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function fromStarter(id: string) {
    return (await h.admin.client.data<{ createTemplateFromStarter: { id: string; name: string; platform: string; job: string } }>(FROM_STARTER, { id }))
      .createTemplateFromStarter;
  }

  it('offers a Linux shell, code-server, a desktop and a manual space, each saying what it gives', async () => {
    const { starterTemplates } = await h.admin.client.data<{ starterTemplates: StarterView[] }>(STARTERS);
    expect(starterTemplates.map((s) => [s.id, s.platform, s.image])).toEqual([
      ['shell', 'DOCKER', STAND_INS.shell],
      ['code-server', 'DOCKER', STAND_INS['code-server']],
      ['desktop', 'DOCKER', STAND_INS.desktop],
      ['manual', 'MANUAL', null],
    ]);
    for (const starter of starterTemplates) {
      expect(starter.gives.length).toBeGreaterThan(0);
      expect(starter.description).not.toBe('');
    }
    expect(starterTemplates[0]!.job).toContain(`image: ${STAND_INS.shell}\n`);
  });

  it('a Linux shell space reaches RUNNING and runs commands, its home on a volume of its own', async () => {
    const template = await fromStarter('shell');
    expect(template).toMatchObject({ name: 'Linux shell', platform: 'DOCKER' });
    const space = await h.createSpace({ templateId: template.id, name: 'shell-1' });
    expect((await h.startAndWait(space.id)).status).toBe('RUNNING');
    expect(await h.exec(space.id, ['sh', '-c', 'echo kept > /root/file && hostname'])).toBe('shell-1\n');
    expect(await h.runtime.listVolumes({ 'knot.space': space.id })).toEqual([`home_${space.id}`]);
  });

  it('a code-server space reaches RUNNING with code-server answering on the port the template declares', async () => {
    const template = await fromStarter('code-server');
    expect(template).toMatchObject({ withCodeServer: true });
    const space = await h.createSpace({ templateId: template.id, name: 'code-1' });
    expect((await h.startAndWait(space.id)).status).toBe('RUNNING');
    const health = await waitFor(() => h.exec(space.id, ['wget', '-qO-', 'http://127.0.0.1:13337/healthz']).catch(() => undefined), {
      what: 'code-server on 127.0.0.1:13337',
    });
    expect(health).toContain('alive');
  });

  it('a desktop space reaches RUNNING with its desktop behind the owner\'s username and service password', async () => {
    const template = await fromStarter('desktop');
    const space = await h.createSpace({ templateId: template.id, name: 'desk-1' });
    expect((await h.startAndWait(space.id)).status).toBe('RUNNING');
    const env = await h.exec(space.id, ['sh', '-c', 'echo "$CUSTOM_USER:${#PASSWORD}:$KNOT_VNC_HTTP_PORT"']);
    const [user, passwordLength, port] = env.trim().split(':');
    expect(user).toBe('admin');
    expect(Number(passwordLength)).toBeGreaterThan(8);
    expect(port).toBe('3000');
    // Without the credential the page is refused, as KasmVNC refuses it.
    const refused = await h.exec(space.id, ['sh', '-c', 'wget -qO- http://127.0.0.1:3000/ 2>&1; true']);
    expect(refused).toMatch(/401/);
  });

  it('a manual space reaches RUNNING when its agent connects', async () => {
    const template = await fromStarter('manual');
    expect(template).toMatchObject({ platform: 'MANUAL', job: '' });
    const space = await h.createSpace({ templateId: template.id, name: 'laptop-1' });
    const { createAgentToken } = await h.admin.client.data<{ createAgentToken: { environment: string } }>(CREATE_AGENT_TOKEN, { id: space.id });
    const env = Object.fromEntries(createAgentToken.environment.trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
    agents.push(new HostAgent(await agentBundle(), { ...env, KNOT_SERVER: h.server.url }));
    await waitFor(async () => (await h.space(space.id)).status === 'RUNNING' || undefined, { what: 'the manual space RUNNING' });
  });

  it('a second click adds a second template with a numbered name; an unknown starter is NOT_FOUND', async () => {
    const first = await fromStarter('manual');
    const second = await fromStarter('manual');
    expect(first.name).toMatch(/^Your own machine \d+$/);
    expect(second.name).not.toBe(first.name);
    const res = await h.admin.client.request(FROM_STARTER, { id: 'nope' });
    expect(res.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });
});
