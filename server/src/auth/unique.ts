import { KnotError } from '../errors.js';

/** Postgres' unique_violation, as the driver reports it (drizzle wraps it in `cause`). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === '23505' || e?.cause?.code === '23505';
}

/** Postgres' foreign_key_violation: the row a write refers to was deleted meanwhile. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } } | null;
  return e?.code === '23503' || e?.cause?.code === '23503';
}

/**
 * For `.catch()` after a write that a name check already guarded: two requests racing past the
 * check meet the unique index, and the loser hears NAME_TAKEN instead of a masked database error.
 */
export function nameTakenOnRace(field: string, message: string) {
  return (err: unknown): never => {
    if (isUniqueViolation(err)) throw new KnotError('NAME_TAKEN', message, { field });
    throw err;
  };
}
