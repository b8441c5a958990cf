import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import { RawGraphQLSocket } from '../helpers/raw-socket.js';
import { openSql } from '../helpers/sql.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

const ME = `{ me { username } }`;

describe('GraphQL WebSocket authentication', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let sql: ReturnType<typeof openSql>;
  const sockets: RawGraphQLSocket[] = [];
  const open = (options: ConstructorParameters<typeof RawGraphQLSocket>[1]) => {
    const socket = new RawGraphQLSocket(server.url, options);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await setupAdmin(server)).client;
    sql = openSql(server.databaseUrl);
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await sql.end();
    await server.stop();
  });

  async function expectMe(socket: RawGraphQLSocket, username: string) {
    await socket.acknowledged();
    socket.subscribe('me', ME);
    const message = await socket.waitFor((m) => m.id === 'me' && m.type === 'next');
    expect(message.payload).toEqual({ data: { me: { username } } });
  }

  it('accepts a token in connectionParams', async () => {
    const token = await admin.createToken('ws');
    await expectMe(open({ connectionParams: { token } }), 'admin');
  });

  it('closes a connection with a bad token with 4403', async () => {
    const socket = open({ connectionParams: { token: 'knot_not-a-real-token' } });
    expect(await socket.closeCode()).toBe(4403);
    expect(socket.messages.find((m) => m.type === 'connection_ack')).toBeUndefined();
  });

  it('closes a connection without credentials with 4403', async () => {
    expect(await open({}).closeCode()).toBe(4403);
  });

  it('accepts the session cookie from its own origin (or with no Origin header)', async () => {
    const session = await server.anonymous.login('admin', 'correct-horse');
    await expectMe(open({ headers: { cookie: session.cookie!, origin: server.url } }), 'admin');
    await expectMe(open({ headers: { cookie: session.cookie! } }), 'admin');
  });

  it('ignores the session cookie when the page comes from another origin', async () => {
    const session = await server.anonymous.login('admin', 'correct-horse');
    const socket = open({ headers: { cookie: session.cookie!, origin: 'https://evil.example.com' } });
    expect(await socket.closeCode()).toBe(4403);
  });

  it('closes an open connection with 4403 as soon as its token is revoked', async () => {
    const created = await admin.data<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      `mutation { createApiToken(name: "ws-revoke") { token apiToken { id } } }`,
    );
    const socket = open({ connectionParams: { token: created.createApiToken.token } });
    await expectMe(socket, 'admin');
    // Another socket on a different token stays open: revocation is targeted.
    const other = open({ connectionParams: { token: await admin.createToken('ws-keep') } });
    await other.acknowledged();

    await admin.data(`mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: created.createApiToken.apiToken.id });
    expect(await socket.closeCode()).toBe(4403);
    other.subscribe('still', ME);
    await other.waitFor((m) => m.id === 'still' && m.type === 'next');
  });

  it('closes an open connection with 4403 when its token expires', async () => {
    const created = await admin.data<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      `mutation { createApiToken(name: "ws-expire", expiresInDays: 1) { token apiToken { id } } }`,
    );
    await sql`update api_tokens set expires_at = now() + interval '1500 milliseconds' where id = ${created.createApiToken.apiToken.id}`;
    const socket = open({ connectionParams: { token: created.createApiToken.token } });
    await socket.acknowledged();
    const started = Date.now();
    expect(await socket.closeCode()).toBe(4403);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('closes a cookie connection with 4403 on logout', async () => {
    const session = await server.anonymous.login('admin', 'correct-horse');
    const socket = open({ headers: { cookie: session.cookie! } });
    await socket.acknowledged();
    await session.data(`mutation { logout }`);
    expect(await socket.closeCode()).toBe(4403);
  });

  it('closes an open connection with 4403 when its user loses a permission, and not for unrelated changes', async () => {
    const role = await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "Space managers", permissions: [MANAGE_SPACES]) { id } }`);
    const { token, userId } = await createUser(server, admin, 'carol', [role.createRole.id]);
    const socket = open({ connectionParams: { token } });
    await socket.acknowledged();
    // Watching someone else's spaces is what MANAGE_SPACES allows.
    const adminId = (await admin.data<{ me: { id: string } }>(`{ me { id } }`)).me.id;
    socket.subscribe('theirs', `subscription($u: ID) { spacesChanged(userId: $u) { kind } }`, { u: adminId });

    // A change that takes nothing away keeps the socket open.
    await admin.data(`mutation($id: ID!) { updateUser(id: $id, input: { timezone: "Europe/Oslo" }) { id } }`, { id: userId });
    socket.subscribe('still', ME);
    await socket.waitFor((m) => m.id === 'still' && m.type === 'next');

    await admin.data(`mutation($id: ID!) { updateUser(id: $id, input: { roleIds: [] }) { id } }`, { id: userId });
    expect(await socket.closeCode()).toBe(4403);
  });
});
