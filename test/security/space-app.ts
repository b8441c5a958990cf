/**
 * A manual space whose agent runs on this machine (as anyone's manual space may) and reports a web
 * port and a desktop backed by a small HTTP server the test controls: the page a space serves,
 * with whatever headers and scripts a hostile one would send. Requests it receives are recorded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CREATE_AGENT_TOKEN, HostAgent, WATCH_SERVICES, agentBundle, type ServicesChange } from '../agent/fixture.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import type { SpacesHarness } from '../spaces/fixture.js';

export interface SpaceApp {
  port: number;
  /** Every request the app received, as it arrived (after Knot's proxy). */
  seen: IncomingMessage[];
  close(): Promise<void>;
}

/** An HTTP server on loopback answering with `handle`; it records what reaches it. */
export async function startSpaceApp(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<SpaceApp> {
  const seen: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Creates a manual space for the client's user, mints its agent token as that user and runs the
 * agent here with `env` (e.g. KNOT_HTTP_PORT, KNOT_VNC_HTTP_PORT), then waits until the services
 * the test expects are reported.
 */
export async function runManualSpace(
  h: SpacesHarness,
  client: GraphQLTestClient,
  options: { name: string; env: Record<string, string>; ready: (services: ServicesChange['spaceChanged']['space']) => boolean; userId?: string },
): Promise<{ spaceId: string; agent: HostAgent; services: NonNullable<ServicesChange['spaceChanged']['space']>['services'] }> {
  const bundle = await agentBundle();
  const template = await h.createTemplate({ name: `manual ${options.name}`, platform: 'MANUAL', job: '', withTerminal: false });
  const space = await h.createSpace({ templateId: template.id, name: options.name, ...(options.userId ? { userId: options.userId } : {}) }, client);
  const sub = client.subscribe<ServicesChange>(WATCH_SERVICES, { id: space.id });
  await sub.next((e) => e.spaceChanged.kind === 'SNAPSHOT');
  const minted = await client.data<{ createAgentToken: { token: string } }>(CREATE_AGENT_TOKEN, { id: space.id });
  const agent = new HostAgent(bundle, {
    KNOT_SERVER: h.server.url,
    KNOT_SPACE_ID: space.id,
    KNOT_AGENT_TOKEN: minted.createAgentToken.token,
    ...options.env,
  });
  try {
    const ready = await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING' && options.ready(e.spaceChanged.space));
    return { spaceId: space.id, agent, services: ready.spaceChanged.space!.services };
  } catch (err) {
    await agent.stop();
    throw err;
  } finally {
    sub.close();
  }
}
