import { and, eq, gt, isNotNull, isNull, or, sql } from 'drizzle-orm';
import { apiTokens, roles, serverSettings, sessions, totpCredentials, userIdentities, userRoles, users } from '../../../schema/db/index.js';
import type { Db } from '../db.js';
import type { PubSub } from '../pubsub.js';
import { hashToken } from './secrets.js';
import { ADMIN_ROLE_ID, isPermission, type Permission } from './permissions.js';

export type UserRow = typeof users.$inferSelect;

/** Who is asking, resolved once per request or WebSocket connection. */
export interface Viewer {
  user: UserRow;
  permissions: ReadonlySet<Permission>;
  isAdmin: boolean;
  /** How they proved it: revoking that credential ends this viewer. */
  credential: { kind: 'session' | 'token'; id: string; expiresAt: Date | null };
  /**
   * An admin requires two-factor sign-in for everyone and this user has none yet: they may only
   * enrol (see `requireViewer` in graphql/context.ts); routes into spaces treat them as signed out.
   */
  mustEnrolTotp?: boolean;
}

export const SESSION_COOKIE = 'knot_session';

/** Rights the viewer had before and no longer has: what was authorised under them must end. */
export function lostRights(before: Viewer, after: Viewer): boolean {
  if (after.user.id !== before.user.id) return true;
  if (before.isAdmin && !after.isAdmin) return true;
  return [...before.permissions].some((p) => !after.isAdmin && !after.permissions.has(p));
}

/**
 * Over https the session cookie is `__Host-` prefixed: the browser then accepts it only from Knot's
 * own host, Secure, with `Path=/` and no `Domain`, so no other host under the same domain (a
 * space's port host, say) can plant or overwrite it.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

export function can(viewer: Viewer | null, permission: Permission): boolean {
  return !!viewer && (viewer.isAdmin || viewer.permissions.has(permission));
}

export async function loadPermissions(db: Db, userId: string): Promise<{ permissions: Set<Permission>; isAdmin: boolean }> {
  const rows = await db
    .select({ id: roles.id, permissions: roles.permissions })
    .from(userRoles)
    .innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(eq(userRoles.userId, userId));
  const permissions = new Set<Permission>();
  for (const row of rows) for (const p of row.permissions) if (isPermission(p)) permissions.add(p);
  return { permissions, isAdmin: rows.some((r) => r.id === ADMIN_ROLE_ID) };
}

/**
 * True when two-factor sign-in is required for everyone and the user has not confirmed an
 * authenticator. Accounts of single sign-on are exempt: they have no password here, and their
 * second factor is the identity provider's (docs/sso.md).
 */
async function mustEnrolTotp(db: Db, userId: string): Promise<boolean> {
  const [row] = await db
    .select({
      required: serverSettings.requireTwoFactor,
      enrolled: sql<boolean>`exists (${db
        .select({ one: sql`1` })
        .from(totpCredentials)
        .where(and(eq(totpCredentials.userId, userId), isNotNull(totpCredentials.confirmedAt)))})`,
      linked: sql<boolean>`exists (${db.select({ one: sql`1` }).from(userIdentities).where(eq(userIdentities.userId, userId))})`,
    })
    .from(serverSettings);
  return !!row?.required && !row.enrolled && !row.linked;
}

/**
 * Resolves cookies and Bearer tokens to viewers. Lookups are cached for a few seconds because every
 * request needs one; any change that could revoke access publishes an `auth` event, which empties
 * the cache on every replica, so a revoked token stops working at once, not after the TTL.
 */
export class ViewerResolver {
  private cache = new Map<string, { viewer: Viewer | null; expires: number }>();
  private lastUsedWritten = new Map<string, number>();
  private readonly ttlMs = 10_000;

  constructor(
    private db: Db,
    pubsub: PubSub,
    /** The session cookie's name (sessionCookieName). */
    readonly sessionCookie = SESSION_COOKIE,
  ) {
    pubsub.on('auth', () => this.cache.clear());
  }

  async fromSessionToken(token: string): Promise<Viewer | null> {
    return this.cached(`s:${hashToken(token)}`, async (id) => {
      const [row] = await this.db
        .select({ user: users, expiresAt: sessions.expiresAt })
        .from(sessions)
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(and(eq(sessions.id, id), gt(sessions.expiresAt, new Date())));
      return row ? this.build(row.user, { kind: 'session', id, expiresAt: row.expiresAt }) : null;
    });
  }

  async fromApiToken(token: string): Promise<Viewer | null> {
    return this.cached(`t:${hashToken(token)}`, async (hash) => {
      const now = new Date();
      const [row] = await this.db
        .select({ user: users, tokenId: apiTokens.id, expiresAt: apiTokens.expiresAt })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .where(
          and(
            eq(apiTokens.tokenHash, hash),
            isNull(apiTokens.revokedAt),
            or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
          ),
        );
      if (!row) return null;
      this.touchToken(row.tokenId);
      return this.build(row.user, { kind: 'token', id: row.tokenId, expiresAt: row.expiresAt });
    });
  }

  invalidateAll(): void {
    this.cache.clear();
  }

  private async cached(key: string, load: (hash: string) => Promise<Viewer | null>): Promise<Viewer | null> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.viewer;
    const viewer = await load(key.slice(2));
    if (this.cache.size > 10_000) this.cache.clear();
    // A credential that expires within the TTL must not outlive its expiry in the cache.
    const credentialEnds = viewer?.credential.expiresAt?.getTime() ?? Infinity;
    this.cache.set(key, { viewer, expires: Math.min(Date.now() + this.ttlMs, credentialEnds) });
    return viewer;
  }

  private async build(user: UserRow, credential: Viewer['credential']): Promise<Viewer | null> {
    if (!user.active) return null;
    const [{ permissions, isAdmin }, enrolOnly] = await Promise.all([loadPermissions(this.db, user.id), mustEnrolTotp(this.db, user.id)]);
    return { user, permissions, isAdmin, credential, mustEnrolTotp: enrolOnly };
  }

  /** "Last used" is for people, so minute precision is plenty and saves a write per request. */
  private touchToken(tokenId: string): void {
    const last = this.lastUsedWritten.get(tokenId) ?? 0;
    if (Date.now() - last < 60_000) return;
    this.lastUsedWritten.set(tokenId, Date.now());
    void this.db
      .update(apiTokens)
      .set({ lastUsedAt: new Date() })
      .where(eq(apiTokens.id, tokenId))
      .catch(() => {});
  }
}

export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value; // not %-encoded as we write it, so it cannot be our cookie; let the lookup fail
      }
    }
  }
  return undefined;
}

/**
 * The session token in a Cookie header. Two session cookies mean one was planted (a sibling
 * host's `Domain=` cookie, or one with a narrower Path): which one the browser sends first is the
 * planter's choice, so then neither counts.
 */
export function sessionTokenOf(resolver: Pick<ViewerResolver, 'sessionCookie'>, cookieHeader: string | null | undefined): string | undefined {
  if (cookieCount(cookieHeader, resolver.sessionCookie) > 1) return undefined;
  return readCookie(cookieHeader, resolver.sessionCookie);
}

function cookieCount(header: string | null | undefined, name: string): number {
  if (!header) return 0;
  return header.split(';').filter((part) => part.slice(0, Math.max(0, part.indexOf('='))).trim() === name).length;
}

/** The one place that turns request headers (HTTP or WebSocket upgrade) into a viewer. */
export async function viewerFromHeaders(
  resolver: ViewerResolver,
  headers: { authorization?: string | null; cookie?: string | null },
  connectionToken?: unknown,
): Promise<Viewer | null | 'invalid'> {
  const bearer = headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = typeof connectionToken === 'string' && connectionToken ? connectionToken : bearer;
  if (token) return (await resolver.fromApiToken(token)) ?? 'invalid';
  const session = sessionTokenOf(resolver, headers.cookie);
  if (session) return (await resolver.fromSessionToken(session)) ?? null;
  return null;
}
