import { SHELLS, type Shell } from '../../../protocol/enums.js';
import { badInput } from '../errors.js';

/** Limits on what people type; every one is checked before anything is written. */
export const LIMITS = {
  username: 32,
  email: 254,
  passwordMin: 8,
  password: 128,
  servicePassword: 128,
  sshPublicKey: 16_384,
  tokenName: 64,
  roleName: 64,
  timezone: 64,
} as const;

export { SHELLS, type Shell };

export function checkUsername(value: string): string {
  const name = value.trim();
  if (!/^[a-zA-Z][a-zA-Z0-9_-]{1,31}$/.test(name)) {
    throw badInput(
      'username',
      `A username is 2 to ${LIMITS.username} letters, digits, "-" or "_", starting with a letter.`,
    );
  }
  return name;
}

export function checkEmail(value: string): string {
  const email = value.trim();
  if (email.length > LIMITS.email || !/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw badInput('email', 'Enter an email address like name@example.com.');
  }
  return email;
}

export function checkPassword(value: string, field = 'password'): string {
  if (value.length < LIMITS.passwordMin || value.length > LIMITS.password) {
    throw badInput(field, `A password is ${LIMITS.passwordMin} to ${LIMITS.password} characters long.`);
  }
  return value;
}

export function checkServicePassword(value: string): string {
  if (value.length > LIMITS.servicePassword) {
    throw badInput('servicePassword', `The service password can be at most ${LIMITS.servicePassword} characters.`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw badInput('servicePassword', 'The service password cannot contain control characters or line breaks.');
  }
  return value;
}

export function checkShell(value: string): Shell {
  if (!(SHELLS as readonly string[]).includes(value)) {
    throw badInput('shell', `The shell must be one of ${SHELLS.join(', ')}.`);
  }
  return value as Shell;
}

export function checkTimezone(value: string): string {
  try {
    if (value.length <= LIMITS.timezone) {
      new Intl.DateTimeFormat('en', { timeZone: value });
      return value;
    }
  } catch {
    // fall through to the refusal below
  }
  throw badInput('timezone', `"${value.slice(0, 64)}" is not a time zone like Europe/London or UTC.`);
}

export function checkSshPublicKey(value: string): string {
  const key = value.trim();
  if (key.length > LIMITS.sshPublicKey) {
    throw badInput('sshPublicKey', 'The SSH public key is too long.');
  }
  if (key && !/^(ssh-|ecdsa-|sk-)[\w@.-]+ [A-Za-z0-9+/=]+( .*)?$/m.test(key)) {
    throw badInput('sshPublicKey', 'That does not look like an SSH public key (e.g. "ssh-ed25519 AAAA… you@host").');
  }
  return key;
}

/** Ids are UUIDs; anything else cannot name a row, and must not reach Postgres (it would fail the cast). */
export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

export function checkLength(field: string, value: string, max: number, label = field): string {
  const trimmed = value.trim();
  if (!trimmed) throw badInput(field, `The ${label} cannot be empty.`);
  if (trimmed.length > max) throw badInput(field, `The ${label} can be at most ${max} characters.`);
  return trimmed;
}
