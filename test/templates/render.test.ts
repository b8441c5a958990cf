import { describe, expect, it } from 'vitest';
import { findVariableErrors, renderTemplate, RenderError } from '../../server/src/templates/index.js';
import { vars } from './fixtures.js';

describe('renderTemplate', () => {
  it('fills variables written with or without spaces inside the braces', () => {
    const v = vars();
    expect(renderTemplate('${{.user.service_password}}', v)).toBe('s3cret');
    expect(renderTemplate('${{ .user.service_password }}', v)).toBe('s3cret');
    expect(renderTemplate('home_${{   .space.id}}-${{ .user.username  }}', v)).toBe(
      'home_3f2c9a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b-alice',
    );
  });

  it('knows every documented variable', () => {
    const text = [
      '.space.id', '.space.name', '.template.id', '.template.name', '.user.id', '.user.username', '.user.email',
      '.user.timezone', '.user.service_password', '.server.url', '.server.agent_endpoint', '.server.wildcard_domain',
    ].map((p) => `\${{ ${p} }}`).join('|');
    expect(renderTemplate(text, vars()).split('|')).toEqual([
      '3f2c9a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', 'mytest', '7a1b2c3d-0000-4000-8000-000000000001', 'MariaDB', 'u-1',
      'alice', 'alice@example.com', 'Europe/London', 's3cret', 'https://knot.example.com', 'knot.example.com:3000',
      '*.knot.example.com',
    ]);
  });

  it('fills admin variables and refuses ones that do not exist', () => {
    expect(renderTemplate('${{ .var.REGISTRY }}/app', vars({ var: { REGISTRY: 'reg.local' } }))).toBe('reg.local/app');
    expect(() => renderTemplate('${{ .var.MISSING }}', vars())).toThrow(RenderError);
    // Not an own property: must not leak Object.prototype members.
    expect(() => renderTemplate('${{ .var.constructor }}', vars())).toThrow(/unknown variable/);
  });

  it('does not render variables found inside a value', () => {
    const v = vars({ user: { service_password: '${{ .user.email }}' } });
    expect(renderTemplate('${{ .user.service_password }}', v)).toBe('${{ .user.email }}');
  });
});

describe('findVariableErrors', () => {
  const known = new Set(['REGISTRY']);

  it('accepts known variables', () => {
    expect(findVariableErrors('image: ${{ .var.REGISTRY }}/x\nuser: ${{.user.username}}\n', known)).toEqual([]);
  });

  it('refuses an unknown variable with its line and column', () => {
    const errors = findVariableErrors('image: debian\nenvironment:\n  - A=${{ .user.nmae }}\n', known);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 3, column: 7 });
    expect(errors[0]!.message).toContain('.user.nmae');
    expect(errors[0]!.message).toContain('.user.username');
  });

  it('refuses an admin variable that is not defined', () => {
    const [error] = findVariableErrors('a: ${{ .var.TOKEN }}', known);
    expect(error).toMatchObject({ line: 1, column: 4 });
    expect(error!.message).toMatch(/no template variable named "TOKEN"/);
  });

  it('refuses unclosed, empty and non-path expressions', () => {
    const errors = findVariableErrors('a: ${{ .user.id\nb: ${{ }}\nc: ${{ user.id }}\nd: ${{ .user.id | upper }}\n', known);
    expect(errors.map((e) => e.line)).toEqual([1, 2, 3, 4]);
    expect(errors[0]!.message).toMatch(/not closed/);
    expect(errors[1]!.message).toMatch(/empty/);
  });
});
