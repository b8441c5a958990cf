import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { printedSchema, schemaFile } from '../../server/src/graphql/print-schema.js';

describe('schema/schema.graphql', () => {
  it('is the schema the server serves (run `npm run schema:print` after changing it)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(printedSchema());
  });

  it('names the public contract (the root fields integrations rely on)', () => {
    const sdl = printedSchema();
    for (const field of ['me', 'users', 'roles', 'auditLog']) expect(sdl).toMatch(new RegExp(`\\n  ${field}[(:]`));
    for (const field of [
      'setup', 'login', 'logout', 'createApiToken', 'revokeApiToken', 'updateProfile',
      'createUser', 'updateUser', 'deleteUser', 'createRole', 'updateRole', 'deleteRole',
    ]) {
      expect(sdl).toMatch(new RegExp(`\\n  ${field}[(:]`));
    }
  });

  it('is what the clients\' generated types (schema/client/graphql-env.d.ts) were made from (run `npm run schema:print`)', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const dir = mkdtempSync(path.join(tmpdir(), 'knot-graphql-env-'));
    try {
      const fresh = path.join(dir, 'graphql-env.d.ts');
      execFileSync(path.join(root, 'node_modules/.bin/gql.tada'), ['generate', 'output', '--output', fresh], { cwd: root, stdio: 'pipe' });
      expect(readFileSync(path.join(root, 'schema/client/graphql-env.d.ts'), 'utf8')).toBe(readFileSync(fresh, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
