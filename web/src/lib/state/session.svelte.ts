import { mutate, query, resetSocket } from '../api/client.js';
import { LOGIN, LOGOUT, PROVIDER_LOGOUT_URL, SESSION, SETUP } from '../api/documents.js';
import { takeEarlySession } from '../api/early.js';
import type { ResultOf } from '../../../../schema/client/graphql.js';
import type { Permission, ServerInfo, User } from '../api/types.js';
import { permissionsOf } from './permissions.js';

type SessionData = ResultOf<typeof SESSION>;

/**
 * Asked for as soon as this module loads, before the page's own code has arrived: every page
 * waits on it, so it should not wait on them.
 */
let early: Promise<SessionData> | null = typeof window === 'undefined' ? null : (takeEarlySession() ?? query(SESSION));
early?.catch(() => {});

/** Who is logged in and what they may do; loaded once per page load and after login/logout. */
class Session {
  #me = $state<User | null>(null);
  #server = $state<ServerInfo | null>(null);
  #loaded = $state(false);
  #permissions = $derived(permissionsOf(this.#me));

  get me() {
    return this.#me;
  }
  get server() {
    return this.#server;
  }
  get loaded() {
    return this.#loaded;
  }

  can(permission: Permission): boolean {
    return this.#permissions.has(permission);
  }

  /** True when any admin page is open to this user. */
  get isAdmin(): boolean {
    return this.can('MANAGE_USERS') || this.can('MANAGE_ROLES') || this.can('MANAGE_VARIABLES') || this.can('MANAGE_GROUPS');
  }

  async load() {
    const pending = early ?? query(SESSION);
    early = null;
    const data = await pending;
    // The session ended under us: the live socket was opened with it.
    if (this.#me && !data.me) resetSocket();
    this.#server = data.serverInfo;
    this.#me = data.me;
    this.#loaded = true;
  }

  /** The profile page saves and hands back the fresh record. */
  replaceMe(user: User) {
    this.#me = user;
  }

  async setup(input: { username: string; email: string; password: string; timezone?: string }) {
    await mutate(SETUP, { input });
    await this.load();
  }

  /** With two-factor sign-in on, the server answers TOTP_REQUIRED until `second` carries a code. */
  async login(username: string, password: string, second: { totp?: string; recoveryCode?: string } = {}) {
    await mutate(LOGIN, { username, password, ...second });
    resetSocket();
    await this.load();
  }

  /** Ends the Knot session; returns the identity provider's logout page when the session came from single sign-on. */
  async logout(): Promise<string | null> {
    try {
      const { providerLogoutUrl } = await query(PROVIDER_LOGOUT_URL).catch(() => ({ providerLogoutUrl: null }));
      await mutate(LOGOUT);
      return providerLogoutUrl ?? null;
    } finally {
      resetSocket();
      this.#me = null;
    }
  }
}

export const session = new Session();
