import type { TemplateVars } from '../../server/src/templates/index.js';

export function vars(overrides: { user?: Partial<TemplateVars['user']>; var?: Record<string, string> } = {}): TemplateVars {
  return {
    space: { id: '3f2c9a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', name: 'mytest' },
    template: { id: '7a1b2c3d-0000-4000-8000-000000000001', name: 'MariaDB' },
    user: {
      id: 'u-1',
      username: 'alice',
      email: 'alice@example.com',
      timezone: 'Europe/London',
      service_password: 's3cret',
      ...overrides.user,
    },
    server: { url: 'https://knot.example.com', agent_endpoint: 'knot.example.com:3000', wildcard_domain: '*.knot.example.com' },
    var: overrides.var ?? {},
  };
}
