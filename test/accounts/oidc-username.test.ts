import { describe, expect, it } from 'vitest';
import { checkUsername } from '../../server/src/auth/validation.js';
import { sanitizeUsername, uniqueUsername } from '../../server/src/oidc/username.js';

describe('usernames for accounts made by single sign-on', () => {
  it.each([
    ['Jane.Doe', 'Jane-Doe'],
    ['jane doe', 'jane-doe'],
    ['José', 'Jose'],
    ['42', 'user-42'],
    ['_x_', 'x-user'],
    ['', 'user'],
    ['a'.repeat(40), 'a'.repeat(32)],
    ['o\'brien@corp', 'o-brien-corp'],
  ])('%j becomes %j, which Knot accepts', (raw, expected) => {
    expect(sanitizeUsername(raw)).toBe(expected);
    expect(checkUsername(sanitizeUsername(raw))).toBe(expected);
  });

  it('adds the first free number, cut to fit', () => {
    expect(uniqueUsername('jane', new Set())).toBe('jane');
    expect(uniqueUsername('Jane', new Set(['jane', 'jane-2']))).toBe('Jane-3');
    const long = 'a'.repeat(32);
    const made = uniqueUsername(long, new Set([long]));
    expect(made).toBe(`${'a'.repeat(30)}-2`);
    expect(checkUsername(made)).toBe(made);
  });
});
