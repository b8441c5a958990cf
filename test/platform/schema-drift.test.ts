import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema, schemaFile } from '../../server/src/graphql/print-schema.js';

describe('schema/schema.graphql', () => {
  it('is the schema the server serves (run `npm run schema:print` after changing it)', () => {
    expect(readFileSync(schemaFile, 'utf8')).toBe(printedSchema());
  });

  it('names the public contract of DESIGN.md', () => {
    const sdl = printedSchema();
    for (const field of ['me', 'users', 'roles', 'auditLog']) expect(sdl).toMatch(new RegExp(`\\n  ${field}[(:]`));
    for (const field of [
      'setup', 'login', 'logout', 'createApiToken', 'revokeApiToken', 'updateProfile',
      'createUser', 'updateUser', 'deleteUser', 'createRole', 'updateRole', 'deleteRole',
    ]) {
      expect(sdl).toMatch(new RegExp(`\\n  ${field}[(:]`));
    }
  });
});
