import { afterAll, describe, expect, it } from 'vitest';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

describe('restart on PostgreSQL', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    // The first server owns (and drops) the database, so it stops last; stopping it twice is harmless.
    for (const server of servers.reverse()) await server.stop();
  });

  it('keeps users, sessions, tokens and roles across a restart', async () => {
    const first = await startTestServer();
    servers.push(first);
    const { token, client } = await setupAdmin(first);
    const session = await first.anonymous.login('admin', 'correct-horse');
    await client.data(`mutation { createRole(name: "Survivors", permissions: [MANAGE_SPACES]) { id } }`);
    await client.data(`mutation { updateProfile(input: { timezone: "Asia/Tokyo", servicePassword: "kept-across-restarts" }) { id } }`);
    await first.app.stop();

    const second = await startTestServer({ databaseUrl: first.databaseUrl });
    servers.push(second);
    const me = await second.client(token).data<{ me: { username: string; timezone: string; servicePassword: string } }>(
      `{ me { username timezone servicePassword } }`,
    );
    expect(me.me).toEqual({ username: 'admin', timezone: 'Asia/Tokyo', servicePassword: 'kept-across-restarts' });
    const viaCookie = second.client();
    viaCookie.cookie = session.cookie;
    expect((await viaCookie.data<{ me: { username: string } }>(`{ me { username } }`)).me.username).toBe('admin');
    await second.anonymous.login('admin', 'correct-horse');
    const roles = await second.client(token).data<{ roles: { name: string }[] }>(`{ roles { name } }`);
    expect(roles.roles.map((r) => r.name).sort()).toEqual(['Admin', 'Survivors']);
    const info = await second.anonymous.data<{ serverInfo: { setupRequired: boolean } }>(`{ serverInfo { setupRequired } }`);
    expect(info.serverInfo.setupRequired).toBe(false);
  });
});
