/**
 * The terminal session a browser tab shows, per space, so a refresh of the page reattaches to the
 * same shell. Per tab (sessionStorage): another tab opens a shell of its own unless the person
 * picks an existing session from the list.
 */
const key = (spaceId: string) => `knot.terminal.${spaceId}`;

export function rememberedSession(spaceId: string): string | null {
  try {
    return sessionStorage.getItem(key(spaceId));
  } catch {
    return null;
  }
}

export function rememberSession(spaceId: string, sessionId: string | null) {
  try {
    if (sessionId) sessionStorage.setItem(key(spaceId), sessionId);
    else sessionStorage.removeItem(key(spaceId));
  } catch {
    // Storage disabled: a refresh then opens a new shell, the old one stays in the session list.
  }
}
