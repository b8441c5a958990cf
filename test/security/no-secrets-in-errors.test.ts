/**
 * A protected variable rendered into a template never comes back in
 * an error, a space's `error`, a log line or the audit log.
 *  - saving a template whose field renders it badly (the finding: the value was in the message);
 *  - starting a space whose image names it, when the pull fails (the engine's error quotes the
 *    image, and it went into `Space.error`, which MANAGE_SPACES reads, and into the log).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_REGISTRY } from '../helpers/env.js';
import { captureLogs } from '../helpers/logs.js';
import { startSpacesHarness, type SpacesHarness } from '../spaces/fixture.js';

const SECRET = 'tok3n-7f2c9e1ab44d';
const CREATE_TEMPLATE = `mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`;

describe('protected variables never appear in errors, logs or the audit log', () => {
  let h: SpacesHarness;
  const logs = captureLogs('debug');

  beforeAll(async () => {
    h = await startSpacesHarness({ logger: logs.logger });
    await h.admin.client.data(`mutation($v: String!) { createVariable(name: "PULL_TOKEN", value: $v, protected: true) { id } }`, { v: SECRET });
  });
  afterAll(() => h?.dispose());

  function expectNoSecretAnywhere(value: unknown) {
    expect(JSON.stringify(value)).not.toContain(SECRET);
  }

  it('a refused template save names the line and the problem, with the value shown as [protected]', async () => {
    for (const job of [`image: "my image \${{ .var.PULL_TOKEN }}"\n`, `image: x\nmemory: \${{ .var.PULL_TOKEN }}\n`]) {
      const res = await h.admin.client.request(CREATE_TEMPLATE, { input: { name: 'leaky', job } });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/job line \d+: .*\[protected\]/);
      expectNoSecretAnywhere(res.errors);
    }
  });

  it('a failed start says why in Space.error without the value, and logs none of it', async () => {
    const template = await h.createTemplate({ name: 'private image', job: `image: ${TEST_REGISTRY}/knot-missing-\${{ .var.PULL_TOKEN }}:1\n` });
    const space = await h.createSpace({ templateId: template.id, name: 'pulls' });
    const sub = await h.watch(space.id);
    await h.admin.client.data(`mutation($id: ID!) { startSpace(id: $id) { id } }`, { id: space.id });
    const failed = await sub.next((e) => e.spaceChanged.space?.status === 'FAILED');
    sub.close();
    const error = failed.spaceChanged.space!.error!;
    expect(error).toMatch(/could not start/);
    expect(error).toContain('[protected]');
    expectNoSecretAnywhere(error);

    const audit = await h.admin.client.data(`{ auditLog(first: 500) { entries { action details } } }`);
    expectNoSecretAnywhere(audit);
    expect(logs.lines.some((l) => l.msg === 'space failed to start')).toBe(true);
    expectNoSecretAnywhere(logs.lines);
  });
});
