/**
 * Relative of findings 3 and 4: a template manager who is not an Admin saved `ports: ["8080"]`.
 * Docker published the port on every host address, so another user's space reached that dev
 * server through the host gateway (past the spaces' network isolation), and so did anyone on the
 * network, without Knot's login. Publishing a port on the host is now for an Admin to decide.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser, setupAdmin, startTestServer, type TestServer } from '../helpers/server.js';

const CREATE_TEMPLATE = `mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`;
const UPDATE_TEMPLATE = `mutation($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id } }`;

describe('ports published on the Docker host', () => {
  let server: TestServer;
  let admin: GraphQLTestClient;
  let templater: GraphQLTestClient;

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await setupAdmin(server)).client;
    const role = await admin.data<{ createRole: { id: string } }>(`mutation { createRole(name: "templates", permissions: [MANAGE_TEMPLATES]) { id } }`);
    templater = (await createUser(server, admin, 'tess', [role.createRole.id])).client;
  });
  afterAll(() => server?.stop());

  for (const entry of ['"8080"', '"127.0.0.1:18080:8080"', '"18080:8080/udp"']) {
    it(`are refused to a template manager who is not an Admin (${entry}), naming the key and line`, async () => {
      const res = await templater.request(CREATE_TEMPLATE, { input: { name: `publish ${entry}`, job: `image: x\nports:\n  - ${entry}\n` } });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', key: 'ports', line: 2 });
      expect(res.errors![0]!.message).toMatch(/^job line 2: only an Admin can save a template with "ports": a published port opens the space/);
    });
  }

  it("cannot be added to an existing template by a template manager, and an Admin's stays out of their reach", async () => {
    const ordinary = await templater.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, { input: { name: 'ordinary', job: 'image: x\n' } });
    const added = await templater.request(UPDATE_TEMPLATE, { id: ordinary.createTemplate.id, input: { job: 'image: x\nports: ["8080"]\n' } });
    expect(added.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const published = await admin.data<{ createTemplate: { id: string } }>(CREATE_TEMPLATE, { input: { name: 'published by the admin', job: 'image: x\nports: ["8080"]\n' } });
    const renamed = await templater.request(UPDATE_TEMPLATE, { id: published.createTemplate.id, input: { name: 'renamed' } });
    expect(renamed.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', key: 'ports' });
  });
});
