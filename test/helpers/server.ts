import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../../server/src/app.js';
import type { Config } from '../../server/src/config.js';
import { createLogger, type Logger } from '../../server/src/logger.js';
import { createTestDatabase } from './database.js';
import { TEST_PASSWORD_HASH_COST } from './env.js';
import { GraphQLTestClient } from './graphql.js';

export interface TestServer {
  app: App;
  url: string;
  databaseUrl: string;
  /** A client with no credentials. */
  anonymous: GraphQLTestClient;
  client(token?: string): GraphQLTestClient;
  stop(): Promise<void>;
}

/**
 * A real Knot server on an ephemeral port, on its own Postgres database (or the given one, to run
 * two replicas side by side). Stop it in afterAll/afterEach.
 */
export async function startTestServer(
  options: {
    databaseUrl?: string;
    config?: Partial<Config>;
    keepDatabase?: boolean;
    /** Where to listen: '0.0.0.0' lets containers reach the server (agents); the default is loopback only. */
    host?: string;
    /** To assert on log lines (e.g. a refused connection is logged). */
    logger?: Logger;
  } = {},
): Promise<TestServer> {
  const database = options.databaseUrl ? null : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? database!.url;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-test-'));
  const app = await createApp({
    env: {},
    // No wildcard domain unless a test asks for one: the configured URL (localhost:3000) is not where the test server listens.
    config: { databaseUrl, dataDir, logLevel: 'silent', passwordHashCost: TEST_PASSWORD_HASH_COST, wildcardDomain: undefined, ...options.config },
    logger: options.logger ?? createLogger(process.env.KNOT_TEST_LOG ?? 'silent'),
  });
  const url = await app.start(0, options.host ?? '127.0.0.1');
  // The port is known only now; containers reach the host's server through Docker's host-gateway name.
  if (options.host === '0.0.0.0' && !options.config?.agentUrl) {
    app.services.config.agentUrl = `http://host.docker.internal:${new URL(url).port}`;
  }
  const client = (token?: string) => new GraphQLTestClient(url, token);
  return {
    app,
    url,
    databaseUrl,
    anonymous: client(),
    client,
    async stop() {
      await app.stop();
      if (database && !options.keepDatabase) await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sets Knot up with an admin and returns a client holding the admin's API token. */
export async function setupAdmin(server: TestServer, username = 'admin'): Promise<{ client: GraphQLTestClient; userId: string; token: string }> {
  const setup = await server.anonymous.request<{ setup: { id: string } }>(
    `mutation($input: SetupInput!) { setup(input: $input) { id } }`,
    { input: { username, email: `${username}@example.com`, password: 'correct-horse' } },
  );
  const userId = setup.data!.setup.id;
  const login = await server.anonymous.login(username, 'correct-horse');
  const token = await login.createToken('tests');
  return { client: server.client(token), userId, token };
}

/** Creates a user (as the admin client) and returns a client with that user's token. */
export async function createUser(
  server: TestServer,
  admin: GraphQLTestClient,
  username: string,
  roleIds: string[] = [],
): Promise<{ client: GraphQLTestClient; userId: string; token: string }> {
  const created = await admin.request<{ createUser: { id: string } }>(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { id } }`,
    { input: { username, email: `${username}@example.com`, password: 'correct-horse', roleIds } },
  );
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  const login = await server.anonymous.login(username, 'correct-horse');
  const token = await login.createToken('tests');
  return { client: server.client(token), userId: created.data!.createUser.id, token };
}
