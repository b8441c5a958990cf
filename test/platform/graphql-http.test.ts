import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { openSql } from '../helpers/sql.js';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';

/** GraphQL over HTTP as the spec (and every generic client) expects it. */
describe('GraphQL over HTTP', () => {
  let server: TestServer;
  let token: string;
  let sql: ReturnType<typeof openSql>;
  const endpoint = () => `${server.url}/graphql`;
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(endpoint(), { method: 'POST', headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE, ...headers }, body });
  const get = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${endpoint()}?query=${encodeURIComponent(query)}`, { headers: { accept: GRAPHQL_RESPONSE, ...headers } });
  const tokenCount = async () => (await sql`select count(*)::int as n from api_tokens`)[0]!.n as number;

  beforeAll(async () => {
    server = await startTestServer();
    ({ token } = await setupAdmin(server));
    sql = openSql(server.databaseUrl);
  });
  afterAll(async () => {
    await sql.end();
    await server.stop();
  });

  it('answers a query sent with GET', async () => {
    const res = await get('{ me { username } }', { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { me: { username: 'admin' } } });
  });

  it('refuses a mutation sent with GET (405) and does not run it', async () => {
    const before = await tokenCount();
    const res = await get('mutation { createApiToken(name: "via-get") { token } }', { authorization: `Bearer ${token}` });
    expect(res.status).toBe(405);
    const body = (await res.json()) as { errors: { message: string }[] };
    expect(body.errors[0]!.message).toMatch(/POST/);
    expect(await tokenCount()).toBe(before);
  });

  it('answers POST in application/graphql-response+json when asked, else application/json', async () => {
    const modern = await post(JSON.stringify({ query: '{ serverInfo { setupRequired } }' }));
    expect(modern.status).toBe(200);
    expect(modern.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
    expect(await modern.json()).toEqual({ data: { serverInfo: { setupRequired: false } } });

    const legacy = await post(JSON.stringify({ query: '{ serverInfo { setupRequired } }' }), { accept: 'application/json' });
    expect(legacy.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('answers a malformed query with 400 and GRAPHQL_PARSE_FAILED', async () => {
    const res = await post(JSON.stringify({ query: '{ me { username ' }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(body.errors[0]!.message).toMatch(/Syntax Error/);
  });

  it('answers an unknown field with a validation error', async () => {
    const res = await post(JSON.stringify({ query: '{ me { username shoeSize } }' }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0]!.message).toContain('shoeSize');
  });

  it('answers a variable of the wrong type with BAD_USER_INPUT', async () => {
    const res = await post(
      JSON.stringify({ query: 'mutation($d: Int) { createApiToken(name: "x", expiresInDays: $d) { token } }', variables: { d: 'soon' } }),
      { authorization: `Bearer ${token}` },
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('refuses a body over 1 MB with 413 before reading it', async () => {
    const res = await post(JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(2 * 1024 * 1024)}` }));
    expect(res.status).toBe(413);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('serves GraphiQL to a browser', async () => {
    const res = await fetch(endpoint(), { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/GraphiQL|graphiql/);
  });

  it('never answers 500 to bad input', async () => {
    const before = await tokenCount();
    const auth = { authorization: `Bearer ${token}` };
    const attempts: [string, () => Promise<Response>][] = [
      ['invalid JSON', () => post('{"query": ')],
      ['no query', () => post('{}')],
      ['query is a number', () => post('{"query": 5}')],
      ['variables is a string', () => post('{"query": "{ me { id } }", "variables": "x"}')],
      ['a batch', () => post('[{"query": "{ me { id } }"}]')],
      ['text body', () => fetch(endpoint(), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' })],
      ['PUT', () => fetch(endpoint(), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' })],
      ['int out of range', () => post(JSON.stringify({ query: 'mutation { createApiToken(name: "x", expiresInDays: 99999999999) { token } }' }), auth)],
      ['null for a required variable', () => post(JSON.stringify({ query: 'mutation($n: String!) { createApiToken(name: $n) { token } }', variables: { n: null } }), auth)],
      ['unknown enum value', () => post(JSON.stringify({ query: 'mutation { updateProfile(input: { preferredShell: csh }) { id } }' }), auth)],
      ['not a UUID', () => post(JSON.stringify({ query: 'mutation { deleteUser(id: "../../etc/passwd") }' }), auth)],
      ['a cookie that is not %-encoded', () => post(JSON.stringify({ query: '{ me { id } }' }), { cookie: 'knot_session=%E0%A4%A' })],
      ['a Basic authorization header', () => post(JSON.stringify({ query: '{ me { id } }' }), { authorization: 'Basic YWRtaW46cGFzcw==' })],
      ['an unknown operation name', () => post(JSON.stringify({ query: '{ me { id } }', operationName: 'Nope' }))],
      ['two operations, no name', () => post(JSON.stringify({ query: 'query A { me { id } } query B { me { id } }' }))],
    ];
    for (const [what, attempt] of attempts) {
      const res = await attempt();
      expect(res.status, what).toBeLessThan(500);
      const text = await res.text();
      expect(text, what).not.toContain('Unexpected error');
    }
    expect(await tokenCount()).toBe(before);
  });
});
