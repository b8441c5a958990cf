import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { RESTART_SPACE, busyboxJob, containerEnv, startSpacesHarness, type SpacesHarness } from './fixture.js';

// As the guide writes it: MARIADB_ROOT_PASSWORD = "${{.user.service_password}}".
const JOB = busyboxJob(`environment:
  MARIADB_ROOT_PASSWORD: "\${{.user.service_password}}"
  SPACED_OUT: "\${{   .user.username   }}@\${{ .space.name }}"
`);

const ME = `{ me { servicePassword } }`;
const SET_PASSWORD = `mutation($p: String!) { updateProfile(input: { servicePassword: $p }) { servicePassword } }`;

describe('the service password in a space', () => {
  let h: SpacesHarness;
  let dave: { client: GraphQLTestClient; userId: string };
  let spaceId: string;
  beforeAll(async () => {
    h = await startSpacesHarness();
    const template = await h.createTemplate({ name: 'mariadb-like', job: JOB });
    dave = await createUser(h.server, h.admin.client, 'dave');
    spaceId = (await h.createSpace({ templateId: template.id, name: 'db' }, dave.client)).id;
  });
  afterAll(() => h.dispose());

  it("is in the container's environment as the owner's generated password, spaces inside the braces tolerated", async () => {
    const generated = (await dave.client.data<{ me: { servicePassword: string } }>(ME)).me.servicePassword;
    expect(generated.length).toBeGreaterThanOrEqual(16);
    await h.startAndWait(spaceId, dave.client);
    const env = await containerEnv(h.runtime, spaceId);
    expect(env!.MARIADB_ROOT_PASSWORD).toBe(generated);
    expect(env!.SPACED_OUT).toBe('dave@db');
    // What the process inside sees, not only what Docker recorded.
    expect(await h.exec(spaceId, ['sh', '-c', 'printf %s "$MARIADB_ROOT_PASSWORD"'])).toBe(generated);
  });

  it('is not pushed into a running space when changed, but used from its next start', async () => {
    const old = (await dave.client.data<{ me: { servicePassword: string } }>(ME)).me.servicePassword;
    // Characters that would break naive YAML or shell substitution reach the process verbatim.
    const chosen = `n3w "pa$$" 'word' #1: {x}`;
    expect((await dave.client.data<{ updateProfile: { servicePassword: string } }>(SET_PASSWORD, { p: chosen })).updateProfile.servicePassword).toBe(chosen);

    expect((await containerEnv(h.runtime, spaceId))!.MARIADB_ROOT_PASSWORD).toBe(old);

    await h.stopAndWait(spaceId, dave.client);
    await h.startAndWait(spaceId, dave.client);
    expect((await containerEnv(h.runtime, spaceId))!.MARIADB_ROOT_PASSWORD).toBe(chosen);
    expect(await h.exec(spaceId, ['sh', '-c', 'printf %s "$MARIADB_ROOT_PASSWORD"'])).toBe(chosen);
  });

  it('reaches the space through restartSpace as well', async () => {
    await dave.client.data(SET_PASSWORD, { p: 'after-restart-pw' });
    expect((await containerEnv(h.runtime, spaceId))!.MARIADB_ROOT_PASSWORD).not.toBe('after-restart-pw');
    const sub = await h.watch(spaceId, dave.client);
    await dave.client.data(RESTART_SPACE, { id: spaceId });
    await sub.next((e) => e.spaceChanged.space?.status === 'STARTING');
    await sub.next((e) => e.spaceChanged.space?.status === 'RUNNING');
    sub.close();
    expect((await containerEnv(h.runtime, spaceId))!.MARIADB_ROOT_PASSWORD).toBe('after-restart-pw');
  });

  it('is never shown to anyone else, admins included', async () => {
    const seen = await h.admin.client.data<{ space: { owner: { servicePassword: string | null } } }>(
      `query($id: ID!) { space(id: $id) { owner { servicePassword } } }`,
      { id: spaceId },
    );
    expect(seen.space.owner.servicePassword).toBeNull();
  });
});
