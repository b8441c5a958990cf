/**
 * A template manager who is not an Admin named, in an ordinary-looking
 * `volumes:` entry, a Docker volume that was not the space's — an operator's volume (in the
 * compose setup, Knot's own database) or another user's home — and read it from their own space.
 * A space now mounts only volumes Knot made for spaces: its own, or shared ones.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_IMAGE } from '../helpers/env.js';
import { createUser } from '../helpers/server.js';
import { busyboxJob, containerOf, START_SPACE, startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';

describe('a space mounts only the volumes Knot made for it', () => {
  const operatorVolume = `knot-test-operator-${randomBytes(4).toString('hex')}`;
  let h: SpacesHarness;
  let templater: GraphQLTestClient;
  let alice: GraphQLTestClient;

  beforeAll(async () => {
    h = await startSpacesHarness();
    // A volume the operator made outside Knot (say, the database's), holding something secret.
    execFileSync('docker', ['volume', 'create', operatorVolume]);
    execFileSync('docker', ['run', '--rm', '-v', `${operatorVolume}:/v`, BUSYBOX_IMAGE, 'sh', '-c', 'echo operator-secret > /v/secret']);
    const role = await h.admin.client.data<{ createRole: { id: string } }>(`mutation { createRole(name: "templates", permissions: [MANAGE_TEMPLATES]) { id } }`);
    templater = (await createUser(h.server, h.admin.client, 'tess', [role.createRole.id])).client;
    alice = (await createUser(h.server, h.admin.client, 'alice')).client;
  }, 60_000);
  afterAll(async () => {
    await h?.dispose();
    await h?.runtime.removeVolume(operatorVolume).catch(() => {});
  });

  /** Starts a space of the templater's from `job` and returns the space as it ended. */
  async function startGrab(name: string, job: string) {
    const template = await h.createTemplate({ name, job }, templater);
    const space = await h.createSpace({ templateId: template.id, name }, templater);
    const sub = await h.watch(space.id, templater);
    try {
      await templater.data(START_SPACE, { id: space.id });
      return (await sub.next((e) => ['RUNNING', 'FAILED'].includes(e.spaceChanged.space?.status ?? ''))).spaceChanged.space!;
    } finally {
      sub.close();
    }
  }

  it("refuses to start a space on a volume made outside Knot, and nothing of it is mounted", async () => {
    const space = await startGrab('grab-operator', busyboxJob(`volumes:\n  - ${operatorVolume}:/loot\n`));
    expect(space.status).toBe('FAILED');
    expect(space.error).toContain(`"${operatorVolume}"`);
    expect(space.error).toMatch(/Knot did not make it/);
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();
  });

  it("refuses another user's own volume, whether it exists yet or not", async () => {
    const { id: templateId } = await h.createTemplate({ name: 'with home', job: busyboxJob('volumes:\n  - home_${{ .space.id }}:/home/alice\n') });
    const started = await h.createSpace({ templateId, name: 'work' }, alice);
    await h.startAndWait(started.id, alice);
    await h.exec(started.id, ['sh', '-c', 'echo alice-private-key > /home/alice/id_ed25519']);
    const later = await h.createSpace({ templateId, name: 'later' }, alice);

    const existing = await startGrab('grab-home', busyboxJob(`volumes:\n  - home_${started.id}:/loot\n`));
    expect(existing.status).toBe('FAILED');
    expect(existing.error).toContain('names another space');

    // Made first by the templater, it would become Alice's home when her space starts.
    const future = await startGrab('grab-future-home', busyboxJob(`volumes:\n  - home_${later.id}:/loot\n`));
    expect(future.status).toBe('FAILED');
    expect(await h.runtime.inspectVolume(`home_${later.id}`)).toBeNull();

    // Alice's own spaces still get their homes, with her data.
    await h.stopAndWait(started.id, alice);
    await h.startAndWait(started.id, alice);
    expect((await h.exec(started.id, ['cat', '/home/alice/id_ed25519'])).trim()).toBe('alice-private-key');
    await h.startAndWait(later.id, alice);
  });
});
