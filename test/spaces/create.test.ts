import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { CREATE_SPACE, UPDATE_SPACE, containerOf, startSpacesHarness, type SpacesHarness, type SpaceView } from './fixture.js';

const SPACE_NAMES = `{ spaces { name altNames } }`;

describe('creating a space', () => {
  let h: SpacesHarness;
  let templateId: string;
  let bob: { client: GraphQLTestClient; userId: string };
  beforeAll(async () => {
    h = await startSpacesHarness();
    templateId = (await h.createTemplate({ name: 'busybox', volumes: `volumes:\n  data_\${{ .space.id }}:\n` })).id;
    bob = await createUser(h.server, h.admin.client, 'bob');
    await bob.client.data(`mutation { updateProfile(input: { preferredShell: zsh }) { id } }`);
  });
  afterAll(() => h.dispose());

  async function refusal(client: GraphQLTestClient, input: Record<string, unknown>) {
    const res = await client.request(CREATE_SPACE, { input: { templateId, ...input } });
    expect(res.errors, `expected ${JSON.stringify(input)} to be refused`).toBeDefined();
    return { code: res.errors![0]!.extensions!.code, message: res.errors![0]!.message };
  }

  it('creates it STOPPED, with no container and no volume yet', async () => {
    const space = await h.createSpace({ templateId, name: 'mytest', altNames: ['web-1'] });
    expect(space).toMatchObject({ name: 'mytest', altNames: ['web-1'], status: 'STOPPED', error: null, updateAvailable: false });
    expect(space.owner.id).toBe(h.admin.userId);
    expect(await h.runtime.inspectContainer(containerOf(space.id))).toBeNull();
    expect(await h.runtime.listVolumes({ 'knot.space': space.id })).toEqual([]);
  });

  it("uses the owner's preferred shell unless one is given", async () => {
    expect((await h.createSpace({ templateId, name: 'adminshell' })).shell).toBe('bash');
    expect((await h.createSpace({ templateId, name: 'zshspace' }, bob.client)).shell).toBe('zsh');
    expect((await h.createSpace({ templateId, name: 'fishspace', shell: 'fish' }, bob.client)).shell).toBe('fish');
  });

  it("uses the template's shell over the owner's preference, unless one is given; a template's shell can be cleared", async () => {
    const withFish = (await h.createTemplate({ name: 'fishy', shell: 'fish' })).id;
    expect((await h.createSpace({ templateId: withFish, name: 'fromfishy' }, bob.client)).shell).toBe('fish');
    expect((await h.createSpace({ templateId: withFish, name: 'fishysh', shell: 'sh' }, bob.client)).shell).toBe('sh');
    const read = `query($id: ID!) { template(id: $id) { shell } }`;
    expect(await h.admin.client.data(read, { id: withFish })).toEqual({ template: { shell: 'fish' } });
    // Omitted: unchanged; null: back to each owner's preference.
    await h.admin.client.data(`mutation($id: ID!) { updateTemplate(id: $id, input: { description: "x" }) { id } }`, { id: withFish });
    expect(await h.admin.client.data(read, { id: withFish })).toEqual({ template: { shell: 'fish' } });
    await h.admin.client.data(`mutation($id: ID!) { updateTemplate(id: $id, input: { shell: null }) { id } }`, { id: withFish });
    expect(await h.admin.client.data(read, { id: withFish })).toEqual({ template: { shell: null } });
    expect((await h.createSpace({ templateId: withFish, name: 'nofish' }, bob.client)).shell).toBe('zsh');
  });

  it.each([
    ['', /needs a name/],
    ['9lives', /start with a letter/],
    ['-dash', /start with a letter/],
    ['has space', /letters, digits and "-"/],
    ['under_score', /letters, digits and "-"/],
    ['dot.name', /letters, digits and "-"/],
    ['two--dashes', /cannot contain "--"/],
    ['a'.repeat(65), /at most 64/],
  ])('refuses the name %j with BAD_USER_INPUT and creates nothing', async (name, message) => {
    const before = await h.admin.client.data(SPACE_NAMES);
    const res = await refusal(h.admin.client, { name });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.message).toMatch(message);
    expect(await h.admin.client.data(SPACE_NAMES)).toEqual(before);
  });

  it('accepts a 64-character name and refuses bad additional names by the same rules', async () => {
    const long = `a${'b'.repeat(63)}`;
    expect((await h.createSpace({ templateId, name: long })).name).toBe(long);
    const res = await refusal(h.admin.client, { name: 'fine', altNames: ['bad--alt'] });
    expect(res.code).toBe('BAD_USER_INPUT');
    expect(res.message).toMatch(/--/);
  });

  it('refuses a name already used by the same owner, case-insensitively, across names and additional names', async () => {
    for (const input of [
      { name: 'MyTest' },
      { name: 'WEB-1' },
      { name: 'fresh', altNames: ['MYTEST'] },
      { name: 'fresh', altNames: ['Web-1'] },
    ]) {
      const res = await refusal(h.admin.client, input);
      expect(res.code, JSON.stringify(input)).toBe('NAME_TAKEN');
    }
    const clash = await refusal(h.admin.client, { name: 'web-1' });
    expect(clash.message).toBe('"web-1" is already a name of your space "mytest".');
    const own = await refusal(h.admin.client, { name: 'ok', altNames: ['OK'] });
    expect(own.code).toBe('BAD_USER_INPUT');
    // Names are per owner: Bob may use the admin's.
    expect((await h.createSpace({ templateId, name: 'mytest', altNames: ['web-1'] }, bob.client)).owner.id).toBe(bob.userId);
  });

  it('refuses an unknown template with NOT_FOUND', async () => {
    for (const id of ['00000000-0000-4000-8000-00000000abcd', 'not-a-uuid']) {
      const res = await h.admin.client.request(CREATE_SPACE, { input: { templateId: id, name: 'orphan' } });
      expect(res.errors![0]!.extensions!.code).toBe('NOT_FOUND');
      expect(res.errors![0]!.message).toMatch(/template/);
    }
  });

  it('creates for another user only with MANAGE_SPACES ("Create Space For")', async () => {
    const res = await refusal(bob.client, { name: 'forAdmin', userId: h.admin.userId });
    expect(res.code).toBe('FORBIDDEN');
    const adminsSpaces = await h.admin.client.data<{ spaces: { name: string }[] }>(`{ spaces { name } }`);
    expect(adminsSpaces.spaces.map((s) => s.name)).not.toContain('forAdmin');

    const made = await h.createSpace({ templateId, name: 'madeForBob', userId: bob.userId });
    expect(made.owner).toEqual({ id: bob.userId, username: 'bob' });
    expect(made.shell).toBe('zsh');
    const bobs = await bob.client.data<{ spaces: { name: string }[] }>(`{ spaces { name } }`);
    expect(bobs.spaces.map((s) => s.name)).toContain('madeForBob');

    const role = await h.admin.client.data<{ createRole: { id: string } }>(
      `mutation { createRole(name: "Space managers", permissions: [MANAGE_SPACES]) { id } }`,
    );
    const carol = await createUser(h.server, h.admin.client, 'carol', [role.createRole.id]);
    const forBob = await h.createSpace({ templateId, name: 'fromCarol', userId: bob.userId }, carol.client);
    expect(forBob.owner.id).toBe(bob.userId);
    const unknownUser = await refusal(carol.client, { name: 'ghost', userId: '00000000-0000-4000-8000-00000000abcd' });
    expect(unknownUser.code).toBe('NOT_FOUND');
  });

  it("hides another user's space (NOT_FOUND) from someone without MANAGE_SPACES", async () => {
    const [adminSpace] = (await h.admin.client.data<{ spaces: SpaceView[] }>(`{ spaces { id name } }`)).spaces;
    for (const query of [
      [`query($id: ID!) { space(id: $id) { id } }`, { id: adminSpace!.id }],
      [`mutation($id: ID!) { startSpace(id: $id) { id } }`, { id: adminSpace!.id }],
      [`mutation($id: ID!) { deleteSpace(id: $id) }`, { id: adminSpace!.id }],
      [UPDATE_SPACE, { id: adminSpace!.id, input: { name: 'stolen' } }],
    ] as const) {
      const res = await bob.client.request(query[0], query[1]);
      expect(res.errors![0]!.extensions!.code).toBe('NOT_FOUND');
    }
    const listed = await bob.client.request(`query($u: ID) { spaces(userId: $u) { id } }`, { u: h.admin.userId });
    expect(listed.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await h.space(adminSpace!.id)).name).toBe(adminSpace!.name);
  });

  it('gives exactly one of two racing creates of the same name, the other NAME_TAKEN', async () => {
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => h.admin.client.request(CREATE_SPACE, { input: { templateId, name: i % 2 ? 'Racer' : 'racer' } })),
    );
    const ok = results.filter((r) => !r.errors);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
    h.spaceIds.add((ok[0]!.data as { createSpace: SpaceView }).createSpace.id);
  });

  it('gives exactly one of two racing creates that share an additional name', async () => {
    const results = await Promise.all(
      ['alpha', 'beta', 'gamma'].map((name) => h.admin.client.request(CREATE_SPACE, { input: { templateId, name, altNames: ['shared-alt'] } })),
    );
    const ok = results.filter((r) => !r.errors);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
    for (const r of ok) h.spaceIds.add((r.data as { createSpace: SpaceView }).createSpace.id);
  });
});
