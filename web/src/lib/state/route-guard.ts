/**
 * Where a visitor must go before seeing `path`: the first-run form on an empty Knot, the login
 * form when nobody is logged in (remembering where they were going), and away from those forms
 * once logged in, and to the profile's two-factor setup while an admin requires it and the account
 * has none. Null: stay.
 */
const PROFILE = '/profile';
export function redirectFor(
  state: { setupRequired: boolean; loggedIn: boolean; mustEnrolTotp?: boolean },
  path: string,
  search = '',
): string | null {
  if (state.setupRequired) return path === '/setup' ? null : '/setup';
  if (!state.loggedIn) {
    if (path === '/login') return null;
    const wanted = path === '/' || path === '/setup' ? '' : `?next=${encodeURIComponent(path + search)}`;
    return `/login${wanted}`;
  }
  // Two-factor sign-in is required and this account has none yet: nothing else works until it does.
  if (state.mustEnrolTotp) return path === PROFILE ? null : PROFILE;
  if (path === '/' || path === '/login' || path === '/setup') return safeNext(new URLSearchParams(search).get('next'));
  return null;
}

/** Only a local path, so a crafted link cannot send someone elsewhere after login. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/spaces';
}
