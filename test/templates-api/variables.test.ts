import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { CREATE_TEMPLATE, busyboxJob, containerEnv, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

const CREATE_VARIABLE = `mutation($n: String!, $v: String!, $p: Boolean) { createVariable(name: $n, value: $v, protected: $p) { id name protected value } }`;
const UPDATE_VARIABLE = `mutation($id: ID!, $v: String, $p: Boolean) { updateVariable(id: $id, value: $v, protected: $p) { id name protected value } }`;
const DELETE_VARIABLE = `mutation($id: ID!) { deleteVariable(id: $id) }`;
const VARIABLES = `{ variables { id name protected value } }`;

interface VariableView {
  id: string;
  name: string;
  protected: boolean;
  value: string | null;
}

describe('admin-managed template variables (.var.NAME)', () => {
  let h: SpacesHarness;
  let sql: postgres.Sql;
  let erin: { client: GraphQLTestClient };
  let vera: { client: GraphQLTestClient };
  const secret = 'hunter2-is-not-a-good-password';
  beforeAll(async () => {
    h = await startSpacesHarness();
    sql = postgres(h.server.databaseUrl, { max: 1, onnotice: () => {} });
    erin = await createUser(h.server, h.admin.client, 'erin');
    const role = await h.admin.client.data<{ createRole: { id: string } }>(
      `mutation { createRole(name: "Variable keepers", permissions: [MANAGE_VARIABLES]) { id } }`,
    );
    vera = await createUser(h.server, h.admin.client, 'vera', [role.createRole.id]);
  });
  afterAll(async () => {
    await sql.end();
    await h.dispose();
  });

  it('needs MANAGE_VARIABLES to list, create, update or delete (FORBIDDEN otherwise)', async () => {
    for (const [query, variables] of [
      [VARIABLES, {}],
      [CREATE_VARIABLE, { n: 'REGION', v: 'eu' }],
    ] as const) {
      const res = await erin.client.request(query, variables);
      expect(res.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    }
    const made = (await vera.client.data<{ createVariable: VariableView }>(CREATE_VARIABLE, { n: 'REGION', v: 'eu' })).createVariable;
    expect(made).toMatchObject({ name: 'REGION', protected: false, value: 'eu' });
    for (const [query, variables] of [
      [UPDATE_VARIABLE, { id: made.id, v: 'us' }],
      [DELETE_VARIABLE, { id: made.id }],
    ] as const) {
      const res = await erin.client.request(query, variables);
      expect(res.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    }
    expect((await vera.client.data<{ variables: VariableView[] }>(VARIABLES)).variables).toEqual([made]);
  });

  it('refuses a bad or duplicate variable name', async () => {
    const bad = await vera.client.request(CREATE_VARIABLE, { n: 'not ok', v: 'x' });
    expect(bad.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const dup = await vera.client.request(CREATE_VARIABLE, { n: 'REGION', v: 'x' });
    expect(dup.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
  });

  it('keeps a protected value encrypted at rest and never sends it back', async () => {
    const made = (await vera.client.data<{ createVariable: VariableView }>(CREATE_VARIABLE, { n: 'DB_PASSWORD', v: secret, p: true }))
      .createVariable;
    expect(made).toMatchObject({ name: 'DB_PASSWORD', protected: true, value: null });
    const listed = (await h.admin.client.data<{ variables: VariableView[] }>(VARIABLES)).variables.find((v) => v.name === 'DB_PASSWORD');
    expect(listed!.value).toBeNull();

    const [row] = await sql<{ value: string }[]>`select value from variables where name = 'DB_PASSWORD'`;
    expect(row!.value).not.toContain(secret);
    expect(row!.value).not.toContain(Buffer.from(secret).toString('base64'));
    expect(row!.value.length).toBeGreaterThan(secret.length);

    // Protecting an existing plain value encrypts it in place.
    const region = (await vera.client.data<{ variables: VariableView[] }>(VARIABLES)).variables.find((v) => v.name === 'REGION')!;
    const protectedRegion = (await vera.client.data<{ updateVariable: VariableView }>(UPDATE_VARIABLE, { id: region.id, p: true })).updateVariable;
    expect(protectedRegion.value).toBeNull();
    const [regionRow] = await sql<{ value: string }[]>`select value from variables where name = 'REGION'`;
    expect(regionRow!.value).not.toBe('eu');
  });

  it('refuses templates naming a variable that does not exist, and accepts them once it does', async () => {
    const job = busyboxJob(`environment:\n  TOKEN: "\${{ .var.API_TOKEN }}"\n`);
    const refused = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: 'Needs token', job } });
    expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', line: 4 });
    expect(refused.errors![0]!.message).toMatch(/API_TOKEN/);
    await vera.client.data(CREATE_VARIABLE, { n: 'API_TOKEN', v: 'tok-1' });
    expect((await h.createTemplate({ name: 'Needs token', job })).id).toBeTruthy();
  });

  it('renders variables, protected ones in plain, into the container environment at each start', async () => {
    const template = await h.createTemplate({
      name: 'Uses variables',
      job: busyboxJob(`environment:\n  DB_PASSWORD: "\${{ .var.DB_PASSWORD }}"\n  REGION: \${{ .var.REGION }}\n`),
    });
    const space = await h.createSpace({ templateId: template.id, name: 'vars' });
    await h.startAndWait(space.id);
    expect(await containerEnv(h.runtime, space.id)).toMatchObject({ DB_PASSWORD: secret, REGION: 'eu' });

    // A changed value is used from the next start, like the service password.
    const region = (await vera.client.data<{ variables: VariableView[] }>(VARIABLES)).variables.find((v) => v.name === 'REGION')!;
    await vera.client.data(UPDATE_VARIABLE, { id: region.id, v: 'ap' });
    expect((await containerEnv(h.runtime, space.id))!.REGION).toBe('eu');
    await h.stopAndWait(space.id);
    await h.startAndWait(space.id);
    expect((await containerEnv(h.runtime, space.id))!.REGION).toBe('ap');
  });

  it('refuses to delete a variable a template uses (TEMPLATE_IN_USE), and deletes an unused one', async () => {
    const vars = (await vera.client.data<{ variables: VariableView[] }>(VARIABLES)).variables;
    const used = vars.find((v) => v.name === 'API_TOKEN')!;
    const res = await vera.client.request(DELETE_VARIABLE, { id: used.id });
    expect(res.errors![0]!.extensions!.code).toBe('TEMPLATE_IN_USE');
    expect(res.errors![0]!.message).toMatch(/Needs token/);

    const spare = (await vera.client.data<{ createVariable: VariableView }>(CREATE_VARIABLE, { n: 'API', v: 'prefix-of-a-used-name' })).createVariable;
    expect((await vera.client.data<{ deleteVariable: boolean }>(DELETE_VARIABLE, { id: spare.id })).deleteVariable).toBe(true);
    expect((await vera.client.data<{ variables: VariableView[] }>(VARIABLES)).variables.map((v) => v.name).sort()).toEqual([
      'API_TOKEN',
      'DB_PASSWORD',
      'REGION',
    ]);
  });
});
