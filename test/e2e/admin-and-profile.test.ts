/**
 * What depends on who you are: `Create Space For` and the admin pages only for those allowed,
 * admins viewing another user's spaces, users/roles/variables pages, and My Profile with the
 * `Service Password`.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { screenshotsOnFailure } from './failure-screenshots.js';
import { contextAs, launchBrowser, open, screenshot, spaceRow } from './browser.js';

describe('permissions, admin pages and My Profile in the browser', () => {
  let h: SpacesHarness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  let alice: { context: BrowserContext; page: Page };
  let aliceId: string;

  beforeAll(async () => {
    await ensureWebBuild();
    [h, browser] = await Promise.all([startSpacesHarness(), launchBrowser()]);
    aliceId = (await createUser(h.server, h.admin.client, 'alice')).userId;
    await h.createTemplate({ name: 'Busybox' });
    admin = await contextAs(browser, h.server, 'admin');
    alice = await contextAs(browser, h.server, 'alice');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await h?.dispose();
  });
  screenshotsOnFailure(() => [admin?.page, alice?.page]);

  it('shows a user without permissions no `Create Space For`, no template editing and no admin pages', async () => {
    const { page } = alice;
    await open(page, '/templates');
    await page.getByRole('button', { name: 'Actions for template Busybox' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Create Space']);
    await page.keyboard.press('Escape');
    expect(await page.getByRole('link', { name: 'New template' }).count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['Spaces', 'Templates']);
    await open(page, '/admin/users');
    await page.getByText('You are not allowed to manage users.').waitFor();
  });

  it('lets an admin `Create Space For` another user, then view that user\'s spaces', async () => {
    const { page } = admin;
    await open(page, '/templates');
    await page.getByRole('button', { name: 'Actions for template Busybox' }).click();
    expect(await page.getByRole('menuitem').allTextContents()).toEqual(['Create Space', 'Create Space For', 'Edit', 'Delete']);
    await page.getByRole('menuitem', { name: 'Create Space For' }).click();

    // It asks for the user first.
    const dialog = page.getByRole('dialog', { name: 'Create Space For' });
    await dialog.getByLabel('User').selectOption({ label: 'alice (alice@example.com)' });
    await screenshot(page, 'create-space-for');
    await dialog.getByRole('button', { name: 'Continue' }).click();

    await page.getByText('for alice').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('for-alice');
    await page.getByRole('button', { name: 'Create Space' }).click();
    await page.waitForURL(`**/spaces?user=${aliceId}`);
    await page.getByRole('heading', { name: 'Spaces of alice' }).waitFor();
    await spaceRow(page, 'for-alice').waitFor();
    const owned = await h.admin.client.data<{ spaces: { id: string; name: string }[] }>(`query($u: ID) { spaces(userId: $u) { id name } }`, { u: aliceId });
    expect(owned.spaces.map((s) => s.name)).toEqual(['for-alice']);
    for (const s of owned.spaces) h.spaceIds.add(s.id);
    await screenshot(page, 'spaces-of-another-user');

    // The picker switches back to the admin's own (empty) spaces.
    await page.getByLabel('Spaces of').selectOption({ label: 'admin' });
    await page.waitForURL(/\/spaces$/);
    await page.getByText('No spaces yet.').waitFor();

    // alice sees it as hers, live on her own page.
    await open(alice.page, '/spaces');
    await spaceRow(alice.page, 'for-alice').waitFor();
  });

  it('creates a user with a role, changes their roles and deactivates them on the Users page', async () => {
    const { page } = admin;
    await open(page, '/admin/roles');
    await page.getByLabel('Name').fill('Space managers');
    await page.locator('#new-role-MANAGE_SPACES').check();
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('region', { name: 'Role Space managers' }).waitFor();
    await screenshot(page, 'admin-roles');

    await open(page, '/admin/users');
    await page.getByRole('button', { name: 'Create user' }).click();
    const create = page.getByRole('dialog', { name: 'Create user' });
    await create.getByLabel('Username').fill('bob');
    await create.getByLabel('Email').fill('bob@example.com');
    await create.getByLabel('Password').fill('short');
    await create.getByRole('button', { name: 'Create user' }).click();
    // Refused next to the password; nothing created.
    await create.getByText(/A password is 8 to 128 characters long/).waitFor();
    await create.getByLabel('Password').fill('correct-horse');
    await create.getByRole('button', { name: 'Create user' }).click();
    const bobRow = page.locator('tr[data-user="bob"]');
    await bobRow.waitFor();
    expect(await bobRow.textContent()).toContain('none');

    await bobRow.getByRole('button', { name: 'Actions for bob' }).click();
    await page.getByRole('menuitem', { name: 'Edit roles' }).click();
    const roles = page.getByRole('dialog', { name: 'Roles of bob' });
    await roles.getByLabel('Space managers').check();
    await roles.getByRole('button', { name: 'Save roles' }).click();
    await bobRow.getByText('Space managers').waitFor();
    await screenshot(page, 'admin-users');

    // bob, a space manager, gets `Create Space For`.
    const bob = await contextAs(browser, h.server, 'bob');
    await open(bob.page, '/templates');
    await bob.page.getByRole('button', { name: 'Actions for template Busybox' }).click();
    expect(await bob.page.getByRole('menuitem').allTextContents()).toEqual(['Create Space', 'Create Space For']);

    // Signing bob out everywhere ends his browser session: his next page load asks him to log in.
    await bobRow.getByRole('button', { name: 'Actions for bob' }).click();
    await page.getByRole('menuitem', { name: 'Sign out everywhere' }).click();
    await page.getByText('bob is signed out everywhere').waitFor();
    await bob.page.reload();
    await bob.page.getByRole('button', { name: 'Log in' }).waitFor();
    await bob.context.close();

    await bobRow.getByRole('button', { name: 'Actions for bob' }).click();
    await page.getByRole('menuitem', { name: 'Deactivate' }).click();
    await bobRow.getByText('Deactivated').waitFor();
    expect(await h.server.anonymous.errorCode(`mutation { login(username: "bob", password: "correct-horse") { id } }`)).toBe('FORBIDDEN');
  });

  it('never shows a protected variable\'s value', async () => {
    const { page } = admin;
    await open(page, '/admin/variables');
    await page.getByText('No variables yet.').waitFor();
    await page.getByLabel('Name').fill('DB_PASSWORD');
    await page.getByLabel('Protected').check();
    await page.getByLabel('Value').fill('hunter2-very-secret');
    await page.getByRole('button', { name: 'Create variable' }).click();
    await page.locator('tr[data-variable="DB_PASSWORD"]').waitFor();
    await page.getByLabel('Name').fill('REGION');
    await page.getByLabel('Value').fill('eu-west');
    await page.getByRole('button', { name: 'Create variable' }).click();
    await page.locator('tr[data-variable="REGION"]').getByText('eu-west').waitFor();

    await open(page);
    await page.locator('tr[data-variable="DB_PASSWORD"]').getByText('Protected').waitFor();
    expect(await page.content()).not.toContain('hunter2-very-secret');
    await screenshot(page, 'admin-variables');
  });

  it('shows, copies and regenerates the `Service Password` in My Profile, and refuses a wrong current password', async () => {
    const { page, context } = alice;
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.server.url });
    await open(page, '/spaces');
    await page.getByRole('button', { name: 'alice', exact: true }).click();
    await page.getByRole('menuitem', { name: 'My Profile' }).click();
    await page.getByRole('heading', { name: 'My Profile' }).waitFor();
    const field = page.locator('#service-password');
    const mine = async () =>
      (await (await h.server.anonymous.login('alice', 'correct-horse')).data<{ me: { servicePassword: string } }>('{ me { servicePassword } }')).me.servicePassword;

    const first = await mine();
    expect(await field.getAttribute('type')).toBe('password');
    await page.getByRole('button', { name: 'Show service password' }).click();
    expect(await field.getAttribute('type')).toBe('text');
    expect(await field.inputValue()).toBe(first);
    await page.getByRole('button', { name: 'Copy service password' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);
    expect(await page.textContent('main')).toMatch(/each space gets the new one on its next start/);

    await page.getByRole('button', { name: 'Generate new' }).click();
    await page.getByText('A new service password was generated.').waitFor();
    const second = await mine();
    expect(second).not.toBe(first);
    expect(await field.inputValue()).toBe(second);
    await screenshot(page, 'profile');

    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByLabel('New password').fill('another-horse');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#current-password-error').getByText('The current password is wrong.').waitFor();
  });
  it('saves the profile, and a new space starts with the preferred shell as its `Terminal Shell`', async () => {
    const { page } = alice;
    await open(page, '/profile');
    await page.getByLabel('Preferred shell').selectOption({ label: 'Zsh' });
    await page.getByLabel('Timezone').fill('Mars/Olympus');
    await page.getByRole('button', { name: 'Save profile' }).click();
    // A bad timezone is refused next to its field, and nothing is saved.
    await page.locator('#profile-timezone-error').getByText(/is not a time zone/).waitFor();
    await page.getByLabel('Timezone').fill('Europe/London');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Profile saved.').waitFor();
    const me = await (await h.server.anonymous.login('alice', 'correct-horse')).data<{ me: { preferredShell: string; timezone: string } }>('{ me { preferredShell timezone } }');
    expect(me.me).toEqual({ preferredShell: 'zsh', timezone: 'Europe/London' });

    await open(page, '/templates');
    await page.getByRole('button', { name: 'Actions for template Busybox' }).click();
    await page.getByRole('menuitem', { name: 'Create Space', exact: true }).click();
    await page.getByRole('heading', { name: 'Create Space' }).waitFor();
    await waitFor(async () => (await page.getByLabel('Terminal Shell').inputValue()) === 'zsh', { what: 'the Terminal Shell to start at Zsh' });
  });
});
