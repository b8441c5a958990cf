import { describe, expect, it } from 'vitest';
import { renderJob, TemplateError, validateTemplate } from '../../server/src/templates/index.js';
import { vars } from './fixtures.js';

const docker = (job: string, volumes = '', knownVars: ReadonlySet<string> | Record<string, string> = new Set()) =>
  validateTemplate({ job, volumes, platform: 'DOCKER', knownVars });

describe('validateTemplate at save', () => {
  it('accepts a valid template using variables, including in volume names', () => {
    const result = docker(
      'image: mariadb\nenvironment:\n  - MARIADB_ROOT_PASSWORD=${{ .user.service_password }}\nvolumes:\n  - db_${{ .space.id }}:/var/lib/mysql\n',
      'volumes:\n  db_${{.space.id}}:\n',
    );
    expect(result).toEqual({ ok: true });
  });

  it('refuses an unknown variable with its document and line', () => {
    const result = docker('image: x\nhostname: ${{ .space.nmae }}\n', 'volumes:\n  v_${{ .var.MISSING }}:\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.document, e.line, e.column])).toEqual([
      ['job', 2, 11],
      ['volumes', 2, 5],
    ]);
  });

  it('marks an unclosed bracket, brace or quote on the line it opens, not where parsing gave up', () => {
    const lines = (job: string) => {
      const result = docker(job);
      return result.ok ? [] : result.errors.map((e) => [e.line, e.column, e.message]);
    };
    expect(lines('image: [unclosed\n')).toEqual([[1, 8, expect.stringMatching(/^YAML syntax: the "\[" here is never closed/)]]);
    expect(lines('image: x\nenvironment: {A: 1\n\n\nhostname: h\n')[0]).toEqual([2, 14, expect.stringMatching(/the "\{" here is never closed/)]);
    expect(lines('image: x\nhostname: "open\n')[0]).toEqual([2, 11, expect.stringMatching(/the " quote here is never closed/)]);
    // A closed bracket with a mistake elsewhere keeps the parser's own position.
    expect(lines('image: x\ncommand: [a]\nenvironment:\n  A: one\n B: two\n')[0]).toEqual([5, expect.any(Number), expect.stringMatching(/same column/)]);
  });

  it('accepts admin variables that exist', () => {
    expect(docker('image: ${{ .var.REGISTRY }}/dev\n', '', new Set(['REGISTRY']))).toEqual({ ok: true });
  });

  it('checks fields built from admin variables against their values when given', () => {
    expect(docker('image: x\nmemory: ${{ .var.MEM }}\n', '', { MEM: '2g' })).toEqual({ ok: true });
    const result = docker('image: x\nmemory: ${{ .var.MEM }}\n', '', { MEM: 'plenty' });
    expect(result.ok).toBe(false);
  });

  it('ignores variables in comments, as rendering does', () => {
    expect(docker('# was: ${{ .user.old_field }}\nimage: x # ${{ .nope }}\n')).toEqual({ ok: true });
  });

  it('reports a malformed expression once', () => {
    const result = docker('image: x\nhostname: h${{ .space.id\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.filter((e) => /not closed/.test(e.message))).toHaveLength(1);
  });

  it('reports YAML syntax and structure problems together with variable problems', () => {
    const result = docker('image: ${{ .who }}\nmemory: lots\n', 'volumes: [unclosed\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.document, e.line])).toEqual([
      ['job', 1],
      ['job', 2],
      ['volumes', 1],
    ]);
  });

  it('requires a docker job to have an image', () => {
    expect(docker('')).toMatchObject({ ok: false, errors: [{ message: '"image" is required' }] });
  });

  it('requires a manual template to have no job and no volumes', () => {
    const manual = (job: string, volumes = '') => validateTemplate({ job, volumes, platform: 'MANUAL', knownVars: new Set() });
    expect(manual('')).toEqual({ ok: true });
    expect(manual('# nothing here\n')).toEqual({ ok: true });
    expect(manual('image: x\n')).toMatchObject({ ok: false, errors: [{ document: 'job', line: 1 }] });
    expect(manual('', 'volumes:\n  a:\n')).toMatchObject({ ok: false, errors: [{ document: 'volumes' }] });
  });
});

describe('renderJob at start', () => {
  it('refuses an admin variable deleted since the template was saved, with its line', () => {
    try {
      renderJob({ job: 'image: x\nhostname: ${{ .var.GONE }}\n', volumes: '' }, vars());
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateError);
      expect((error as TemplateError).issues[0]).toMatchObject({ document: 'job', line: 2, column: 11 });
    }
  });

  it('refuses a volume name that is only invalid with real values', () => {
    expect(() => renderJob({ job: 'image: x\n', volumes: 'volumes:\n  ${{ .user.email }}:\n' }, vars())).toThrow(
      /volumes line 2: volume name "alice@example.com"/,
    );
  });
});
