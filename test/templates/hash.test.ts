import { describe, expect, it } from 'vitest';
import { templateHash, type TemplateHashInput } from '../../server/src/templates/index.js';

const base: TemplateHashInput = {
  job: 'image: debian\nenvironment:\n  - A=1\n',
  volumes: 'volumes:\n  data:\n',
  withTerminal: true,
  withCodeServer: false,
  withVSCodeTunnel: false,
  withSSH: true,
};

describe('templateHash', () => {
  it('is a stable sha256 hex', () => {
    expect(templateHash(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(templateHash({ ...base })).toBe(templateHash(base));
  });

  it('ignores line endings, trailing spaces and trailing newlines', () => {
    const h = templateHash(base);
    expect(templateHash({ ...base, job: 'image: debian\r\nenvironment:\r\n  - A=1' })).toBe(h);
    expect(templateHash({ ...base, job: 'image: debian   \nenvironment:\n  - A=1\n\n\n' })).toBe(h);
    expect(templateHash({ ...base, volumes: 'volumes:\n  data:' })).toBe(h);
  });

  it('changes on any real change', () => {
    const h = templateHash(base);
    const changed = [
      { ...base, job: 'image: debian:12\nenvironment:\n  - A=1\n' },
      { ...base, job: 'image: debian\nenvironment:\n  - A=1 \n'.replace('A=1 ', 'A= 1') },
      { ...base, job: ' image: debian\nenvironment:\n  - A=1\n' },
      { ...base, volumes: 'volumes:\n  data:\n  more:\n' },
      { ...base, withTerminal: false },
      { ...base, withCodeServer: true },
      { ...base, withVSCodeTunnel: true },
      { ...base, withSSH: false },
    ];
    const hashes = changed.map(templateHash);
    for (const other of hashes) expect(other).not.toBe(h);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('keeps job and volumes apart', () => {
    expect(templateHash({ ...base, job: 'a\nb', volumes: '' })).not.toBe(templateHash({ ...base, job: 'a', volumes: 'b' }));
  });
});
