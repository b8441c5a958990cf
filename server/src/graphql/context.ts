import type { Services } from '../services.js';
import type { Viewer } from '../auth/viewer.js';
import { KnotError, forbidden, unauthenticated } from '../errors.js';
import { can } from '../auth/viewer.js';
import type { Permission } from '../auth/permissions.js';

export interface Context {
  services: Services;
  viewer: Viewer | null;
  /** A token was presented but is unknown, expired or revoked: say so rather than act anonymous. */
  credentialRejected: boolean;
  /** Where the request came from (auth/client-address.ts), for the login throttle. */
  clientAddress: string;
  /**
   * Resolves the request's credential again (HTTP only; WebSockets re-check on their own), so a
   * subscription served over server-sent events can end when the credential is revoked.
   */
  recheckViewer?: () => Promise<Viewer | null>;
  /** Queues a Set-Cookie header on the HTTP response (no-op over WebSocket). */
  setCookie(cookie: string): void;
}

/**
 * The signed-in viewer, for every field. While an admin requires two-factor sign-in and the viewer
 * has none yet, every field but the few that enrol answers TOTP_SETUP_REQUIRED.
 */
export function requireViewer(ctx: Context): Viewer {
  const viewer = requireEnrollingViewer(ctx);
  if (viewer.mustEnrolTotp) {
    throw new KnotError('TOTP_SETUP_REQUIRED', 'Two-factor sign-in is required on this server: set up an authenticator app on your Account page first.');
  }
  return viewer;
}

/** Only for the fields a viewer who must enrol may use: me, logout, enableTotp, confirmTotp. */
export function requireEnrollingViewer(ctx: Context): Viewer {
  if (ctx.viewer) return ctx.viewer;
  if (ctx.credentialRejected) {
    throw new KnotError('UNAUTHENTICATED', 'Your API token is not valid: it is unknown, expired or revoked.');
  }
  throw unauthenticated();
}

export function requirePermission(ctx: Context, permission: Permission, what: string): Viewer {
  const viewer = requireViewer(ctx);
  if (!can(viewer, permission)) throw forbidden(what);
  return viewer;
}
