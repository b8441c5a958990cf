import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../server/src/templates/job-spec.js';
import { parseVolumesSpec } from '../../server/src/templates/volumes-spec.js';
import { renderTemplate, placeholderVars } from '../../server/src/templates/render.js';
import { newWizardValues, wizardTemplate, type WizardValues } from '../../web/src/lib/state/template-wizard.js';
import { readWizardValues } from '../../web/src/lib/state/template-wizard-read.js';
import { checkWizard } from '../../web/src/lib/state/template-wizard-check.js';

/** Every field set away from its default. */
const full: WizardValues = {
  image: 'registry.local:5000/team/dev:1.2',
  command: 'sleep infinity',
  hostname: true,
  shell: 'zsh',
  terminal: false,
  codeServer: true,
  codeServerPort: '13338',
  desktop: true,
  desktopPort: '3000',
  ssh: true,
  sshPort: '2222',
  httpPorts: [
    { port: '8080', name: 'web' },
    { port: '5173', name: 'vite.dev' },
  ],
  volumes: [
    { name: 'home', path: '/home/dev' },
    { name: 'cache', path: '/var/cache/app' },
  ],
  memory: '2g',
  cpus: '1.5',
  computeUnits: 3,
  storageUnits: 7,
};

/** A service that is off keeps no port in the YAML, so it reads back with the default one. */
const offPortsDefault = (values: WizardValues): WizardValues => {
  const defaults = newWizardValues();
  return {
    ...values,
    codeServerPort: values.codeServer ? values.codeServerPort : defaults.codeServerPort,
    desktopPort: values.desktop ? values.desktopPort : defaults.desktopPort,
    sshPort: values.ssh ? values.sshPort : defaults.sshPort,
  };
};

const saved = (values: WizardValues) => ({ ...wizardTemplate(values), platform: 'DOCKER' as const });
const roundTrip = (values: WizardValues) => readWizardValues(saved(values));

describe('the template wizard', () => {
  it('reads back every field it wrote', () => {
    expect(checkWizard(full)).toEqual({});
    expect(roundTrip(full)).toEqual({ ok: true, values: full });
  });

  it('reads back the defaults, an empty command, no volumes, no ports and no sizes', () => {
    const plain = { ...newWizardValues('knot-test/busybox'), command: '', volumes: [] };
    expect(roundTrip(plain)).toEqual({ ok: true, values: plain });
    expect(roundTrip(newWizardValues('debian:12'))).toEqual({ ok: true, values: newWizardValues('debian:12') });
  });

  it.each<[string, Partial<WizardValues>]>([
    ['the image', { image: 'ubuntu@sha256:' + 'a'.repeat(64) }],
    ['the command', { command: 'python3 -m http.server 8080' }],
    ['each shell', { shell: 'fish' }],
    ['no host name', { hostname: false }],
    ['the terminal switch', { terminal: true }],
    ['Code Server alone', { codeServer: true, desktop: false, ssh: false }],
    ['the desktop alone', { codeServer: false, desktop: true, ssh: false }],
    ['SSH alone', { codeServer: false, desktop: false, ssh: true }],
    ['one web port', { httpPorts: [{ port: '4000', name: 'api' }] }],
    ['one volume', { volumes: [{ name: 'data', path: '/data' }] }],
    ['memory without CPUs', { memory: '512m', cpus: '' }],
    ['CPUs without memory', { memory: '', cpus: '0.5' }],
    ['zero sizes', { computeUnits: 0, storageUnits: 0 }],
  ])('reads back %s', (_what, change) => {
    const values = { ...full, ...change };
    expect(checkWizard(values)).toEqual({});
    expect(roundTrip(values)).toEqual({ ok: true, values: offPortsDefault(values) });
  });

  it('writes YAML the server accepts, with the services as the agent reads them and a volume per space', () => {
    const template = wizardTemplate(full);
    // As the server checks it at save: with its variables rendered.
    const render = (text: string) => renderTemplate(text, placeholderVars({}));
    const job = parseJobSpec(template.job, render);
    expect(job.hostname).toMatch(/^[a-z0-9-]+$/);
    expect(job.image).toBe(full.image);
    expect(job.command).toEqual(['sleep', 'infinity']);
    expect(template.job).toContain('hostname: ${{ .space.name }}\n');
    expect(job.environment).toEqual({
      KNOT_CODE_SERVER_PORT: '13338',
      KNOT_VNC_HTTP_PORT: '3000',
      KNOT_SSH_PORT: '2222',
      KNOT_HTTP_PORT: '8080=web,5173=vite.dev',
    });
    const spaceId = render('${{ .space.id }}');
    expect(job.mounts).toEqual([
      { type: 'volume', source: `home_${spaceId}`, target: '/home/dev', readOnly: false },
      { type: 'volume', source: `cache_${spaceId}`, target: '/var/cache/app', readOnly: false },
    ]);
    expect(job.memoryBytes).toBe(2 * 1024 ** 3);
    expect(job.nanoCpus).toBe(1.5e9);
    expect(parseVolumesSpec(template.volumes, render)).toEqual([`home_${spaceId}`, `cache_${spaceId}`]);
    expect(template).toMatchObject({ shell: 'zsh', withTerminal: false, withCodeServer: true, withSSH: true, withVSCodeTunnel: false, computeUnits: 3, storageUnits: 7 });
    expect(wizardTemplate({ ...full, shell: '' }).shell).toBeNull();
    expect(wizardTemplate({ ...full, volumes: [] }).volumes).toBe('');
  });

  it('reads the same YAML written by hand, with the environment as a list and numbers unquoted', () => {
    const reading = readWizardValues({
      platform: 'DOCKER',
      job: 'image: debian:12\ncommand: sleep infinity\nenvironment:\n  - KNOT_HTTP_PORT=8080\nvolumes: ["home_${{ .space.id }}:/root"]\ncpus: 2\n',
      volumes: 'volumes:\n  home_${{ .space.id }}:\n',
      shell: null,
      withTerminal: true,
      withCodeServer: false,
      withVSCodeTunnel: false,
      withSSH: false,
      computeUnits: 0,
      storageUnits: 0,
    });
    expect(reading).toMatchObject({ ok: true, values: { command: 'sleep infinity', httpPorts: [{ port: '8080', name: '8080' }], cpus: '2', shell: '' } });
  });

  describe('says why it cannot show a template', () => {
    const base = saved(full);
    it.each<[string, Partial<ReturnType<typeof saved>>, RegExp]>([
      ['a key it does not edit', { job: base.job + 'privileged: true\n' }, /sets "privileged"/],
      ['another environment variable', { job: base.job.replace('environment:\n', 'environment:\n  TZ: UTC\n') }, /environment variable TZ/],
      ['a comment', { job: '# mine\n' + base.job }, /comments/],
      ['a bind mount', { job: base.job.replace('- home_${{ .space.id }}:/home/dev', '- /srv/data:/home/dev') }, /host path \/srv\/data/],
      ['a read-only volume', { job: base.job.replace(':/home/dev', ':/home/dev:ro') }, /with options \(ro\)/],
      ['a volume shared by every space', { job: 'image: debian\nvolumes:\n  - home:/root\n', volumes: 'volumes:\n  home:\n', withCodeServer: false, withSSH: false }, /not one per space/],
      ['a volume defined but not mounted', { volumes: base.volumes + '  extra_${{ .space.id }}:\n' }, /not exactly the volumes/],
      ['volume options', { volumes: base.volumes.replace('cache_${{ .space.id }}:', 'cache_${{ .space.id }}:\n    driver: local') }, /has options/],
      ['a command argument with spaces', { job: base.job.replace('["sleep", "infinity"]', '["sh", "-c", "sleep infinity"]') }, /argument with spaces/],
      ['another hostname', { job: base.job.replace('hostname: ${{ .space.name }}', 'hostname: box') }, /hostname/],
      ['a VS Code tunnel', { withVSCodeTunnel: true }, /tunnel/],
      ['Code Server on without its port', { withCodeServer: false }, /Code Server is switched off with KNOT_CODE_SERVER_PORT/],
      ['SSH on without its port', { job: base.job.replace('  KNOT_SSH_PORT: "2222"\n', '') }, /SSH is switched on without KNOT_SSH_PORT/],
      ['an image from a variable', { job: base.job.replace(full.image, '${{ .var.IMAGE }}') }, /variable/],
      ['YAML that does not parse', { job: 'image: [unclosed\n' }, /does not parse/],
      ['a manual template', { platform: 'MANUAL' as never, job: '' }, /manual/],
    ])('%s', (_what, change, reason) => {
      const reading = readWizardValues({ ...base, ...change });
      expect(reading.ok).toBe(false);
      if (!reading.ok) {
        expect(reading.reason).toMatch(reason);
        expect(reading.reason.split('\n')).toHaveLength(1);
      }
    });
  });

  describe('marks bad input on its field', () => {
    it.each<[string, Partial<WizardValues>, string, RegExp]>([
      ['an invalid image reference', { image: 'Ubuntu Latest' }, 'image', /image reference/],
      ['an image with upper case', { image: 'Team/Dev:1' }, 'image', /image reference/],
      ['no image', { image: ' ' }, 'image', /Name the image/],
      ['a relative volume path', { volumes: [{ name: 'home', path: 'home/dev' }] }, 'volumes.0.path', /absolute/],
      ['a duplicate volume name', { volumes: [{ name: 'home', path: '/a' }, { name: 'home', path: '/b' }] }, 'volumes.1.name', /Another volume is named home/],
      ['a bad volume name', { volumes: [{ name: '-x', path: '/a' }] }, 'volumes.0.name', /letter or digit/],
      ['two volumes at one path', { volumes: [{ name: 'a', path: '/data' }, { name: 'b', path: '/data/' }] }, 'volumes.1.path', /Another volume is mounted at/],
      ['a port out of range', { httpPorts: [{ port: '70000', name: 'web' }] }, 'httpPorts.0.port', /1 to 65535/],
      ['port zero', { httpPorts: [{ port: '0', name: 'web' }] }, 'httpPorts.0.port', /1 to 65535/],
      ['a port without a name', { httpPorts: [{ port: '8080', name: '' }] }, 'httpPorts.0.name', /Name the port/],
      ['a port name with a comma', { httpPorts: [{ port: '8080', name: 'a,b' }] }, 'httpPorts.0.name', /Name the port/],
      ['a port a service has', { httpPorts: [{ port: '13338', name: 'web' }] }, 'httpPorts.0.port', /already Code Server's/],
      ['a bad Code Server port', { codeServerPort: 'x' }, 'codeServerPort', /1 to 65535/],
      ['a bad memory size', { memory: 'lots' }, 'memory', /size like 512m/],
      ['too little memory', { memory: '1m' }, 'memory', /at least 6m/],
      ['a bad CPU count', { cpus: '0' }, 'cpus', /greater than 0/],
      ['negative units', { computeUnits: -1 }, 'computeUnits', /0 to 1,000,000/],
      ['quotes in the command', { command: 'sh -c "x y"' }, 'command', /YAML editor/],
    ])('%s', (_what, change, field, message) => {
      const errors = checkWizard({ ...full, ...change });
      expect(errors[field]).toMatch(message);
    });

    it('does not check the port of a service that is off', () => {
      expect(checkWizard({ ...full, codeServer: false, codeServerPort: 'x' })).toEqual({});
    });
  });
});
