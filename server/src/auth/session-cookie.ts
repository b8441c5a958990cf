import { sessionCookieName } from './viewer.js';

const SESSION_SECONDS = 30 * 86_400;

/** The browser session's cookie, as both password login and single sign-on set it (maxAge 0 clears it). */
export function sessionCookieHeader(config: { secureCookies: boolean }, token: string, maxAgeSeconds = SESSION_SECONDS): string {
  const secure = config.secureCookies ? '; Secure' : '';
  return `${sessionCookieName(config.secureCookies)}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`;
}
