import { describe, expect, it } from 'vitest';
import { parseVolumesSpec, renderJob, renderTemplate, TemplateError } from '../../server/src/templates/index.js';
import { vars } from './fixtures.js';

const render = (text: string) => renderTemplate(text, vars());

describe('volume definitions', () => {
  it('renders names that use the space id', () => {
    const names = parseVolumesSpec('volumes:\n  data:\n  home_${{ .space.id }}:\n', render);
    expect(names).toEqual(['data', 'home_3f2c9a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b']);
  });

  it('accepts an empty document, comments only, or an empty list', () => {
    expect(parseVolumesSpec('')).toEqual([]);
    expect(parseVolumesSpec('# no volumes yet\n')).toEqual([]);
    expect(parseVolumesSpec('volumes:\n')).toEqual([]);
  });

  it('accepts options under a volume', () => {
    expect(parseVolumesSpec('volumes:\n  data:\n    driver: local\n')).toEqual(['data']);
  });

  it('refuses a name Docker would refuse, after rendering, with its line', () => {
    try {
      parseVolumesSpec('volumes:\n  good:\n  "-bad":\n  home_${{ .user.email }}:\n', render);
      expect.unreachable();
    } catch (error) {
      const issues = (error as TemplateError).issues;
      expect(issues.map((i) => [i.document, i.line])).toEqual([['volumes', 3], ['volumes', 4]]);
      expect(issues[1]!.message).toContain('home_alice@example.com');
    }
  });

  it('refuses names that collide after rendering, unknown keys and a list instead of a map', () => {
    expect(() => parseVolumesSpec('volumes:\n  mytest:\n  ${{ .space.name }}:\n', render)).toThrow(/defined twice/);
    expect(() => parseVolumesSpec('volume:\n  data:\n')).toThrow(/volumes line 1: unknown key "volume"/);
    expect(() => parseVolumesSpec('volumes:\n  - data\n')).toThrow(/volumes line 2: "volumes" must be a mapping/);
  });

  it('is returned by renderJob alongside the job', () => {
    const rendered = renderJob({ job: 'image: x\n', volumes: 'volumes:\n  v_${{ .space.id }}:\n' }, vars());
    expect(rendered.volumes).toEqual(['v_3f2c9a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b']);
  });
});
