/**
 * Whoever holds a manual space's agent token decides what its desktop
 * and ports serve to the owner, so only the owner may mint or replace it: not MANAGE_SPACES, not
 * an admin. A refused attempt must also leave the owner's real agent connected (token unchanged).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSql } from '../helpers/sql.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

const CREATE_AGENT_TOKEN = `mutation($id: ID!) { createAgentToken(spaceId: $id) { token } }`;

describe('a manual space agent token is minted by its owner only', () => {
  let server: TestServer;
  let sql: ReturnType<typeof openSql>;
  let admin: Awaited<ReturnType<typeof setupAdmin>>;
  let spaceManager: Awaited<ReturnType<typeof createUser>>;
  let victim: Awaited<ReturnType<typeof createUser>>;
  let spaceId: string;

  beforeAll(async () => {
    server = await startTestServer();
    sql = openSql(server.databaseUrl);
    admin = await setupAdmin(server);
    const role = await admin.client.data<{ createRole: { id: string } }>(
      `mutation { createRole(name: "space managers", permissions: [MANAGE_SPACES]) { id } }`,
    );
    spaceManager = await createUser(server, admin.client, 'mallory', [role.createRole.id]);
    victim = await createUser(server, admin.client, 'victim');
    const template = await admin.client.data<{ createTemplate: { id: string } }>(
      `mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`,
      { input: { name: 'laptop', platform: 'MANUAL', job: '', withTerminal: true } },
    );
    // MANAGE_SPACES may still create the space for someone else (Create Space For).
    const space = await spaceManager.client.data<{ createSpace: { id: string } }>(
      `mutation($input: CreateSpaceInput!) { createSpace(input: $input) { id } }`,
      { input: { templateId: template.createTemplate.id, name: 'laptop', userId: victim.userId } },
    );
    spaceId = space.createSpace.id;
  });
  afterAll(async () => {
    await sql?.end();
    await server?.stop();
  });

  const storedHash = async () => (await sql`select agent_token_hash from spaces where id = ${spaceId}`)[0]!.agent_token_hash as string | null;

  it('refuses MANAGE_SPACES and the Admin with FORBIDDEN, and leaves the owner\'s token in place', async () => {
    const own = await victim.client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: spaceId });
    const ownHash = createHash('sha256').update(own.createAgentToken.token).digest('hex');
    expect(await storedHash()).toBe(ownHash);

    for (const [who, client] of [
      ['MANAGE_SPACES', spaceManager.client],
      ['Admin', admin.client],
    ] as const) {
      const res = await client.request(CREATE_AGENT_TOKEN, { id: spaceId });
      expect(res.errors?.[0]?.extensions?.code, who).toBe('FORBIDDEN');
      expect(res.errors![0]!.message).toMatch(/Only the owner/);
      expect(await storedHash(), `${who} must not replace the owner's token`).toBe(ownHash);
    }
  });

  it('lets the owner replace their own token', async () => {
    const before = await storedHash();
    await victim.client.data(CREATE_AGENT_TOKEN, { id: spaceId });
    expect(await storedHash()).not.toBe(before);
  });
});
