import type { CryptoBox } from '../crypto-box.js';
import { readCookie } from '../auth/viewer.js';

/**
 * What the browser carries from /auth/oidc/login to /auth/oidc/callback: the state, nonce and PKCE
 * verifier of one sign-in and where to go afterwards. Sealed with the installation's key
 * (AES-GCM: a changed byte fails to open), so any replica can read it and nobody can forge or read it;
 * HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET, which Lax lets through)
 * and sent only to /auth/oidc/.
 */
export interface Flow {
  state: string;
  nonce: string;
  codeVerifier: string;
  next: string;
  expiresAt: number;
}

const FLOW_SECONDS = 600;
const PATH = '/auth/oidc/';

export function flowCookieName(secure: boolean): string {
  return secure ? '__Secure-knot_oidc_flow' : 'knot_oidc_flow';
}

export function sealFlow(box: CryptoBox, flow: Omit<Flow, 'expiresAt'>, secure: boolean): { flow: Flow; cookie: string } {
  const full: Flow = { ...flow, expiresAt: Date.now() + FLOW_SECONDS * 1000 };
  const value = encodeURIComponent(box.seal(JSON.stringify(full)));
  return { flow: full, cookie: `${flowCookieName(secure)}=${value}; Path=${PATH}; HttpOnly; SameSite=Lax; Max-Age=${FLOW_SECONDS}${secure ? '; Secure' : ''}` };
}

/** The flow in the request's cookie, or null when it is missing, tampered with or expired. */
export function openFlow(box: CryptoBox, cookieHeader: string | undefined, secure: boolean): Flow | null {
  const sealed = readCookie(cookieHeader, flowCookieName(secure));
  if (!sealed) return null;
  try {
    const flow = JSON.parse(box.open(sealed)) as Flow;
    return flow.expiresAt > Date.now() ? flow : null;
  } catch {
    return null;
  }
}

export function clearFlowCookie(secure: boolean): string {
  return `${flowCookieName(secure)}=; Path=${PATH}; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
}

/** Only a local path, so a crafted sign-in link cannot send someone elsewhere afterwards. */
export function safeNext(next: string | null | undefined): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : '/spaces';
}
