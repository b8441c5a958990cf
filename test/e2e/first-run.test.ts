import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ensureWebBuild } from './build-web.js';
import { WIDE, launchBrowser, open, screenshot } from './browser.js';

/** An empty Knot asks for its first admin; after that it is login and logout. */
describe('first run, login and logout in the browser', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureWebBuild();
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows the first-run form on an empty Knot, creates the admin and lands on an empty Spaces page', async () => {
    const context = await browser.newContext({ viewport: WIDE, baseURL: server.url });
    const page = await context.newPage();
    await open(page, '/');
    await page.waitForURL('**/setup');
    await expect(page.getByRole('heading', { name: 'Welcome to Knot' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'setup');

    // A bad email is refused next to its field, and nothing is created.
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByLabel('Password').fill('correct-horse');
    await page.getByRole('button', { name: 'Create admin' }).click();
    await page.locator('#email-error').waitFor();
    expect(await page.locator('#email-error').textContent()).toMatch(/email address/i);
    expect(page.url()).toMatch(/\/setup$/);

    await page.getByLabel('Email').fill('admin@example.com');
    await page.getByRole('button', { name: 'Create admin' }).click();
    await page.waitForURL('**/spaces');
    await page.getByText('No spaces yet.').waitFor();
    await expect(page.getByRole('link', { name: 'Users' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('sends a visitor to the login form, refuses a wrong password and returns them where they were going', async () => {
    const context = await browser.newContext({ viewport: WIDE, baseURL: server.url });
    const page = await context.newPage();
    await open(page, '/templates');
    await page.waitForURL(/\/login\?next=%2Ftemplates$/);
    await screenshot(page, 'login');

    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'The username or password is wrong.' }).waitFor();

    await page.getByLabel('Password').fill('correct-horse');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/templates');
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();

    // Log out from the account menu: back to the login form, and the session is gone for real.
    await page.getByRole('button', { name: 'admin', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    await open(page, '/spaces');
    await page.waitForURL(/\/login/);
    await context.close();
  });

  it('sends an open page to the login form, by itself, when its session ends elsewhere', async () => {
    const context = await browser.newContext({ viewport: WIDE, baseURL: server.url });
    const page = await context.newPage();
    await open(page, '/login');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('correct-horse');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/spaces');

    // The same session is logged out from somewhere else (another tab, the API).
    const [cookie] = await context.cookies();
    const elsewhere = server.client();
    elsewhere.cookie = `${cookie!.name}=${cookie!.value}`;
    expect(await elsewhere.data('mutation { logout }')).toEqual({ logout: true });

    // Knot closes the page's live socket as the session ends; the page goes to the login form by itself.
    await page.waitForURL(/\/login\?next=%2Fspaces$/);
    await page.getByRole('heading', { name: 'Log in to Knot' }).waitFor();
    await context.close();
  });
});
