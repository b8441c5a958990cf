/**
 * What the space lifecycle tests share: a Knot server with an admin, a runtime to ask Docker
 * itself what exists, GraphQL documents, and a disposer that removes every container and volume
 * of the spaces a test file created (the tests assert that Knot cleans up; this only keeps a
 * failing test from leaking into the next run).
 */
import { createDockerRuntime, type Runtime } from '../../server/src/runtime/index.js';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { waitFor } from '../helpers/wait.js';
import type { GraphQLTestClient, Subscription } from '../helpers/graphql.js';
import { setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';
import type { Config } from '../../server/src/config.js';
import type { Logger } from '../../server/src/logger.js';

export const SPACE_FIELDS = `id name shell altNames status error pullProgress updateAvailable owner { id username } template { id hash }`;

export interface SpaceView {
  id: string;
  name: string;
  shell: string;
  altNames: string[];
  status: 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'DELETING' | 'FAILED';
  error: string | null;
  pullProgress: number | null;
  updateAvailable: boolean;
  owner: { id: string; username: string };
  template: { id: string; hash: string };
}

export interface SpaceChange {
  kind: string;
  spaceId: string;
  space: SpaceView | null;
}

export const SPACE_CHANGED = `subscription($id: ID!) { spaceChanged(id: $id) { kind spaceId space { ${SPACE_FIELDS} } } }`;
export const SPACES_CHANGED = `subscription($userId: ID) { spacesChanged(userId: $userId) { kind spaceId space { ${SPACE_FIELDS} } } }`;
export const CREATE_TEMPLATE = `mutation($input: TemplateInput!) { createTemplate(input: $input) { id hash } }`;
export const UPDATE_TEMPLATE = `mutation($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id hash } }`;
export const CREATE_SPACE = `mutation($input: CreateSpaceInput!) { createSpace(input: $input) { ${SPACE_FIELDS} } }`;
export const UPDATE_SPACE = `mutation($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { ${SPACE_FIELDS} } }`;
export const START_SPACE = `mutation($id: ID!) { startSpace(id: $id) { ${SPACE_FIELDS} } }`;
export const STOP_SPACE = `mutation($id: ID!) { stopSpace(id: $id) { ${SPACE_FIELDS} } }`;
export const RESTART_SPACE = `mutation($id: ID!) { restartSpace(id: $id) { ${SPACE_FIELDS} } }`;
export const DELETE_SPACE = `mutation($id: ID!) { deleteSpace(id: $id) }`;
export const GET_SPACE = `query($id: ID!) { space(id: $id) { ${SPACE_FIELDS} } }`;

/** A job that runs and stays up: busybox sleeping, as most tests need. */
export function busyboxJob(extra = '', image = BUSYBOX_IMAGE): string {
  return `image: ${image}\ncommand: [sleep, '3600']\n${extra}`;
}

export const containerOf = (spaceId: string) => `knot-space-${spaceId}`;

export interface SpacesHarness {
  server: TestServer;
  admin: { client: GraphQLTestClient; userId: string; token: string };
  runtime: Runtime;
  /** Every space created through `createSpace` below, for the Docker cleanup. */
  spaceIds: Set<string>;
  createTemplate(input: Record<string, unknown>, client?: GraphQLTestClient): Promise<{ id: string; hash: string }>;
  createSpace(input: Record<string, unknown>, client?: GraphQLTestClient): Promise<SpaceView>;
  /** Subscribes to spaceChanged and waits for the SNAPSHOT, so no later event can be missed. */
  watch(spaceId: string, client?: GraphQLTestClient): Promise<Subscription<{ spaceChanged: SpaceChange }>>;
  /** startSpace, then waits on the subscription for RUNNING (fails the test on FAILED). */
  startAndWait(spaceId: string, client?: GraphQLTestClient): Promise<SpaceView>;
  stopAndWait(spaceId: string, client?: GraphQLTestClient): Promise<SpaceView>;
  /** Reads a space row as Knot has it. */
  space(spaceId: string, client?: GraphQLTestClient): Promise<SpaceView>;
  /** Reads a file (or runs a command) inside the running container of a space. */
  exec(spaceId: string, cmd: string[]): Promise<string>;
  dispose(): Promise<void>;
}

export async function startSpacesHarness(
  options: { config?: Partial<Config>; databaseUrl?: string; host?: string; logger?: Logger } = {},
): Promise<SpacesHarness> {
  const server = await startTestServer(options);
  const admin = await setupAdmin(server);
  const runtime = createDockerRuntime();
  const spaceIds = new Set<string>();
  const clients: GraphQLTestClient[] = [admin.client];

  const harness: SpacesHarness = {
    server,
    admin,
    runtime,
    spaceIds,
    async createTemplate(input, client = admin.client) {
      const data = await client.data<{ createTemplate: { id: string; hash: string } }>(CREATE_TEMPLATE, {
        input: { job: busyboxJob(), ...input },
      });
      return data.createTemplate;
    },
    async createSpace(input, client = admin.client) {
      const data = await client.data<{ createSpace: SpaceView }>(CREATE_SPACE, { input });
      spaceIds.add(data.createSpace.id);
      return data.createSpace;
    },
    async watch(spaceId, client = admin.client) {
      if (!clients.includes(client)) clients.push(client);
      const sub = client.subscribe<{ spaceChanged: SpaceChange }>(SPACE_CHANGED, { id: spaceId });
      const first = await sub.next();
      if (first.spaceChanged.kind !== 'SNAPSHOT') throw new Error(`first event was ${first.spaceChanged.kind}, not SNAPSHOT`);
      return sub;
    },
    async startAndWait(spaceId, client = admin.client) {
      const sub = await harness.watch(spaceId, client);
      try {
        await client.data(START_SPACE, { id: spaceId });
        const done = await sub.next((e) => ['RUNNING', 'FAILED'].includes(e.spaceChanged.space?.status ?? ''));
        const space = done.spaceChanged.space!;
        if (space.status !== 'RUNNING') throw new Error(`space failed to start: ${space.error}`);
        return space;
      } finally {
        sub.close();
      }
    },
    async stopAndWait(spaceId, client = admin.client) {
      const sub = await harness.watch(spaceId, client);
      try {
        await client.data(STOP_SPACE, { id: spaceId });
        const done = await sub.next((e) => ['STOPPED', 'FAILED'].includes(e.spaceChanged.space?.status ?? ''));
        return done.spaceChanged.space!;
      } finally {
        sub.close();
      }
    },
    async space(spaceId, client = admin.client) {
      return (await client.data<{ space: SpaceView }>(GET_SPACE, { id: spaceId })).space;
    },
    async exec(spaceId, cmd) {
      const result = await runtime.execCollect(containerOf(spaceId), cmd);
      if (result.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
      return result.stdout;
    },
    async dispose() {
      for (const client of clients) await client.close();
      await server.stop();
      for (const id of spaceIds) {
        await runtime.stopAndRemoveContainer(containerOf(id), { timeoutSeconds: 0 }).catch(() => {});
        for (const volume of await runtime.listVolumes({ 'knot.space': id })) await runtime.removeVolume(volume).catch(() => {});
      }
      runtime.close();
    },
  };
  return harness;
}

/**
 * Saving a template pulls its image in the background; a test that wants a start to pull waits for
 * that pull to end, then removes the image again.
 */
export async function removeImageAfterSavePull(h: Pick<SpacesHarness, 'admin' | 'runtime'>, templateId: string, image: string): Promise<void> {
  // Waits for the image to be there, not merely for no pull to be running: the save's pull may not have begun yet.
  const query = `query($id: ID!) { template(id: $id) { imagePull { present pulling } } }`;
  await waitFor(
    async () => {
      const { imagePull } = (await h.admin.client.data<{ template: { imagePull: { present: boolean; pulling: boolean } } }>(query, { id: templateId })).template;
      return imagePull.present && !imagePull.pulling;
    },
    { what: 'the pull that saving the template started' },
  );
  await h.runtime.removeImage(image);
}

/** Env of a space's container as Docker has it, or null when there is no container. */
export async function containerEnv(runtime: Runtime, spaceId: string): Promise<Record<string, string> | null> {
  return (await runtime.inspectContainer(containerOf(spaceId)))?.env ?? null;
}
