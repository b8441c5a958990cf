import postgres from 'postgres';

/**
 * Direct SQL on a test server's database, for what the API must not reveal (hashes at rest) or
 * cannot do (a token that expired yesterday). End it in afterAll.
 */
export function openSql(databaseUrl: string) {
  return postgres(databaseUrl, { max: 2, onnotice: () => {} });
}
