import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestOidcProvider, testOidcConfig, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { httpGet } from '../proxy/fixture.js';
import { ensureWebBuild } from './build-web.js';
import { WIDE, contextAs, launchBrowser, open, screenshot } from './browser.js';

interface UserView {
  id: string;
  username: string;
  email: string;
  groupIds: string[];
}

/**
 * Single sign-on in Chromium against a real OpenID provider (oidc-provider, started here): the
 * provider's own login and consent pages, Knot's callback, groups synced from the claim, logout
 * through the provider, no password form for an account without a Knot password (and its SSO mark
 * on the Users page), and answers that were tampered with on the way.
 */
describe('single sign-on with an OpenID Connect provider', () => {
  let provider: TestOidcProvider;
  let server: TestServer;
  let browser: Browser;
  let admin: GraphQLTestClient;
  const groupIds: Record<string, string> = {};
  const contexts: BrowserContext[] = [];

  async function users(): Promise<UserView[]> {
    const res = await admin.request<{ users: UserView[] }>(`{ users { id username email groupIds } }`);
    return res.data!.users;
  }

  async function browserPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: WIDE, baseURL: server.url });
    contexts.push(context);
    const page = await context.newPage();
    // The provider's dev pages load a web font; this machine has no way out.
    await page.route(/fonts\.googleapis\.com/, (route) => route.abort());
    return page;
  }

  /** From Knot's login page through the provider's login and consent pages, as `login`. */
  async function signInAtProvider(page: Page, login: string) {
    await page.getByRole('link', { name: 'Sign in with Test IdP' }).click();
    await page.waitForURL(`${provider.issuer}/**`);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
  }

  beforeAll(async () => {
    await ensureWebBuild();
    provider = await startTestOidcProvider();
    [server, browser] = await Promise.all([
      startTestServer({ config: { oidc: testOidcConfig(provider.issuer, { groupsClaim: 'groups' }) } }),
      launchBrowser(),
    ]);
    // The provider sends the browser back to where it really is (the test server's own port).
    server.app.services.config.url = server.url;
    provider.register(server.url);
    admin = (await setupAdmin(server)).client;
    for (const name of ['devs', 'ops']) {
      const res = await admin.request<{ createGroup: { id: string } }>(`mutation($n: String!) { createGroup(name: $n) { id } }`, { n: name });
      groupIds[name] = res.data!.createGroup.id;
    }
  }, 180_000);
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    await provider?.stop();
  });

  it('creates the user at the first sign-in, puts them in the groups the claim names, and logout ends both sessions', async () => {
    provider.accounts.set('jane-0001', { preferred_username: 'Jane.Doe', email: 'jane@example.com', groups: ['devs', 'no-such-group'] });
    const page = await browserPage();
    await open(page, '/templates');
    await page.waitForURL(/\/login\?next=%2Ftemplates$/);
    // Local login is on: the password form stays beside the button.
    await page.getByLabel('Password').waitFor();
    await screenshot(page, 'sso-login');
    await signInAtProvider(page, 'jane-0001');

    await page.waitForURL(`${server.url}/templates`);
    await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Jane-Doe', exact: true }).waitFor();
    const jane = (await users()).find((u) => u.email === 'jane@example.com');
    expect(jane).toMatchObject({ username: 'Jane-Doe', groupIds: [groupIds.devs] });

    // Logout: Knot's session ends, then the provider's (its confirmation page), and the browser is back on Knot's login page.
    await page.getByRole('button', { name: 'Jane-Doe', exact: true }).click();
    await page.getByRole('menuitem', { name: 'Log out' }).click();
    await page.waitForURL(`${provider.issuer}/**`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${server.url}/login**`);
    await open(page, '/spaces');
    await page.waitForURL(/\/login/);
  });

  it('finds the same user at the next sign-in by issuer and subject, and moves their groups with the claim', async () => {
    // A new name at the provider makes no new account; the groups claim now names ops only.
    provider.accounts.set('jane-0001', { preferred_username: 'jane.renamed', email: 'jane@example.com', groups: ['OPS'] });
    const before = await users();
    const page = await browserPage();
    await open(page, '/login');
    await signInAtProvider(page, 'jane-0001');
    await page.waitForURL(`${server.url}/spaces`);
    await page.getByRole('button', { name: 'Jane-Doe', exact: true }).waitFor();
    const after = await users();
    expect(after).toHaveLength(before.length);
    expect(after.find((u) => u.username === 'Jane-Doe')).toMatchObject({ id: before.find((u) => u.username === 'Jane-Doe')!.id, groupIds: [groupIds.ops] });
  });

  it('tells an account of single sign-on where it signs in instead of offering a password form, and marks it on the Users page', async () => {
    const page = await browserPage();
    await open(page, '/login');
    await signInAtProvider(page, 'jane-0001');
    await page.waitForURL(`${server.url}/spaces`);
    await open(page, '/profile');
    await page.getByRole('region', { name: 'Password' }).getByText('You sign in with Test IdP. Knot keeps no password for your account: change your password there.').waitFor();
    expect(await page.getByLabel('Current password').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Change password' }).count()).toBe(0);
    await screenshot(page, 'sso-profile');

    const { context, page: adminPage } = await contextAs(browser, server, 'admin');
    contexts.push(context);
    await open(adminPage, '/admin/users');
    await adminPage.locator('tr[data-user="Jane-Doe"]').getByText('SSO · Test IdP', { exact: true }).waitFor();
    expect(await adminPage.locator('tr[data-user="admin"]').getByText('SSO', { exact: false }).count()).toBe(0);
    await screenshot(adminPage, 'users-sso');
  });

  it('gives a second person with a clashing name a unique username', async () => {
    provider.accounts.set('john-0002', { preferred_username: 'jane-doe', email: 'john@example.com' });
    const page = await browserPage();
    await open(page, '/login');
    await signInAtProvider(page, 'john-0002');
    await page.waitForURL(`${server.url}/spaces`);
    await page.getByRole('button', { name: 'jane-doe-2', exact: true }).waitFor();
    // No groups claim at all: groups are left as they are (none for a new user).
    expect((await users()).find((u) => u.email === 'john@example.com')).toMatchObject({ username: 'jane-doe-2', groupIds: [] });
  });

  it('never links by email: a verified email another account has is refused with NAME_TAKEN, an unverified one is not used', async () => {
    provider.accounts.set('imposter-3', { preferred_username: 'imposter', email: 'JANE@example.com', email_verified: true });
    const before = await users();
    const page = await browserPage();
    await open(page, '/login');
    await signInAtProvider(page, 'imposter-3');
    await page.waitForURL(`${server.url}/login?error=NAME_TAKEN`);
    expect(await users()).toHaveLength(before.length);

    provider.accounts.set('imposter-3', { preferred_username: 'imposter', email: 'jane@example.com', email_verified: false });
    const again = await browserPage();
    await open(again, '/login');
    await signInAtProvider(again, 'imposter-3');
    await again.waitForURL(`${server.url}/spaces`);
    expect((await users()).find((u) => u.username === 'imposter')).toMatchObject({ email: 'imposter@users.invalid' });
  });

  it('refuses a deactivated account at the provider\'s door with FORBIDDEN', async () => {
    const john = (await users()).find((u) => u.email === 'john@example.com')!;
    await admin.request(`mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { id } }`, { id: john.id });
    const page = await browserPage();
    await open(page, '/login');
    await signInAtProvider(page, 'john-0002');
    await page.waitForURL(`${server.url}/login?error=FORBIDDEN`);
    expect(await page.getByRole('alert').textContent()).toContain('deactivated');
  });

  for (const [param, code] of [
    ['state', 'OIDC_STATE_INVALID'],
    ['nonce', 'OIDC_NONCE_INVALID'],
  ] as const) {
    it(`refuses a sign-in whose ${param} was tampered with, says why on the login page, and creates nobody`, async () => {
      provider.accounts.set(`mallory-${param}`, { preferred_username: `mallory-${param}`, email: `mallory-${param}@example.com` });
      const before = await users();
      const page = await browserPage();
      // The authorization request leaves Knot with its state and nonce; one of them is changed on the way to the provider.
      provider.tamperNextAuthorization(param, `tampered-${param}`);
      await open(page, '/login');
      await signInAtProvider(page, `mallory-${param}`);
      await page.waitForURL(`${server.url}/login?error=${code}`);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.getAttribute('data-code')).toBe(code);
      expect(await alert.textContent()).toContain(code);
      await screenshot(page, `sso-refused-${param}`);
      expect(await users()).toHaveLength(before.length);
      expect((await admin.request<{ me: { id: string } | null }>(`{ me { id } }`)).data!.me).not.toBeNull();
      const cookies = await page.context().cookies(server.url);
      expect(cookies.some((c) => c.name === 'knot_session')).toBe(false);
    });
  }

  it('refuses a callback with a wrong or missing state or code with a coded error, and creates nobody', async () => {
    const before = await users();
    const callback = (query: string, cookie?: string) => httpGet(`${server.url}/auth/oidc/callback${query}`, cookie ? { cookie } : {});
    const errorOf = (res: { status: number; headers: Record<string, unknown> }) => {
      expect(res.status).toBe(303);
      return new URL(String(res.headers.location), server.url).searchParams.get('error');
    };
    // No sign-in begun in this "browser": whatever it carries is refused.
    expect(errorOf(await callback('?code=x&state=y'))).toBe('OIDC_STATE_INVALID');
    expect(errorOf(await callback(''))).toBe('OIDC_STATE_INVALID');

    // A sign-in begun for real: its flow cookie and the state it sent.
    const begin = await httpGet(`${server.url}/auth/oidc/login?next=/templates`);
    expect(begin.status).toBe(303);
    const authUrl = new URL(String(begin.headers.location));
    expect(authUrl.origin).toBe(provider.issuer);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const state = authUrl.searchParams.get('state')!;
    const flowCookie = String((begin.headers['set-cookie'] as string[])[0]).split(';')[0]!;
    expect(String((begin.headers['set-cookie'] as string[])[0])).toMatch(/HttpOnly; SameSite=Lax/);

    expect(errorOf(await callback(`?code=x&state=wrong`, flowCookie))).toBe('OIDC_STATE_INVALID');
    expect(errorOf(await callback(`?state=${state}`, flowCookie))).toBe('OIDC_CODE_INVALID');
    // The provider names itself in its answers (RFC 9207), so a made-up answer does too, to reach the code exchange.
    expect(errorOf(await callback(`?code=made-up&state=${state}&iss=${encodeURIComponent(provider.issuer)}`, flowCookie))).toBe('OIDC_CODE_INVALID');
    expect(errorOf(await callback(`?error=access_denied&state=${state}`, flowCookie))).toBe('OIDC_DENIED');
    // A flow cookie changed by one character does not open.
    const middle = Math.floor(flowCookie.length / 2);
    const forged = flowCookie.slice(0, middle) + (flowCookie[middle] === 'A' ? 'B' : 'A') + flowCookie.slice(middle + 1);
    expect(errorOf(await callback(`?code=x&state=${state}`, forged))).toBe('OIDC_STATE_INVALID');
    expect(await users()).toHaveLength(before.length);
  });
});

/** KNOT_LOCAL_LOGIN=false on an empty Knot: no first-run form, the first sign-in is the admin, passwords are refused, API tokens work. */
describe('single sign-on with local login turned off', () => {
  let provider: TestOidcProvider;
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureWebBuild();
    provider = await startTestOidcProvider();
    [server, browser] = await Promise.all([
      startTestServer({ config: { localLogin: false, oidc: testOidcConfig(provider.issuer, { name: 'Corp SSO' }) } }),
      launchBrowser(),
    ]);
    server.app.services.config.url = server.url;
    provider.register(server.url);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await provider?.stop();
  });

  it('makes the first person to sign in the admin, and refuses password login and setup with LOCAL_LOGIN_DISABLED', async () => {
    const refusals = await Promise.all([
      server.anonymous.request(`mutation { setup(input: { username: "admin", email: "a@example.com", password: "correct-horse" }) { id } }`),
      server.anonymous.request(`mutation { login(username: "admin", password: "correct-horse") { id } }`),
    ]);
    expect(refusals.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['LOCAL_LOGIN_DISABLED', 'LOCAL_LOGIN_DISABLED']);

    provider.accounts.set('boss-1', { preferred_username: 'boss', email: 'boss@example.com' });
    const context = await browser.newContext({ viewport: WIDE, baseURL: server.url });
    try {
      const page = await context.newPage();
      await page.route(/fonts\.googleapis\.com/, (route) => route.abort());
      await open(page, '/');
      // No first-run form: the login page, with the button and no password form.
      await page.waitForURL('**/login');
      await page.getByRole('link', { name: 'Sign in with Corp SSO' }).waitFor();
      expect(await page.getByLabel('Password').count()).toBe(0);
      await screenshot(page, 'sso-only-login');
      await page.getByRole('link', { name: 'Sign in with Corp SSO' }).click();
      await page.locator('input[name="login"]').fill('boss-1');
      await page.locator('input[name="password"]').fill('any password');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${server.url}/spaces`);
      // The admin's pages are open to them.
      await page.getByRole('link', { name: 'Users' }).waitFor();

      // An API token made in this session works without any password login.
      const token = await page.evaluate(async () => {
        const res = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: 'mutation { createApiToken(name: "cli") { token } }' }),
        });
        return ((await res.json()) as { data: { createApiToken: { token: string } } }).data.createApiToken.token;
      });
      const me = await server.client(token).request<{ me: { username: string } }>(`{ me { username } }`);
      expect(me.data!.me.username).toBe('boss');
    } finally {
      await context.close();
    }
  });
});
