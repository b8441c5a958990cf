/**
 * Two-factor sign-in in Chromium: setting it up on My Profile (QR code, secret, confirm, recovery
 * codes shown once), logging in with a code (and a wrong one first) or a recovery code, an admin's
 * reset on the Users page, and "require two-factor for everyone" sending a user to the setup.
 * Codes are computed here from the secret the page shows, as an authenticator app would.
 */
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { WIDE, contextAs, launchBrowser, open, screenshot } from './browser.js';

const STEP_MS = 30_000;
const codeAt = (secret: string, steps = 0) => TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: Date.now() + steps * STEP_MS });
/** At least six seconds left in the current step, so the codes computed next stay valid while typed. */
const freshStep = () => waitFor(() => STEP_MS - (Date.now() % STEP_MS) > 6_000, { timeout: 10_000, interval: 200, what: 'a fresh TOTP step' });

describe('two-factor sign-in in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof setupAdmin>>;
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];
  let secret = '';
  let recoveryCodes: string[] = [];

  async function fresh(): Promise<Page> {
    const context = await browser.newContext({ viewport: WIDE, baseURL: server.url });
    contexts.push(context);
    const page = await context.newPage();
    pages.push(page);
    return page;
  }

  async function logIn(page: Page, username: string) {
    await open(page, '/login');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill('correct-horse');
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  beforeAll(async () => {
    await ensureWebBuild();
    [server, browser] = await Promise.all([startTestServer(), launchBrowser()]);
    admin = await setupAdmin(server);
    await createUser(server, admin.client, 'alice');
    await createUser(server, admin.client, 'bob');
  }, 180_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });
  screenshotsOnFailure(() => pages);

  it('sets up an authenticator on My Profile and shows the recovery codes once', async () => {
    const { context, page } = await contextAs(browser, server, 'alice');
    contexts.push(context);
    pages.push(page);
    await open(page, '/profile');
    const section = page.getByRole('region', { name: 'Two-factor sign-in' });
    await section.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const qr = section.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    // The QR code really renders (an SVG data URL the page's CSP allows).
    await waitFor(() => qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { what: 'the QR code to render' });
    secret = (await section.getByTestId('totp-secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await screenshot(page, 'two-factor-setup');

    await freshStep();
    await section.getByLabel('Code from the app').fill(codeAt(secret, -1));
    await section.getByRole('button', { name: 'Turn on' }).click();
    const list = section.getByRole('list', { name: 'Recovery codes' });
    await list.waitFor();
    recoveryCodes = (await list.getByRole('listitem').allTextContents()).map((c) => c.trim());
    expect(recoveryCodes).toHaveLength(10);
    const download = section.getByRole('link', { name: 'Download' });
    expect(await download.getAttribute('download')).toBe('knot-recovery-codes.txt');
    expect(decodeURIComponent((await download.getAttribute('href'))!)).toContain(recoveryCodes[0]!);
    await screenshot(page, 'two-factor-recovery-codes');
    await section.getByRole('button', { name: 'I have saved them' }).click();
    await section.getByText('Knot asks for a code from your authenticator app when you log in.').waitFor();
    // Reloaded, the codes are gone for good: the page says it is on, nothing more.
    await open(page);
    await section.getByText('Knot asks for a code').waitFor();
    expect(await section.getByRole('list', { name: 'Recovery codes' }).count()).toBe(0);
  });

  it('asks for the code at login, refuses a wrong one, and lets the right one in', async () => {
    const page = await fresh();
    await logIn(page, 'alice');
    const code = page.getByLabel('Authentication code');
    await code.waitFor();
    await screenshot(page, 'two-factor-login-step');
    const valid = new Set([-1, 0, 1].map((s) => codeAt(secret, s)));
    let wrong = 111_111;
    while (valid.has(String(wrong))) wrong++;
    await code.fill(String(wrong));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').getByText('That code is wrong or was already used').waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');

    await freshStep();
    await code.fill(codeAt(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/spaces');
    await page.getByRole('heading', { name: 'Spaces' }).first().waitFor();
  });

  it('lets a recovery code in instead, once', async () => {
    const page = await fresh();
    await logIn(page, 'alice');
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/spaces');

    const again = await fresh();
    await logIn(again, 'alice');
    await again.getByRole('button', { name: 'Use a recovery code' }).click();
    await again.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await again.getByRole('button', { name: 'Verify' }).click();
    await again.getByRole('alert').getByText('That recovery code is wrong or was already used.').waitFor();
  });

  it("shows admins who has it, and resets a user's", async () => {
    const { context, page } = await contextAs(browser, server, 'admin');
    contexts.push(context);
    pages.push(page);
    await open(page, '/admin/users');
    const aliceRow = page.locator('tr[data-user="alice"]');
    await expect.poll(() => aliceRow.locator('td[data-label="Two-factor"]').textContent()).toBe('On');
    expect(await page.locator('tr[data-user="bob"] td[data-label="Two-factor"]').textContent()).toBe('Off');
    await screenshot(page, 'two-factor-users');
    await page.getByRole('button', { name: 'Actions for alice' }).click();
    await page.getByRole('menuitem', { name: 'Reset two-factor' }).click();
    await expect.poll(() => aliceRow.locator('td[data-label="Two-factor"]').textContent()).toBe('Off');
    const me = await admin.client.data<{ users: { username: string; twoFactorEnabled: boolean }[] }>(`{ users { username twoFactorEnabled } }`);
    expect(me.users.find((u) => u.username === 'alice')!.twoFactorEnabled).toBe(false);
  });

  it('requires it for everyone: the admin must have it first, then a user without it is sent to the setup', async () => {
    const { context, page } = await contextAs(browser, server, 'admin');
    contexts.push(context);
    pages.push(page);
    await open(page, '/admin/users');
    const toggle = page.getByRole('checkbox', { name: /Require two-factor sign-in for everyone/ });
    await toggle.click();
    await page.getByText('Set up two-factor sign-in for your own account first').waitFor();
    expect(await toggle.isChecked()).toBe(false);

    // The admin sets it up (through the API here: the page flow is shown above), then requires it.
    const adminSecret = (await admin.client.data<{ enableTotp: { secret: string } }>(`mutation { enableTotp { secret } }`)).enableTotp.secret;
    await freshStep();
    await admin.client.data(`mutation($c: String!) { confirmTotp(code: $c) }`, { c: codeAt(adminSecret) });
    await open(page);
    await toggle.click();
    await page.getByText('Two-factor sign-in is now required for everyone.').waitFor();
    expect(await toggle.isChecked()).toBe(true);

    // bob has none: after the password he lands on My Profile's setup, and every other page sends him back.
    const bob = await fresh();
    await logIn(bob, 'bob');
    await bob.waitForURL('**/profile');
    const section = bob.getByRole('region', { name: 'Two-factor sign-in' });
    await section.getByText('This server requires two-factor sign-in.').waitFor();
    await screenshot(bob, 'two-factor-required');
    await open(bob, '/templates');
    await bob.waitForURL('**/profile');

    await section.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const bobSecret = (await section.getByTestId('totp-secret').textContent())!.trim();
    await freshStep();
    await section.getByLabel('Code from the app').fill(codeAt(bobSecret));
    await section.getByRole('button', { name: 'Turn on' }).click();
    await section.getByRole('list', { name: 'Recovery codes' }).waitFor();
    await section.getByRole('button', { name: 'I have saved them' }).click();
    // Released: the rest of Knot works again.
    await open(bob, '/templates');
    expect(new URL(bob.url()).pathname).toBe('/templates');
  });
});
