import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { KnotError } from '../errors.js';

const KEY_LENGTH = 32;

/** scrypt's cost: N = 2^logN, block size r, parallelism p. */
export interface ScryptCost {
  logN: number;
  r: number;
  p: number;
}

/** OWASP's recommendation for scrypt (N=2^17, r=8, p=1): about 0.1–0.5 s of one core per hash. */
export const OWASP_SCRYPT_COST: ScryptCost = { logN: 17, r: 8, p: 1 };
/** What hashes written before the parameters were stored used: Node's defaults. */
const LEGACY_COST: ScryptCost = { logN: 14, r: 8, p: 1 };

function scryptAsync(password: string, salt: Buffer, keylen: number, cost: ScryptCost): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** cost.logN,
    r: cost.r,
    p: cost.p,
    // scrypt needs 128·N·r bytes; Node's default cap (32 MiB) is below what N=2^17 takes.
    maxmem: 256 * 2 ** cost.logN * cost.r,
  };
  return new Promise((resolve, reject) => scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * Each hash takes a core for a good fraction of a second and 128 MiB at the OWASP cost, so only a
 * few run at once in this process and a bounded queue waits for them; past that the server says
 * it is busy, rather than letting a flood of logins take every core and all the memory.
 */
const MAX_CONCURRENT_HASHES = 2;
const MAX_QUEUED_HASHES = 64;
let hashing = 0;
const queue: (() => void)[] = [];

async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashing >= MAX_CONCURRENT_HASHES) {
    if (queue.length >= MAX_QUEUED_HASHES) {
      throw new KnotError('TOO_MANY_ATTEMPTS', 'The server is busy checking passwords. Try again in a few seconds.', { retryAfterSeconds: 5 });
    }
    await new Promise<void>((resolve) => queue.push(resolve));
  } else hashConcurrency.peak = Math.max(hashConcurrency.peak, ++hashing);
  try {
    return await work();
  } finally {
    const next = queue.shift();
    if (next) next(); // the slot passes straight on
    else hashing--;
  }
}

/** The most hashes that ran at once since the last reset, for a test to check the cap. */
export const hashConcurrency = { peak: 0, limit: MAX_CONCURRENT_HASHES };

/** scrypt with a random salt and the cost stored with the hash: `scrypt$ln=17,r=8,p=1$salt$key`. */
export async function hashPassword(password: string, cost: ScryptCost = OWASP_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await withHashSlot(() => scryptAsync(password, salt, KEY_LENGTH, cost));
  return `scrypt$ln=${cost.logN},r=${cost.r},p=${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface StoredHash {
  cost: ScryptCost;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): StoredHash | null {
  const parts = stored.split('$');
  if (parts[0] !== 'scrypt') return null;
  if (parts.length === 3 && parts[1] && parts[2]) {
    return { cost: LEGACY_COST, salt: Buffer.from(parts[1], 'base64'), key: Buffer.from(parts[2], 'base64') };
  }
  const params = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/.exec(parts[1] ?? '');
  if (parts.length !== 4 || !params || !parts[2] || !parts[3]) return null;
  const cost = { logN: Number(params[1]), r: Number(params[2]), p: Number(params[3]) };
  if (cost.logN < 1 || cost.logN > 22 || cost.r < 1 || cost.p < 1) return null;
  return { cost, salt: Buffer.from(parts[2], 'base64'), key: Buffer.from(parts[3], 'base64') };
}

/** No password hashes to this: an account made by single sign-on has no password until an admin sets one. */
export const NO_PASSWORD = '!sso';

/** False for an account made by single sign-on that no admin has given a password: it signs in at its provider only. */
export const hasLocalPassword = (stored: string): boolean => stored !== NO_PASSWORD;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const actual = await withHashSlot(() => scryptAsync(password, parsed.salt, parsed.key.length, parsed.cost));
  return timingSafeEqual(actual, parsed.key);
}

/** True when the stored hash is weaker than `cost` (or from before parameters were stored): re-hash at the next login. */
export function needsRehash(stored: string, cost: ScryptCost): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  return parsed.cost.logN < cost.logN || parsed.cost.r < cost.r || parsed.cost.p < cost.p;
}

/** The cost a hash was made with, for a test to read back. */
export function hashCost(stored: string): ScryptCost | null {
  return parseHash(stored)?.cost ?? null;
}

/** Tokens are 256 random bits, so a plain SHA-256 is enough to store them safely (no guessing to slow down). */
export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const PASSWORD_ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A service password that survives being pasted into YAML, shells and URLs: letters and digits only. */
export function generateServicePassword(length = 20): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every character equally likely.
  for (const byte of bytes) {
    if (byte < 256 - (256 % PASSWORD_ALPHABET.length)) out += PASSWORD_ALPHABET[byte % PASSWORD_ALPHABET.length];
    if (out.length === length) return out;
  }
  return out + generateServicePassword(length - out.length);
}
