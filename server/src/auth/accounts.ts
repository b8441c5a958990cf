import { and, count, eq, isNull, ne, sql } from 'drizzle-orm';
import { apiTokens, roles, sessions, spaces, userRoles, users } from '../../../schema/db/index.js';
import { recordUserEvent } from '../webhooks/events.js';
import { replanSpaces } from '../scheduler/replan.js';
import { recordAudit } from '../audit.js';
import type { Db } from '../db.js';
import { KnotError, badInput, notFound } from '../errors.js';
import type { EventMap, PubSub } from '../pubsub.js';
import type { LoginThrottle } from './login-throttle.js';
import { nameTakenOnRace } from './unique.js';
import { ADMIN_ROLE_ID } from './permissions.js';
import { generateServicePassword, hasLocalPassword, hashPassword, hashToken, needsRehash, newToken, verifyPassword, type ScryptCost } from './secrets.js';
import {
  LIMITS,
  checkEmail,
  checkLength,
  checkPassword,
  checkServicePassword,
  checkShell,
  checkSshPublicKey,
  checkTimezone,
  checkUsername,
  isUuid,
} from './validation.js';
import type { UserRow, Viewer, ViewerResolver } from './viewer.js';

export interface AccountDeps {
  db: Db;
  pubsub: PubSub;
  viewers: Pick<ViewerResolver, 'invalidateAll'>;
  /** `oidc`: to name the provider to an account of single sign-on. */
  config: { passwordHashCost: ScryptCost; autoStopWarningSeconds: number; oidc?: { name: string } | undefined };
  loginThrottle: LoginThrottle;
}

/**
 * After a change that can end or alter a login: this replica forgets its cached viewers at once
 * (so the very next request sees the change, without waiting for our own NOTIFY to come back),
 * then every replica hears the `auth` event (caches, open WebSockets).
 */
export async function authChanged(deps: AccountDeps, payload: EventMap['auth']): Promise<void> {
  deps.viewers.invalidateAll();
  await deps.pubsub.publish('auth', payload);
}

/**
 * Ends every session and API token of a user, except `keep`: the credential making the change
 * (a password change keeps the session that made it). Callers publish `authChanged` afterwards,
 * which closes WebSockets and ends server-sent-event subscriptions that used the others.
 */
export async function endCredentials(db: Db, userId: string, keep?: Viewer['credential']): Promise<void> {
  await db
    .delete(sessions)
    .where(and(eq(sessions.userId, userId), keep?.kind === 'session' ? ne(sessions.id, keep.id) : undefined));
  await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt), keep?.kind === 'token' ? ne(apiTokens.id, keep.id) : undefined));
}

export const SESSION_DAYS = 30;
/**
 * Verified against when the username is unknown, so timing does not reveal which usernames exist;
 * made once per cost (at the configured cost, like every real hash) when first needed.
 */
const dummyHashes = new Map<string, Promise<string>>();
function dummyHash(cost: ScryptCost): Promise<string> {
  const key = JSON.stringify(cost);
  if (!dummyHashes.has(key)) dummyHashes.set(key, hashPassword('knot-dummy-password', cost));
  return dummyHashes.get(key)!;
}

export interface NewUserInput {
  username: string;
  email: string;
  password: string;
  preferredShell?: string | null;
  timezone?: string | null;
  roleIds?: string[] | null;
}

async function insertUser(db: Db, input: NewUserInput, cost: ScryptCost): Promise<UserRow> {
  const values = {
    username: checkUsername(input.username),
    email: checkEmail(input.email),
    passwordHash: await hashPassword(checkPassword(input.password), cost),
    preferredShell: checkShell(input.preferredShell ?? 'bash'),
    timezone: checkTimezone(input.timezone ?? 'UTC'),
    servicePassword: generateServicePassword(),
  };
  const clash = await db
    .select({ username: users.username, email: users.email })
    .from(users)
    .where(sql`lower(${users.username}) = lower(${values.username}) or lower(${users.email}) = lower(${values.email})`);
  if (clash.some((c) => c.username.toLowerCase() === values.username.toLowerCase())) {
    throw new KnotError('NAME_TAKEN', `The username "${values.username}" is already taken.`, { field: 'username' });
  }
  if (clash.length) {
    throw new KnotError('NAME_TAKEN', `The email ${values.email} is already used by another user.`, { field: 'email' });
  }
  const [user] = await db
    .insert(users)
    .values(values)
    .returning()
    .catch(nameTakenOnRace('username', `The username "${values.username}" or the email ${values.email} is already taken.`));
  // In the caller's transaction: every way a user comes to be (an admin, setup, a first sign-in) is announced once.
  await recordUserEvent(db, 'user.created', user!);
  return user!;
}

/** The first user becomes admin; afterwards setup is refused. Serialised so two racing setups get one admin. */
export async function setup(deps: AccountDeps, input: NewUserInput): Promise<UserRow> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(4242002)`);
    const [existing] = await tx.select({ n: count() }).from(users);
    if (existing!.n > 0) {
      throw new KnotError('ALREADY_SET_UP', 'Knot is already set up. Log in, or ask an admin for an account.');
    }
    const user = await insertUser(tx, input, deps.config.passwordHashCost);
    await tx.insert(userRoles).values({ userId: user.id, roleId: ADMIN_ROLE_ID });
    await recordAudit(tx, { id: user.id, name: user.username }, { action: 'setup', objectType: 'user', objectId: user.id });
    return user;
  });
}

export async function needsSetup(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(users);
  return row!.n === 0;
}

/**
 * Returns the session token for the cookie. `address` is the client's, for the throttle
 * (login-throttle.ts): the attempt is reserved before any password is hashed, and an unknown
 * username is throttled, hashed and refused exactly like a known one.
 */
export async function login(
  deps: AccountDeps,
  username: string,
  password: string,
  address: string,
  /** Runs once the password is found right, before any session exists (two-factor.ts's checkSecondFactor). */
  secondFactor?: (user: UserRow) => Promise<void>,
): Promise<{ token: string; user: UserRow }> {
  // No account has a name or password this long, so say so plainly (and spare scrypt a 10 MB input).
  if (username.length > LIMITS.email) throw badInput('username', `A username or email is at most ${LIMITS.email} characters.`);
  if (password.length > LIMITS.password) throw badInput('password', `A password is at most ${LIMITS.password} characters.`);
  const reservation = deps.loginThrottle.reserve(username, address);
  if (!reservation.ok) {
    const seconds = Math.ceil(reservation.waitMs / 1000);
    throw new KnotError('TOO_MANY_ATTEMPTS', `Too many failed logins. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds });
  }
  const cost = deps.config.passwordHashCost;
  const [user] = await deps.db
    .select()
    .from(users)
    .where(sql`lower(${users.username}) = lower(${username}) or lower(${users.email}) = lower(${username})`)
    .limit(1);
  const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyHash(cost)));
  if (!user || !matches) throw new KnotError('UNAUTHENTICATED', 'The username or password is wrong.');
  reservation.succeeded();
  if (!user.active) throw new KnotError('FORBIDDEN', 'This account is deactivated. Ask an admin to reactivate it.');
  await secondFactor?.(user);
  // A hash made at a lower cost (or before the cost was stored) is replaced while the password is at hand.
  const upgraded = needsRehash(user.passwordHash, cost) ? await hashPassword(password, cost) : null;
  const token = newToken('knots');
  await deps.db.transaction(async (tx) => {
    if (upgraded) {
      // Only if nobody changed the password meanwhile.
      await tx.update(users).set({ passwordHash: upgraded }).where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash)));
    }
    await tx.insert(sessions).values({
      id: hashToken(token),
      userId: user.id,
      expiresAt: new Date(Date.now() + SESSION_DAYS * 86_400_000),
    });
    await recordAudit(tx, { id: user.id, name: user.username }, { action: 'login', objectType: 'user', objectId: user.id });
  });
  return { token, user };
}

export async function logout(deps: AccountDeps, viewer: Viewer): Promise<void> {
  if (viewer.credential.kind === 'session') {
    const sessionId = viewer.credential.id;
    await deps.db.transaction(async (tx) => {
      await tx.delete(sessions).where(eq(sessions.id, sessionId));
      await recordAudit(tx, viewer, { action: 'logout', objectType: 'user', objectId: viewer.user.id });
    });
    await authChanged(deps, { userId: viewer.user.id });
  }
}

/**
 * A token that expires (handed to a CI job, say) must not mint one that lives longer: its expiry
 * would mean nothing to whoever holds it. Sessions and tokens that never expire may make any.
 */
function checkOutlives(viewer: Viewer, expiresAt: Date | null) {
  const limit = viewer.credential.kind === 'token' ? viewer.credential.expiresAt : null;
  if (!limit || (expiresAt && expiresAt <= limit)) return;
  throw new KnotError(
    'FORBIDDEN',
    `The API token you are using expires on ${limit.toISOString()}; a token it creates must expire by then too.`,
    { field: 'expiresInDays' },
  );
}

export async function createApiToken(deps: AccountDeps, viewer: Viewer, name: string, expiresInDays?: number | null) {
  const label = checkLength('name', name, LIMITS.tokenName, 'token name');
  if (expiresInDays != null && (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > 3650)) {
    throw badInput('expiresInDays', 'A token expires after 1 to 3650 days, or never.');
  }
  const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null;
  checkOutlives(viewer, expiresAt);
  const token = newToken('knot');
  const row = await deps.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(apiTokens)
      .values({
        userId: viewer.user.id,
        name: label,
        tokenHash: hashToken(token),
        expiresAt,
      })
      .returning();
    await recordAudit(tx, viewer, { action: 'createApiToken', objectType: 'apiToken', objectId: inserted!.id, details: { name: label } });
    return inserted!;
  });
  return { token, row };
}

export async function revokeApiToken(deps: AccountDeps, viewer: Viewer, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound('That API token');
  await deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, viewer.user.id), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    if (!row) throw notFound('That API token');
    await recordAudit(tx, viewer, { action: 'revokeApiToken', objectType: 'apiToken', objectId: id });
  });
  await authChanged(deps, { userId: viewer.user.id });
}

export interface ProfileInput {
  email?: string | null;
  currentPassword?: string | null;
  newPassword?: string | null;
  preferredShell?: string | null;
  timezone?: string | null;
  sshPublicKey?: string | null;
  /** An empty string asks for a newly generated one, as the guide says ("if not set the system will generate"). */
  servicePassword?: string | null;
}

/**
 * `address` is the client's: checking `currentPassword` is a password check like a login, so it
 * goes through the same throttle (a stolen session must not become a fast password oracle).
 */
export async function updateProfile(deps: AccountDeps, viewer: Viewer, input: ProfileInput, address: string): Promise<UserRow> {
  const changes: Partial<typeof users.$inferInsert> = {};
  if (input.email != null) changes.email = checkEmail(input.email);
  if (input.preferredShell != null) changes.preferredShell = checkShell(input.preferredShell);
  if (input.timezone != null) changes.timezone = checkTimezone(input.timezone);
  if (input.sshPublicKey != null) changes.sshPublicKey = checkSshPublicKey(input.sshPublicKey);
  if (input.servicePassword != null) {
    changes.servicePassword = input.servicePassword === '' ? generateServicePassword() : checkServicePassword(input.servicePassword);
  }
  if (input.newPassword != null) {
    // Said plainly: "the current password is wrong" would send the user looking for one that never existed.
    if (!hasLocalPassword(viewer.user.passwordHash)) {
      const provider = deps.config.oidc?.name ?? 'your identity provider';
      throw new KnotError(
        'NO_LOCAL_PASSWORD',
        `Your account signs in with ${provider} and has no password in Knot to change. Change your password at ${provider}.`,
        { field: 'newPassword' },
      );
    }
    checkPassword(input.newPassword, 'newPassword');
    if (!input.currentPassword) throw badInput('currentPassword', 'The current password is wrong.');
    const reservation = deps.loginThrottle.reserve(viewer.user.username, address);
    if (!reservation.ok) {
      const seconds = Math.ceil(reservation.waitMs / 1000);
      throw new KnotError('TOO_MANY_ATTEMPTS', `Too many wrong passwords. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds });
    }
    if (!(await verifyPassword(input.currentPassword.slice(0, LIMITS.password), viewer.user.passwordHash))) {
      throw badInput('currentPassword', 'The current password is wrong.');
    }
    reservation.succeeded();
    changes.passwordHash = await hashPassword(input.newPassword, deps.config.passwordHashCost);
  }
  if (changes.email) {
    const [clash] = await deps.db
      .select({ id: users.id })
      .from(users)
      .where(and(sql`lower(${users.email}) = lower(${changes.email})`, sql`${users.id} <> ${viewer.user.id}`));
    if (clash) throw new KnotError('NAME_TAKEN', `The email ${changes.email} is already used by another user.`, { field: 'email' });
  }
  const changed = Object.keys(changes).map((k) => (k === 'passwordHash' ? 'password' : k));
  const user = await deps.db
    .transaction(async (tx) => {
      const [row] = await tx
        .update(users)
        .set({ ...changes, updatedAt: new Date() })
        .where(eq(users.id, viewer.user.id))
        .returning();
      // Whoever knew the old password may hold a session or token made with it: they all end.
      if (changes.passwordHash) await endCredentials(tx, viewer.user.id, viewer.credential);
      await recordAudit(tx, viewer, { action: 'updateProfile', objectType: 'user', objectId: viewer.user.id, details: { changed } });
      return row!;
    })
    .catch(nameTakenOnRace('email', `The email ${changes.email} is already used by another user.`));
  // Cached viewers carry the user row (and its service password): refresh them everywhere.
  await authChanged(deps, { userId: viewer.user.id });
  // Schedules are read in the owner's time zone: running spaces' window ends move with it.
  if (changes.timezone) await replanSpaces(deps, eq(spaces.ownerId, viewer.user.id));
  return user;
}

export async function ensureBuiltInRoles(db: Db): Promise<void> {
  await db
    .insert(roles)
    .values({ id: ADMIN_ROLE_ID, name: 'Admin', permissions: [], builtIn: true })
    .onConflictDoNothing();
}

export { insertUser };
