/**
 * A protected variable is write-only, yet a MANAGE_VARIABLES holder read
 * one back by turning its protection off (`updateVariable(protected: false)`): Knot decrypted the
 * stored value and kept it in the clear, and `variables` then returned it. Unprotecting now needs
 * a new value; the secret is never turned back into plain text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';

const SECRET = 'registry-password-7f3a';
const VARIABLES = `{ variables { id name protected value } }`;
const UPDATE = `mutation($id: ID!, $value: String, $protected: Boolean) { updateVariable(id: $id, value: $value, protected: $protected) { name protected value } }`;

describe('a protected variable is never read back', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let keeper: GraphQLTestClient;
  let sql: ReturnType<typeof openSql>;
  let id: string;

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await setupAdmin(server)).client;
    sql = openSql(server.databaseUrl);
    const role = await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "variables", permissions: [MANAGE_VARIABLES]) { id } }`);
    keeper = (await createUser(server, admin, 'vera', [role.createRole.id])).client;
    const created = await admin.data<{ createVariable: { id: string } }>(
      `mutation($v: String!) { createVariable(name: "REGISTRY_PASSWORD", value: $v, protected: true) { id } }`,
      { v: SECRET },
    );
    id = created.createVariable.id;
  });
  afterAll(async () => {
    await sql?.end();
    await server?.stop();
  });

  it('refuses to unprotect a variable without a new value, and changes nothing', async () => {
    for (const client of [keeper, admin]) {
      const res = await client.request(UPDATE, { id, protected: false });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'value' });
      expect(JSON.stringify(res)).not.toContain(SECRET);
      const listed = await client.data<{ variables: { protected: boolean; value: string | null }[] }>(VARIABLES);
      expect(listed.variables).toEqual([expect.objectContaining({ protected: true, value: null })]);
    }
    const [row] = await sql`select value from variables where id = ${id}`;
    expect(row!.value).not.toContain(SECRET);
  });

  it('unprotects it with a new value, which replaces the secret', async () => {
    const res = await keeper.data<{ updateVariable: { protected: boolean; value: string } }>(UPDATE, { id, protected: false, value: 'public-now' });
    expect(res.updateVariable).toMatchObject({ protected: false, value: 'public-now' });
    expect(JSON.stringify(await keeper.data(VARIABLES))).not.toContain(SECRET);
  });
});
