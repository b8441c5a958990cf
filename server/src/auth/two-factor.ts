import { randomBytes } from 'node:crypto';
import { and, eq, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import { totpCredentials, totpRecoveryCodes, users } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { CryptoBox } from '../crypto-box.js';
import type { Db } from '../db.js';
import { KnotError, badInput, notFound } from '../errors.js';
import { authChanged, type AccountDeps } from './accounts.js';
import { hashToken, verifyPassword } from './secrets.js';
import { checkWithinReach } from './user-admin.js';
import { LIMITS, isUuid } from './validation.js';
import type { UserRow, Viewer } from './viewer.js';
import type { Reservation } from './login-throttle.js';

/**
 * TOTP two-factor sign-in for local accounts (RFC 6238: SHA-1, six digits, 30-second steps, the
 * parameters every authenticator app understands). docs/security.md describes the whole flow.
 */
export interface TwoFactorDeps extends AccountDeps {
  box: CryptoBox;
  config: AccountDeps['config'] & { url: string };
}

const PERIOD_SECONDS = 30;
/** One step either side: a phone whose clock is off by up to 30 s, or a code typed as it rolled over. */
const WINDOW = 1;
const RECOVERY_CODES = 10;

export interface TotpSetup {
  secret: string;
  uri: string;
  /** The URI as a QR code: an SVG image in a data URL, for an <img> (no markup to inject). */
  qrCode: string;
}

function totpFor(secret: string, username: string, serverUrl: string): TOTP {
  return new TOTP({
    issuer: 'Knot',
    label: `${username}@${new URL(serverUrl).host}`,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });
}

/** The time step a code belongs to, or null when it matches none within the window. */
export function codeStep(totp: TOTP, code: string, now = Date.now()): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totp.validate({ token, timestamp: now, window: WINDOW });
  return delta === null ? null : totp.counter({ timestamp: now }) + delta;
}

/** Crockford's base32: no i, l, o or u, so a code read aloud or from paper is typed right. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** 16 characters of 5 random bits each (80 bits), shown as four groups: `abcd-efgh-jkmn-pqrs`. */
function newRecoveryCode(): string {
  const chars = [...randomBytes(16)].map((b) => RECOVERY_ALPHABET[b & 31]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** Case, dashes and spaces do not matter, and the letters people confuse with digits read as them. */
function normaliseRecoveryCode(code: string): string {
  return code
    .toLowerCase()
    .replace(/[^0-9a-z]/g, '')
    .replace(/[il]/g, '1')
    .replace(/o/g, '0');
}

function hashRecoveryCode(code: string): string {
  return hashToken(`knot-recovery:${normaliseRecoveryCode(code)}`);
}

async function credentialOf(db: Db, userId: string) {
  const [row] = await db.select().from(totpCredentials).where(eq(totpCredentials.userId, userId));
  return row ?? null;
}

export async function hasTwoFactor(db: Db, userId: string): Promise<boolean> {
  const row = await credentialOf(db, userId);
  return !!row?.confirmedAt;
}

function tooMany(reservation: Extract<Reservation, { ok: false }>): KnotError {
  const seconds = Math.ceil(reservation.waitMs / 1000);
  return new KnotError('TOO_MANY_ATTEMPTS', `Too many wrong codes. Try again in ${seconds} seconds.`, { retryAfterSeconds: seconds });
}

const invalidCode = () => new KnotError('TOTP_INVALID', 'That code is wrong or was already used. Wait for the next code from your authenticator app.');

/**
 * Starts (or restarts) setting up an authenticator. Nothing about signing in changes until
 * confirmTotp proves the app has it; calling this again replaces a setup that was not confirmed.
 */
export async function enableTotp(deps: TwoFactorDeps, viewer: Viewer): Promise<TotpSetup> {
  const existing = await credentialOf(deps.db, viewer.user.id);
  if (existing?.confirmedAt) {
    throw new KnotError('TOTP_ALREADY_ENABLED', 'Two-factor sign-in is already on. Turn it off first to move to a new authenticator.');
  }
  const secret = new Secret({ size: 20 }).base32;
  const sealed = deps.box.seal(secret);
  await deps.db.transaction(async (tx) => {
    await tx
      .insert(totpCredentials)
      .values({ userId: viewer.user.id, secretSealed: sealed })
      .onConflictDoUpdate({ target: totpCredentials.userId, set: { secretSealed: sealed, createdAt: new Date() }, where: isNull(totpCredentials.confirmedAt) });
    await recordAudit(tx, viewer, { action: 'enableTotp', objectType: 'user', objectId: viewer.user.id });
  });
  const uri = totpFor(secret, viewer.user.username, deps.config.url).toString();
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { secret, uri, qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}` };
}

/** Turns two-factor sign-in on with a code from the app, and returns the recovery codes (shown once). */
export async function confirmTotp(deps: TwoFactorDeps, viewer: Viewer, code: string): Promise<string[]> {
  const pending = await credentialOf(deps.db, viewer.user.id);
  if (pending?.confirmedAt) throw new KnotError('TOTP_ALREADY_ENABLED', 'Two-factor sign-in is already on.');
  if (!pending) throw badInput('code', 'There is no authenticator waiting to be confirmed: start the setup first (enableTotp).');
  const reservation = deps.loginThrottle.reserveSecondFactor(viewer.user.id);
  if (!reservation.ok) throw tooMany(reservation);
  const step = codeStep(totpFor(deps.box.open(pending.secretSealed), viewer.user.username, deps.config.url), code.slice(0, 64));
  if (step === null) throw invalidCode();
  const codes = Array.from({ length: RECOVERY_CODES }, newRecoveryCode);
  await deps.db.transaction(async (tx) => {
    // Only the setup this code was checked against, and only once (a second confirm racing this one loses).
    const [confirmed] = await tx
      .update(totpCredentials)
      .set({ confirmedAt: new Date(), lastUsedStep: step })
      .where(and(eq(totpCredentials.userId, viewer.user.id), eq(totpCredentials.secretSealed, pending.secretSealed), isNull(totpCredentials.confirmedAt)))
      .returning({ userId: totpCredentials.userId });
    if (!confirmed) throw new KnotError('TOTP_ALREADY_ENABLED', 'Two-factor sign-in was turned on or restarted meanwhile; reload and try again.');
    await tx.delete(totpRecoveryCodes).where(eq(totpRecoveryCodes.userId, viewer.user.id));
    await tx.insert(totpRecoveryCodes).values(codes.map((c) => ({ userId: viewer.user.id, codeHash: hashRecoveryCode(c) })));
    await recordAudit(tx, viewer, { action: 'confirmTotp', objectType: 'user', objectId: viewer.user.id });
  });
  reservation.succeeded();
  // A viewer held back by "require two-factor for everyone" is free from the next request on.
  await authChanged(deps, { userId: viewer.user.id });
  return codes;
}

/**
 * Spends a TOTP code (its time step must be later than the last one used, so a code works once)
 * or a recovery code (marked used). Both are conditional writes, so two requests racing with the
 * same code get one success. Wrong guesses count against the user's second-factor throttle.
 */
async function spendSecondFactor(
  deps: TwoFactorDeps,
  user: UserRow,
  credential: typeof totpCredentials.$inferSelect,
  proof: { totp?: string | null; recoveryCode?: string | null },
): Promise<'totp' | 'recoveryCode'> {
  const reservation = deps.loginThrottle.reserveSecondFactor(user.id);
  if (!reservation.ok) throw tooMany(reservation);
  if (proof.totp) {
    const step = codeStep(totpFor(deps.box.open(credential.secretSealed), user.username, deps.config.url), proof.totp.slice(0, 64));
    if (step === null) throw invalidCode();
    const [spent] = await deps.db
      .update(totpCredentials)
      .set({ lastUsedStep: step })
      .where(
        and(
          eq(totpCredentials.userId, user.id),
          isNotNull(totpCredentials.confirmedAt),
          or(isNull(totpCredentials.lastUsedStep), lt(totpCredentials.lastUsedStep, step)),
        ),
      )
      .returning({ userId: totpCredentials.userId });
    if (!spent) throw invalidCode();
    reservation.succeeded();
    return 'totp';
  }
  const [used] = await deps.db
    .update(totpRecoveryCodes)
    .set({ usedAt: new Date() })
    .where(
      and(
        eq(totpRecoveryCodes.userId, user.id),
        eq(totpRecoveryCodes.codeHash, hashRecoveryCode((proof.recoveryCode ?? '').slice(0, 64))),
        isNull(totpRecoveryCodes.usedAt),
      ),
    )
    .returning({ id: totpRecoveryCodes.id });
  if (!used) throw new KnotError('TOTP_INVALID', 'That recovery code is wrong or was already used.');
  reservation.succeeded();
  await recordAudit(deps.db, { id: user.id, name: user.username }, { action: 'useRecoveryCode', objectType: 'user', objectId: user.id });
  return 'recoveryCode';
}

/**
 * The second step of `login`, after the password was found right: a user with two-factor sign-in
 * must also send a TOTP code or a recovery code. Without one the answer is TOTP_REQUIRED and no
 * session is made; with a wrong or spent one, TOTP_INVALID.
 */
export async function checkSecondFactor(deps: TwoFactorDeps, user: UserRow, proof: { totp?: string | null; recoveryCode?: string | null }): Promise<void> {
  const credential = await credentialOf(deps.db, user.id);
  if (!credential?.confirmedAt) return;
  if (!proof.totp && !proof.recoveryCode) {
    throw new KnotError('TOTP_REQUIRED', 'Enter the code from your authenticator app, or one of your recovery codes.');
  }
  await spendSecondFactor(deps, user, credential, proof);
}

/** Turns two-factor sign-in off for yourself, proven by a current code, a recovery code or the password. */
export async function disableTotp(
  deps: TwoFactorDeps,
  viewer: Viewer,
  proof: { code?: string | null; password?: string | null },
  address: string,
): Promise<void> {
  const credential = await credentialOf(deps.db, viewer.user.id);
  if (!credential?.confirmedAt) throw badInput('code', 'Two-factor sign-in is not on.');
  if (proof.code) {
    const isTotp = /^\s*\d{6}\s*$/.test(proof.code);
    await spendSecondFactor(deps, viewer.user, credential, isTotp ? { totp: proof.code } : { recoveryCode: proof.code });
  } else if (proof.password) {
    const reservation = deps.loginThrottle.reserve(viewer.user.username, address);
    if (!reservation.ok) throw tooMany(reservation);
    if (!(await verifyPassword(proof.password.slice(0, LIMITS.password), viewer.user.passwordHash))) {
      throw badInput('password', 'The password is wrong.');
    }
    reservation.succeeded();
  } else {
    throw badInput('code', 'Enter a code from your authenticator app, a recovery code or your password to turn two-factor sign-in off.');
  }
  await removeTwoFactor(deps, viewer, viewer.user.id, 'disableTotp');
}

async function removeTwoFactor(deps: TwoFactorDeps, viewer: Viewer, userId: string, action: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx.delete(totpCredentials).where(eq(totpCredentials.userId, userId));
    await tx.delete(totpRecoveryCodes).where(eq(totpRecoveryCodes.userId, userId));
    await recordAudit(tx, viewer, { action, objectType: 'user', objectId: userId });
  });
  await authChanged(deps, { userId });
}

/**
 * For a user who lost their authenticator and their recovery codes: MANAGE_USERS, and the user
 * may hold no permission the admin lacks (resetting is a step towards signing in as them).
 */
export async function resetUserTotp(deps: TwoFactorDeps, viewer: Viewer, userId: string): Promise<UserRow> {
  if (!isUuid(userId)) throw notFound('That user');
  const [user] = await deps.db.select().from(users).where(eq(users.id, userId));
  if (!user) throw notFound('That user');
  await checkWithinReach(deps, viewer, userId, 'reset two-factor sign-in of');
  await removeTwoFactor(deps, viewer, userId, 'resetUserTotp');
  return user;
}
