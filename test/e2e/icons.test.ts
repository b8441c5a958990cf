/**
 * The icons next to a running space, as its agent reports the services (guide: "Starting a
 * Space"): Desktop and Terminal open windows, Code Server a tab, Visual Studio Code the tunnel
 * (or a terminal to create it), Ports a drop-down; `SSH Info` in the menu gives the command.
 * The space runs the real agent in the busybox + Node image with small stand-in services.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_IMAGE } from '../helpers/env.js';
import type { SpacesHarness } from '../spaces/fixture.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { chooseSpaceMenuItem, open, screenshot, spaceRow } from './browser.js';
import { startAdminInBrowser, stopAdminInBrowser } from './admin-in-browser.js';

/** httpd stand-ins for the web port (8080), code-server (13337), the VNC web page (6080) and sshd (2222), plus a TCP echo. */
const JOB = [
  `image: ${NODE_IMAGE}`,
  'command:',
  '  - sh',
  '  - -c',
  '  - |',
  '    mkdir -p /srv/web /srv/code /srv/vnc',
  '    echo hello from the space > /srv/web/index.html',
  '    echo ok > /srv/code/healthz',
  '    httpd -f -p 127.0.0.1:8080 -h /srv/web &',
  '    httpd -f -p 127.0.0.1:13337 -h /srv/code &',
  '    httpd -f -p 127.0.0.1:6080 -h /srv/vnc &',
  '    httpd -f -p 127.0.0.1:2222 -h /srv/vnc &',
  `    node -e "require('net').createServer((s) => s.pipe(s)).listen(9000, '127.0.0.1')" &`,
  '    wget -qO /tmp/knot-agent.mjs "$KNOT_SERVER/agent/knot-agent.mjs"',
  '    node /tmp/knot-agent.mjs &',
  '    exec sleep 3600',
  'environment:',
  '  KNOT_HTTP_PORT: "8080=web"',
  '  KNOT_TCP_PORT: "9000=echo"',
  '  KNOT_CODE_SERVER_PORT: "13337"',
  '  KNOT_VNC_HTTP_PORT: "6080"',
  '  KNOT_SSH_PORT: "2222"',
  '  KNOT_VSCODE_TUNNEL: "my-tunnel"',
  '  KNOT_VSCODE_TUNNEL_STATUS: "cat /tmp/tunnel.json"',
  '  KNOT_REPORT_INTERVAL_MS: "300"',
].join('\n');

describe('the icons of a running space', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let spaceId: string;

  beforeAll(async () => {
    ({ h, browser, admin } = await startAdminInBrowser({ agent: true, harness: { host: '0.0.0.0' } }));
    const template = await h.createTemplate({ name: 'Workbench', job: JOB, withCodeServer: true, withVSCodeTunnel: true, withSSH: true });
    spaceId = (await h.createSpace({ templateId: template.id, name: 'bench' })).id;
  }, 180_000);

  afterAll(() => stopAdminInBrowser({ h, browser }));
  screenshotsOnFailure(() => [admin?.page]);

  const icon = (name: string) => spaceRow(admin.page, 'bench').getByRole('group', { name: 'Open bench' }).getByRole(name === 'Code Server' ? 'link' : 'button', { name, exact: true });

  it('shows each icon once the agent reports its service', async () => {
    const { page } = admin;
    await open(page, '/spaces');
    await chooseSpaceMenuItem(page, 'bench', 'Start');
    await spaceRow(page, 'bench').locator('[data-status="RUNNING"]').waitFor({ timeout: 60_000 });
    for (const name of ['Desktop', 'Code Server', 'Visual Studio Code', 'Terminal', 'Ports']) await icon(name).waitFor({ timeout: 30_000 });
    const labels = await spaceRow(page, 'bench').getByRole('group', { name: 'Open bench' }).locator('[aria-label]').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
    expect(labels).toEqual(['Desktop', 'Code Server', 'Visual Studio Code', 'Terminal', 'Ports']);
    await screenshot(page, 'spaces-icons');
  });

  it('opens the desktop in a new window and code-server in a new tab, through the space paths', async () => {
    const { page } = admin;
    const [desktop] = await Promise.all([page.waitForEvent('popup'), icon('Desktop').click()]);
    expect(new URL(desktop.url()).pathname).toBe(`/spaces/${spaceId}/desktop/`);
    await desktop.close();

    expect(await icon('Code Server').getAttribute('target')).toBe('_blank');
    const [code] = await Promise.all([page.waitForEvent('popup'), icon('Code Server').click()]);
    expect(new URL(code.url()).pathname).toBe(`/spaces/${spaceId}/code-server/`);
    await code.close();
  });

  it('opens a terminal to create the VS Code tunnel, then links to vscode.dev once the tunnel is connected', async () => {
    const { page } = admin;
    const [terminal] = await Promise.all([page.waitForEvent('popup'), icon('Visual Studio Code').click()]);
    expect(new URL(terminal.url()).pathname).toBe(`/terminal/${spaceId}`);
    await terminal.getByText('No Visual Studio Code tunnel yet').waitFor();
    await terminal.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
    await terminal.close();

    await h.exec(spaceId, ['sh', '-c', `echo '{"tunnel":{"name":"my-tunnel","tunnel":"Connected"}}' > /tmp/tunnel.json`]);
    const link = spaceRow(page, 'bench').getByRole('link', { name: 'Visual Studio Code' });
    await link.waitFor({ timeout: 30_000 });
    expect(await link.getAttribute('href')).toBe('https://vscode.dev/tunnel/my-tunnel');
    expect(await link.getAttribute('target')).toBe('_blank');
  });

  it('drops down the ports: the web port solid and clickable, the TCP port outlined with its forward command', async () => {
    const { page } = admin;
    await icon('Ports').click();
    const web = page.getByRole('link', { name: /web 8080/ });
    await web.waitFor();
    expect(await web.evaluate((el) => el.classList.contains('solid'))).toBe(true);
    expect(await page.locator('.port.outline').textContent()).toMatch(/echo\s*9000/);
    expect(await page.locator('.forward code').textContent()).toBe('knot forward port 9000 bench 9000');
    await screenshot(page, 'ports-dropdown');

    const [tab] = await Promise.all([page.waitForEvent('popup'), web.click()]);
    await tab.waitForLoadState();
    expect(await tab.textContent('body')).toContain('hello from the space');
    await tab.close();
    await page.keyboard.press('Escape');
    expect(await page.locator('.forward').count()).toBe(0);
  });

  it('shows `SSH Info` in the menu with the command to copy', async () => {
    const { page } = admin;
    await chooseSpaceMenuItem(page, 'bench', 'SSH Info');
    const dialog = page.getByRole('dialog', { name: 'SSH Info' });
    expect(await dialog.locator('.command code').first().textContent()).toBe('ssh -o ProxyCommand="knot forward ssh %n" bench');
    await screenshot(page, 'ssh-info');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
  });
});
