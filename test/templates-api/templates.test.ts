import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../helpers/server.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import {
  CREATE_TEMPLATE,
  DELETE_SPACE,
  START_SPACE,
  UPDATE_TEMPLATE,
  busyboxJob,
  startSpacesHarness,
  type SpacesHarness,
} from '../spaces/fixture.js';

const TEMPLATES = `{ templates { id name active } }`;
const TEMPLATE = `query($id: ID!) { template(id: $id) { id name description platform job volumes withTerminal withCodeServer withVSCodeTunnel withSSH hash active } }`;
const DELETE_TEMPLATE = `mutation($id: ID!) { deleteTemplate(id: $id) }`;

interface TemplateView {
  id: string;
  name: string;
  description: string;
  platform: string;
  job: string;
  volumes: string;
  hash: string;
  active: boolean;
}

describe('templates through the API', () => {
  let h: SpacesHarness;
  let erin: { client: GraphQLTestClient; userId: string };
  let frank: { client: GraphQLTestClient; userId: string };
  beforeAll(async () => {
    h = await startSpacesHarness();
    erin = await createUser(h.server, h.admin.client, 'erin');
    const role = await h.admin.client.data<{ createRole: { id: string } }>(
      `mutation { createRole(name: "Template editors", permissions: [MANAGE_TEMPLATES]) { id } }`,
    );
    frank = await createUser(h.server, h.admin.client, 'frank', [role.createRole.id]);
  });
  afterAll(() => h.dispose());

  const get = async (id: string, client = h.admin.client) => (await client.data<{ template: TemplateView }>(TEMPLATE, { id })).template;
  const names = async (client: GraphQLTestClient) => (await client.data<{ templates: { name: string }[] }>(TEMPLATES)).templates.map((t) => t.name);

  it('lets MANAGE_TEMPLATES create, update and delete, and refuses everyone else with FORBIDDEN', async () => {
    const input = { name: 'Busybox', description: 'A small one', job: busyboxJob(), withCodeServer: true };
    const denied = await erin.client.request(CREATE_TEMPLATE, { input });
    expect(denied.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(await names(h.admin.client)).toEqual([]);

    const created = await h.createTemplate(input, frank.client);
    const saved = await get(created.id);
    expect(saved).toMatchObject({ name: 'Busybox', description: 'A small one', platform: 'DOCKER', job: busyboxJob(), active: true });
    expect(saved.hash).toMatch(/^[0-9a-f]{64}$/);

    const update = await erin.client.request(UPDATE_TEMPLATE, { id: created.id, input: { description: 'hijacked' } });
    expect(update.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const remove = await erin.client.request(DELETE_TEMPLATE, { id: created.id });
    expect(remove.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect((await get(created.id)).description).toBe('A small one');

    await frank.client.data(UPDATE_TEMPLATE, { id: created.id, input: { description: 'Edited' } });
    expect(await get(created.id)).toMatchObject({ description: 'Edited', hash: saved.hash });
    await frank.client.data(DELETE_TEMPLATE, { id: created.id });
    const gone = await h.admin.client.request(TEMPLATE, { id: created.id });
    expect(gone.errors![0]!.extensions!.code).toBe('NOT_FOUND');
  });

  it('lists active templates to every user; only template managers see inactive ones', async () => {
    await h.createTemplate({ name: 'Shown' });
    const hidden = await h.createTemplate({ name: 'Retired', active: false });
    expect(await names(erin.client)).toEqual(['Shown']);
    expect(await names(frank.client)).toEqual(['Retired', 'Shown']);
    // An inactive template cannot get new spaces.
    const res = await erin.client.request(`mutation($t: ID!) { createSpace(input: { templateId: $t, name: "x" }) { id } }`, { t: hidden.id });
    expect(res.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toMatch(/not active/);
  });

  it('refuses YAML that does not parse with BAD_USER_INPUT naming the line, and saves nothing', async () => {
    const job = `image: knot-test/busybox:latest\ncommand: [sleep, '3600']\nenvironment:\n  A: one\n B: misaligned\n`;
    const res = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: 'Broken', job } });
    const error = res.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'job', line: 5 });
    expect(error.message).toMatch(/^job line 5: YAML syntax: All mapping items must start at the same column/);
    expect(await names(frank.client)).not.toContain('Broken');

    const volumes = await h.admin.client.request(CREATE_TEMPLATE, {
      input: { name: 'Broken volumes', job: busyboxJob(), volumes: `volumes:\n  data:\n   - [oops\n` },
    });
    expect(volumes.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'volumes', line: 3 });
  });

  it('marks an unclosed bracket on the line that opens it, not where the parser gave up', async () => {
    const res = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: 'Unclosed', job: 'image: [unclosed\ncommand: [sleep, "3600"]\n' } });
    const error = res.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'job', line: 1 });
    expect(error.message).toMatch(/^job line 1: YAML syntax: the "\[" here is never closed/);
    expect((error.extensions!.problems as Array<{ line: number; column: number }>)[0]).toMatchObject({ line: 1, column: 8 });
    expect(await names(frank.client)).not.toContain('Unclosed');
  });

  it('refuses an unknown variable with its line, on create and on update, changing nothing', async () => {
    const job = `image: knot-test/busybox:latest\ncommand: [sleep, '3600']\nenvironment:\n  OK: \${{ .user.username }}\n  BAD: \${{ .nope }}\n`;
    const res = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: 'Unknown var', job } });
    const error = res.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'job', line: 5 });
    expect(error.message).toMatch(/job line 5: unknown variable "\.nope"/);

    const existing = await h.createTemplate({ name: 'Stable' });
    const before = await get(existing.id);
    const update = await h.admin.client.request(UPDATE_TEMPLATE, {
      id: existing.id,
      input: { volumes: `volumes:\n  data_\${{ .space.id }}:\n  other_\${{ .var.MISSING }}:\n` },
    });
    expect(update.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'volumes', line: 3 });
    expect(update.errors![0]!.message).toMatch(/MISSING/);
    expect(await get(existing.id)).toEqual(before);
  });

  it('refuses a second template with the same name, case-insensitively', async () => {
    const res = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: 'SHOWN', job: busyboxJob() } });
    expect(res.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
  });

  it('gives one of several racing creates of one template name the name, the others NAME_TAKEN', async () => {
    const results = await Promise.all(
      ['Raced', 'raced', 'RACED'].map((name) => h.admin.client.request(CREATE_TEMPLATE, { input: { name, job: busyboxJob() } })),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) expect(r.errors![0]!.extensions!.code).toBe('NAME_TAKEN');
  });

  it('changes the hash with the job, the volumes and the service flags, not with the description', async () => {
    const t = await h.createTemplate({ name: 'Hashed' });
    const hashAfter = async (input: Record<string, unknown>) =>
      (await h.admin.client.data<{ updateTemplate: { hash: string } }>(UPDATE_TEMPLATE, { id: t.id, input })).updateTemplate.hash;
    const seen = new Set([t.hash]);
    expect(await hashAfter({ description: 'words' })).toBe(t.hash);
    for (const input of [{ withSSH: true }, { volumes: 'volumes:\n  v1:\n' }, { job: busyboxJob('hostname: box\n') }]) {
      const hash = await hashAfter(input);
      expect(seen.has(hash), JSON.stringify(input)).toBe(false);
      seen.add(hash);
    }
  });

  it('refuses to delete a template that spaces use (TEMPLATE_IN_USE), and deletes it once they are gone', async () => {
    const t = await h.createTemplate({ name: 'In use' });
    const space = await h.createSpace({ templateId: t.id, name: 'user-of-template' }, erin.client);
    const res = await h.admin.client.request(DELETE_TEMPLATE, { id: t.id });
    expect(res.errors![0]!.extensions!.code).toBe('TEMPLATE_IN_USE');
    expect(res.errors![0]!.message).toMatch(/used by 1 space/);
    expect((await get(t.id)).name).toBe('In use');

    const platform = await h.admin.client.request(UPDATE_TEMPLATE, { id: t.id, input: { platform: 'MANUAL', job: '' } });
    expect(platform.errors![0]!.extensions!.code).toBe('TEMPLATE_IN_USE');

    await erin.client.data(DELETE_SPACE, { id: space.id });
    expect((await h.admin.client.data<{ deleteTemplate: boolean }>(DELETE_TEMPLATE, { id: t.id })).deleteTemplate).toBe(true);
  });

  it('has manual templates without a job, whose spaces refuse to start', async () => {
    const withJob = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: 'Manual with job', platform: 'MANUAL', job: busyboxJob() } });
    expect(withJob.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(withJob.errors![0]!.message).toMatch(/manual template has no job/);

    const manual = await h.createTemplate({ name: 'Manual', platform: 'MANUAL', job: '' });
    const space = await h.createSpace({ templateId: manual.id, name: 'my-laptop' }, erin.client);
    const start = await erin.client.request(START_SPACE, { id: space.id });
    expect(start.errors![0]!.extensions!.code).toBe('INVALID_TRANSITION');
    expect(start.errors![0]!.message).toMatch(/manual template/);
    expect((await h.space(space.id)).status).toBe('STOPPED');
  });
});
