import { LIMITS } from '../auth/validation.js';

/**
 * A username in Knot's rules (a letter, then letters, digits, "-" or "_"; 2 to 32 characters) from
 * whatever the provider calls the user: "Jane.Doe@corp" → "Jane-Doe", "42" → "user-42".
 */
export function sanitizeUsername(raw: string): string {
  let name = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-zA-Z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '');
  if (!/^[a-zA-Z]/.test(name)) name = name ? `user-${name}` : 'user';
  if (name.length < 2) name = `${name}-user`;
  return name.slice(0, LIMITS.username).replace(/[-_]+$/, '');
}

/** `base`, or `base-2`, `base-3`, … (cut to fit) — the first that `taken` does not hold (compared case-insensitively). */
export function uniqueUsername(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${base.slice(0, LIMITS.username - suffix.length).replace(/[-_]+$/, '')}${suffix}`;
    if (!taken.has(candidate.toLowerCase())) return candidate;
  }
}
