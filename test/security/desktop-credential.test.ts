/**
 * The owner's service password, which the desktop proxy adds as
 * Basic auth, went to whatever an agent reported as "the desktop": a manual space's agent (any
 * machine) could report a web page of its own and collect the password of whoever opened it. It
 * now goes only to the desktop port a Docker template's job declares (KNOT_VNC_HTTP_PORT), never
 * to a port, never to a template without a desktop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateDesktopPort } from '../../server/src/proxy/offered.js';
import type { HostAgent } from '../agent/fixture.js';
import { httpGet } from '../proxy/fixture.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { runManualSpace, startSpaceApp, type SpaceApp } from './space-app.js';

describe('the service password goes only to the desktop of a template that runs one', () => {
  let h: SpacesHarness;
  let app: SpaceApp;
  let agent: HostAgent | undefined;

  beforeAll(async () => {
    h = await startSpacesHarness();
    app = await startSpaceApp((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('a page pretending to be a desktop'));
  });
  afterAll(async () => {
    await agent?.stop();
    await app?.close();
    await h?.dispose();
  });

  it("never sends it to a manual space's agent that reports a desktop, nor through a port", async () => {
    const running = await runManualSpace(h, h.admin.client, {
      name: 'laptop',
      env: { KNOT_VNC_HTTP_PORT: String(app.port), KNOT_HTTP_PORT: `${app.port}=web` },
      ready: (s) => !!s?.services.desktop && s.services.ports.length === 1,
    });
    agent = running.agent;
    const bearer = { authorization: `Bearer ${h.admin.token}` };
    const session = await h.server.anonymous.login('admin', 'correct-horse');

    const desktop = await httpGet(`${h.server.url}/spaces/${running.spaceId}/desktop/`, bearer);
    expect(desktop).toMatchObject({ status: 200, body: 'a page pretending to be a desktop' });
    expect((await httpGet(`${h.server.url}/spaces/${running.spaceId}/desktop/`, { cookie: session.cookie! })).status).toBe(200);
    expect((await httpGet(`${h.server.url}/spaces/${running.spaceId}/ports/${app.port}/`, bearer)).status).toBe(200);

    expect(app.seen.length).toBe(3);
    expect(app.seen.map((req) => req.headers.authorization ?? null)).toEqual([null, null, null]);
    await session.request('mutation { logout }');
  });

  it('reads the desktop port from the Docker job only', () => {
    const job = (port: string) => `image: knot-test/busybox\nenvironment:\n  KNOT_VNC_HTTP_PORT: "${port}"\n`;
    expect(templateDesktopPort({ platform: 'DOCKER', job: job('6080') })).toBe(6080);
    expect(templateDesktopPort({ platform: 'MANUAL', job: job('6080') })).toBeNull();
    expect(templateDesktopPort({ platform: 'DOCKER', job: 'image: knot-test/busybox\n' })).toBeNull();
    expect(templateDesktopPort({ platform: 'DOCKER', job: job('${{ .var.PORT }}') })).toBeNull();
  });
});
