import postgres from 'postgres';
import { TEST_DATABASE_URL } from './env.js';

/** Fails fast, with the fix, when the suite is run without the services it needs. */
export default async function setup() {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (err) {
    throw new Error(
      `The tests need PostgreSQL at ${TEST_DATABASE_URL} (${(err as Error).message}). ` +
        'Run `bash .ci/run` once, or scripts/ci/start-postgres.sh, or set KNOT_TEST_DATABASE_URL.',
      { cause: err },
    );
  } finally {
    await sql.end();
  }
}
