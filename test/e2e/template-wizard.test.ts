/**
 * The template wizard in the browser: an admin writes a template without YAML (image, shell, a
 * volume, a web port, sizes), bad input is marked on its field with Save disabled, the saved YAML
 * is what the preview showed, editing reopens it in the wizard with the same values, and a space
 * from it runs. A template the wizard cannot show opens in the YAML editor, saying why.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { contextAs, launchBrowser, open, screenshot } from './browser.js';

interface SavedTemplate {
  id: string;
  job: string;
  volumes: string;
  shell: string | null;
  withTerminal: boolean;
  withCodeServer: boolean;
  withSSH: boolean;
  computeUnits: number;
  storageUnits: number;
}

const TEMPLATES = '{ templates { id name job volumes shell withTerminal withCodeServer withSSH computeUnits storageUnits } }';

describe('the template wizard in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let saved: SavedTemplate;
  let preview: { job: string; volumes: string };

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness({ config: { starterImages: { shell: BUSYBOX_IMAGE } } }), launchBrowser()]);
    admin = await contextAs(browser, h.server, 'admin');
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await h?.dispose();
  });
  screenshotsOnFailure(() => [admin?.page]);

  const save = (page: Page) => page.getByRole('button', { name: 'Create template' });
  const fieldError = (page: Page, id: string) => page.locator(`[data-wizard] :is(#${id}-error, #${id} ~ .field-error)`);

  it('marks bad input on its field and keeps Save disabled; nothing is saved', async () => {
    const { page } = admin;
    await open(page, '/templates/new');
    await page.locator('[data-wizard]').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Wizard box');
    // The starters' images are offered as suggestions.
    expect(await page.locator('#wizard-image-suggestions option').evaluateAll((els) => els.map((el) => (el as HTMLOptionElement).value))).toContain(BUSYBOX_IMAGE);

    await page.locator('#wizard-image').fill('Not An Image');
    await page.locator('#wizard-image-error').getByText(/image reference/).waitFor();
    expect(await save(page).isDisabled()).toBe(true);
    await page.locator('#wizard-image').fill(BUSYBOX_IMAGE);
    await page.locator('#wizard-image-error').waitFor({ state: 'detached' });

    // A path that is not absolute, then a duplicate name, then a port out of range: each on its field.
    await page.getByRole('button', { name: 'Add volume' }).click();
    await page.locator('#wizard-volume-1-name').fill('home');
    await page.locator('#wizard-volume-1-path').fill('data');
    await fieldError(page, 'wizard-volume-1-name').getByText('Another volume is named home.').waitFor();
    await fieldError(page, 'wizard-volume-1-path').getByText(/must be absolute/).waitFor();
    expect(await save(page).isDisabled()).toBe(true);

    await page.getByRole('button', { name: 'Add web port' }).click();
    await page.locator('#wizard-port-0-port').fill('70000');
    await page.locator('#wizard-port-0-name').fill('web');
    await fieldError(page, 'wizard-port-0-port').getByText(/1 to 65535/).waitFor();
    await screenshot(page, 'template-wizard-errors');
    expect(await save(page).isDisabled()).toBe(true);
    await save(page).click({ force: true });
    expect(await h.admin.client.data(TEMPLATES)).toEqual({ templates: [] });
  });

  it('saves exactly the YAML its preview shows', async () => {
    const { page } = admin;
    await page.locator('#wizard-volume-1-name').fill('data');
    await page.locator('#wizard-volume-1-path').fill('/data');
    await page.locator('#wizard-port-0-port').fill('8080');
    await page.locator('#wizard-shell').selectOption('sh');
    await page.locator('#wizard-memory').fill('256m');
    await page.locator('#wizard-cpus').fill('0.5');
    await page.locator('#wizard-compute-units').fill('1');
    await page.locator('#wizard-storage-units').fill('2');
    await page.locator('[data-wizard] .field-error').first().waitFor({ state: 'detached' });
    expect(await save(page).isDisabled()).toBe(false);

    preview = {
      job: (await page.locator('[data-preview="job"]').textContent())!,
      volumes: (await page.locator('[data-preview="volumes"]').textContent())!,
    };
    expect(preview.job).toContain(`image: ${BUSYBOX_IMAGE}\n`);
    expect(preview.job).toContain('KNOT_HTTP_PORT: "8080=web"');
    expect(preview.job).toContain('  - data_${{ .space.id }}:/data\n');
    expect(preview.volumes).toBe('volumes:\n  home_${{ .space.id }}:\n  data_${{ .space.id }}:\n');
    await screenshot(page, 'template-wizard');

    await save(page).click();
    await page.waitForURL('**/templates');
    await page.locator('li.template-row[data-template="Wizard box"]').waitFor();
    const { templates } = await h.admin.client.data<{ templates: SavedTemplate[] }>(TEMPLATES);
    expect(templates).toHaveLength(1);
    saved = templates[0]!;
    expect(saved).toMatchObject({ job: preview.job, volumes: preview.volumes, shell: 'sh', withTerminal: true, withCodeServer: false, withSSH: false, computeUnits: 1, storageUnits: 2 });
  });

  it('reopens the saved template in the wizard with the same values', async () => {
    const { page } = admin;
    await open(page, `/templates/${saved.id}/edit`);
    await page.locator('[data-wizard]').waitFor();
    expect(await page.locator('[data-wizard-note]').count()).toBe(0);
    const value = (id: string) => page.locator(`#${id}`).inputValue();
    expect(await value('wizard-image')).toBe(BUSYBOX_IMAGE);
    expect(await value('wizard-command')).toBe('sleep infinity');
    expect(await value('wizard-shell')).toBe('sh');
    expect([await value('wizard-volume-0-name'), await value('wizard-volume-0-path')]).toEqual(['home', '/root']);
    expect([await value('wizard-volume-1-name'), await value('wizard-volume-1-path')]).toEqual(['data', '/data']);
    expect([await value('wizard-port-0-port'), await value('wizard-port-0-name')]).toEqual(['8080', 'web']);
    expect([await value('wizard-memory'), await value('wizard-cpus')]).toEqual(['256m', '0.5']);
    expect([await value('wizard-compute-units'), await value('wizard-storage-units')]).toEqual(['1', '2']);
    expect(await page.locator('[data-preview="job"]').textContent()).toBe(saved.job);

    // The YAML editor holds the same YAML, to edit by hand before saving.
    await page.getByRole('button', { name: 'YAML editor' }).click();
    expect(await page.getByLabel('Job').inputValue()).toBe(saved.job);
    expect(await page.getByLabel('Volumes').inputValue()).toBe(saved.volumes);
  });

  it('opens a template it cannot show in the YAML editor, saying why in one line', async () => {
    const { page } = admin;
    const { id } = await h.createTemplate({ name: 'Commented', job: `# mine\nimage: ${BUSYBOX_IMAGE}\ncommand: [sleep, '3600']\n` });
    await open(page, `/templates/${id}/edit`);
    const note = page.locator('[data-wizard-note]');
    await note.waitFor();
    expect(await note.textContent()).toBe('The wizard cannot show this template: its job YAML has comments, which the wizard would drop.');
    expect(await page.getByLabel('Job').inputValue()).toContain('# mine');
    expect(await page.locator('[data-wizard]').count()).toBe(0);
    await screenshot(page, 'template-wizard-cannot');
  });
  it('runs a space made from it', async () => {
    const space = await h.createSpace({ templateId: saved.id, name: 'wizard-1' });
    expect(space.shell).toBe('sh');
    expect((await h.startAndWait(space.id)).status).toBe('RUNNING');
    expect(await h.exec(space.id, ['sh', '-c', 'test -d /data && test -d /root && echo mounted'])).toContain('mounted');
  });

});
