import { badInput } from '../errors.js';

/** Past this a figure is a typo, not a quota (and sums of it stay far inside a 32-bit integer). */
export const MAX_LIMIT = 1_000_000;

/** A limit as typed: a whole number from 0 to MAX_LIMIT, or null for unlimited. */
export function checkLimit(field: string, value: number | null | undefined, what: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_LIMIT) {
    throw badInput(field, `The ${what} must be a whole number from 0 to ${MAX_LIMIT.toLocaleString('en-US')}, or empty for unlimited.`);
  }
  return value;
}

/** A template size: a whole number from 0 to MAX_LIMIT (0: counts nothing against a quota). */
export function checkSize(field: string, value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_LIMIT) {
    throw badInput(field, `The ${what} must be a whole number from 0 to ${MAX_LIMIT.toLocaleString('en-US')}.`);
  }
  return value;
}
