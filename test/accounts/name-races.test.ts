import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

/** Requests racing for one name: exactly one wins, every other hears NAME_TAKEN (never a masked error). */
describe('racing for a name', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  const codes = async (query: string, variables: (i: number) => Record<string, unknown>, n = 6) => {
    const results = await Promise.all(Array.from({ length: n }, (_, i) => admin.request(query, variables(i))));
    return results.map((r) => (r.errors ? String(r.errors[0]!.extensions!.code) : 'OK')).sort();
  };

  beforeAll(async () => {
    server = await startTestServer();
    ({ client: admin } = await setupAdmin(server));
  });
  afterAll(() => server.stop());

  it('one role per name', async () => {
    const result = await codes(`mutation($n: String!) { createRole(name: $n, permissions: []) { id } }`, (i) => ({ n: i % 2 ? 'Racers' : 'RACERS' }));
    expect(result).toEqual(['NAME_TAKEN', 'NAME_TAKEN', 'NAME_TAKEN', 'NAME_TAKEN', 'NAME_TAKEN', 'OK']);
  });

  it('one user per username and per email', async () => {
    const byName = await codes(`mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, (i) => ({
      input: { username: 'racer', email: `racer${i}@example.com`, password: 'correct-horse' },
    }));
    expect(byName.filter((c) => c === 'OK')).toHaveLength(1);
    expect(byName.filter((c) => c !== 'OK').every((c) => c === 'NAME_TAKEN')).toBe(true);

    const byEmail = await codes(`mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`, (i) => ({
      input: { username: `runner${i}`, email: 'runner@example.com', password: 'correct-horse' },
    }));
    expect(byEmail.filter((c) => c === 'OK')).toHaveLength(1);
    expect(byEmail.filter((c) => c !== 'OK').every((c) => c === 'NAME_TAKEN')).toBe(true);
  });
});
