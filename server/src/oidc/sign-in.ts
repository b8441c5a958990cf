import { and, count, eq, inArray, sql } from 'drizzle-orm';
import { groups, sessions, userIdentities, userRoles, users } from '../../../schema/db/index.js';
import { authChanged, SESSION_DAYS, type AccountDeps } from '../auth/accounts.js';
import { ADMIN_ROLE_ID } from '../auth/permissions.js';
import { generateServicePassword, hashToken, newToken, NO_PASSWORD } from '../auth/secrets.js';
import { checkEmail } from '../auth/validation.js';
import type { UserRow } from '../auth/viewer.js';
import { recordAudit } from '../audit.js';
import type { OidcConfig } from '../config.js';
import type { Db } from '../db.js';
import { KnotError } from '../errors.js';
import { setUserGroups } from '../groups/store.js';
import { recordUserEvent } from '../webhooks/events.js';
import { sanitizeUsername, uniqueUsername } from './username.js';

export interface VerifiedClaims {
  iss: string;
  sub: string;
  [claim: string]: unknown;
}

/**
 * Signs in the provider's user (issuer, subject): finds the Knot user linked to that pair, or
 * creates one on the first sign-in; syncs its groups from the groups claim when one is configured;
 * starts a session. Serialised with the first-run setup (same lock), so the first account of an
 * empty Knot, made either way, is the one admin.
 */
export async function signInWithOidc(
  deps: AccountDeps,
  settings: OidcConfig,
  claims: VerifiedClaims,
  idToken: string,
): Promise<{ token: string; user: UserRow; created: boolean }> {
  const token = newToken('knots');
  const result = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(4242002)`);
    const [linked] = await tx
      .select({ user: users })
      .from(userIdentities)
      .innerJoin(users, eq(users.id, userIdentities.userId))
      .where(and(eq(userIdentities.issuer, claims.iss), eq(userIdentities.subject, claims.sub)));
    let user = linked?.user;
    const created = !user;
    if (user) {
      if (!user.active) throw new KnotError('FORBIDDEN', 'This account is deactivated. Ask an admin to reactivate it.');
      await tx
        .update(userIdentities)
        .set({ lastSignInAt: new Date() })
        .where(and(eq(userIdentities.issuer, claims.iss), eq(userIdentities.subject, claims.sub)));
    } else {
      user = await createLinkedUser(tx, settings, claims);
    }
    const groupIds = settings.groupsClaim ? await syncGroups(tx, user, claims, claims[settings.groupsClaim]) : null;
    await tx.insert(sessions).values({
      id: hashToken(token),
      userId: user.id,
      expiresAt: new Date(Date.now() + SESSION_DAYS * 86_400_000),
      oidcIdToken: idToken,
    });
    await recordAudit(tx, { id: user.id, name: user.username }, {
      action: 'login',
      objectType: 'user',
      objectId: user.id,
      details: { method: 'oidc', issuer: claims.iss, ...(groupIds ? { groupIds } : {}) },
    });
    return { user, created, groupsChanged: groupIds !== null };
  });
  // Cached viewers of this user carry what the groups allowed: every replica forgets them.
  if (result.groupsChanged && !result.created) await authChanged(deps, { userId: result.user.id });
  return { token, user: result.user, created: result.created };
}

async function createLinkedUser(tx: Db, settings: OidcConfig, claims: VerifiedClaims): Promise<UserRow> {
  const email = emailOf(claims);
  const wanted = sanitizeUsername(stringClaim(claims, settings.usernameClaim) ?? email?.split('@')[0] ?? claims.sub);
  const base = wanted.toLowerCase();
  const clashes = await tx
    .select({ username: users.username })
    .from(users)
    .where(sql`lower(${users.username}) = ${base} or lower(${users.username}) like ${`${base.slice(0, 28)}-%`}`);
  const username = uniqueUsername(wanted, new Set(clashes.map((c) => c.username.toLowerCase())));
  if (email) {
    const [taken] = await tx.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = lower(${email})`);
    // Never linked by email: whoever controls an address at the provider would take over the Knot account.
    if (taken) {
      throw new KnotError(
        'NAME_TAKEN',
        `A Knot account with the email ${email} already exists and is not linked to this sign-in. Ask an admin to change that account's email.`,
        { field: 'email' },
      );
    }
  }
  const [{ n }] = (await tx.select({ n: count() }).from(users)) as [{ n: number }];
  const [user] = await tx
    .insert(users)
    .values({
      username,
      // A provider without an email claim: a placeholder in the reserved .invalid domain, which the user may change.
      email: email ?? `${username.toLowerCase()}@users.invalid`,
      passwordHash: NO_PASSWORD,
      servicePassword: generateServicePassword(),
    })
    .returning();
  await tx.insert(userIdentities).values({ userId: user!.id, issuer: claims.iss, subject: claims.sub });
  await recordUserEvent(tx, 'user.created', user!);
  // The first account of an empty Knot is its admin, as with the first-run form.
  if (n === 0) await tx.insert(userRoles).values({ userId: user!.id, roleId: ADMIN_ROLE_ID });
  await recordAudit(tx, { id: user!.id, name: username }, {
    action: 'createUser',
    objectType: 'user',
    objectId: user!.id,
    details: { username, via: 'oidc', issuer: claims.iss, admin: n === 0 },
  });
  return user!;
}

/**
 * The user is put in the Knot groups the claim names (matched by name, case-insensitively) and
 * taken out of every other. Names with no Knot group are ignored. A token without the claim
 * leaves the groups as they are: a provider that leaves it out has not said "no groups".
 */
async function syncGroups(tx: Db, user: UserRow, identity: VerifiedClaims, claim: unknown): Promise<string[] | null> {
  if (claim === undefined || claim === null) return null;
  const names = (Array.isArray(claim) ? claim : [claim]).filter((n): n is string => typeof n === 'string').map((n) => n.toLowerCase());
  // Kept so a group manager cannot name a group after one of their own (groups/store.ts).
  await tx
    .update(userIdentities)
    .set({ groupNames: [...new Set(names)] })
    .where(and(eq(userIdentities.issuer, identity.iss), eq(userIdentities.subject, identity.sub)));
  const wanted = names.length
    ? await tx.select({ id: groups.id }).from(groups).where(inArray(sql`lower(${groups.name})`, names))
    : [];
  const ids = wanted.map((g) => g.id).sort();
  await setUserGroups(tx, user.id, ids);
  return ids;
}

function stringClaim(claims: VerifiedClaims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The email claim, unless the provider says it did not verify it: an unverified address could squat a colleague's. */
function emailOf(claims: VerifiedClaims): string | undefined {
  const email = stringClaim(claims, 'email');
  if (!email || claims.email_verified === false) return undefined;
  try {
    return checkEmail(email);
  } catch {
    return undefined;
  }
}
