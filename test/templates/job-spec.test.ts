import { describe, expect, it } from 'vitest';
import { parseJobSpec, renderJob, TemplateError, type TemplateIssue } from '../../server/src/templates/index.js';
import { formatMemory } from '../../server/src/templates/job-fields.js';
import { vars } from './fixtures.js';

function issuesOf(fn: () => unknown): TemplateIssue[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof TemplateError) return error.issues;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

const mariadb = `image: mariadb:11
environment:
  - MARIADB_ROOT_PASSWORD=\${{.user.service_password}}
ports:
  - "3306:3306"
volumes:
  - mariadb_\${{ .space.id }}:/var/lib/mysql
`;

describe('the MariaDB example from the guide', () => {
  it('sets the root password to the user service password at start', () => {
    const { job } = renderJob({ job: mariadb, volumes: '' }, vars({ user: { service_password: 'hunter2' } }));
    expect(job.environment).toEqual({ MARIADB_ROOT_PASSWORD: 'hunter2' });
    expect(job.mounts).toEqual([
      { type: 'volume', source: 'mariadb_3f2c9a1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', target: '/var/lib/mysql', readOnly: false },
    ]);
  });

  it('uses a changed password on the next render', () => {
    const first = renderJob({ job: mariadb, volumes: '' }, vars({ user: { service_password: 'old' } }));
    const second = renderJob({ job: mariadb, volumes: '' }, vars({ user: { service_password: 'new' } }));
    expect(first.job.environment.MARIADB_ROOT_PASSWORD).toBe('old');
    expect(second.job.environment.MARIADB_ROOT_PASSWORD).toBe('new');
  });

  it('accepts the guide\'s spelling KEY = "value"', () => {
    const job = 'image: mariadb\nenvironment:\n  - MARIADB_ROOT_PASSWORD = "${{.user.service_password}}"\n';
    expect(renderJob({ job, volumes: '' }, vars()).job.environment).toEqual({ MARIADB_ROOT_PASSWORD: 's3cret' });
  });

  it('accepts environment as a mapping, keeping number spellings', () => {
    const job = 'image: x\nenvironment:\n  PASSWORD: ${{ .user.service_password }}\n  VERSION: 1.10\n  DEBUG: true\n  EMPTY:\n';
    expect(renderJob({ job, volumes: '' }, vars()).job.environment).toEqual({
      PASSWORD: 's3cret',
      VERSION: '1.10',
      DEBUG: 'true',
      EMPTY: '',
    });
  });
});

describe('values cannot inject YAML', () => {
  const hostile = 'a"b\' c: d # e\nimage: evil\n  privileged: true\n- x';

  it('keeps quotes, colons, # and newlines inside the one value, in every kind of scalar', () => {
    const job = [
      'image: debian',
      'environment:',
      '  - PLAIN=${{ .user.service_password }}',
      '  - "DOUBLE=${{ .user.service_password }}"',
      "  - 'SINGLE=${{ .user.service_password }}'",
      '  - |-',
      '    BLOCK=${{ .user.service_password }}',
      'hostname: box',
    ].join('\n');
    const { job: spec } = renderJob({ job, volumes: '' }, vars({ user: { service_password: hostile } }));
    expect(spec.environment).toEqual({ PLAIN: hostile, DOUBLE: hostile, SINGLE: hostile, BLOCK: hostile });
    expect(spec.image).toBe('debian');
    expect(spec.privileged).toBe(false);
    expect(spec.hostname).toBe('box');
  });

  it('cannot change which variable is set', () => {
    const job = 'image: x\nenvironment:\n  - NAME=${{ .user.username }}\n';
    const { job: spec } = renderJob({ job, volumes: '' }, vars({ user: { username: 'x\nPATH=/evil' } }));
    expect(spec.environment).toEqual({ NAME: 'x\nPATH=/evil' });
  });

  it('keeps a value with spaces as one argument of a string command', () => {
    const job = 'image: x\ncommand: sh -c "echo ${{ .user.username }}" --tz ${{ .user.timezone }}\n';
    const { job: spec } = renderJob({ job, volumes: '' }, vars({ user: { username: "bob ' smith", timezone: 'Europe/Isle of Man' } }));
    expect(spec.command).toEqual(['sh', '-c', "echo bob ' smith", '--tz', 'Europe/Isle of Man']);
  });
});

describe('parseJobSpec', () => {
  it('reads every supported field', () => {
    const spec = parseJobSpec(`image: ghcr.io/acme/dev:1.2
command: ["sleep", "infinity"]
ports:
  - "8080:80"
  - "127.0.0.1:8443:443/tcp"
  - "53/udp"
  - 9000
  - "[::1]:2222:22"
volumes:
  - data:/data
  - /srv/shared:/shared:ro
cap_add: [net_admin, SYS_PTRACE]
cap_drop: [ALL]
privileged: true
network: devnet
hostname: dev-box
devices: ["/dev/fuse", "/dev/net/tun:/dev/net/tun:rw"]
dns: [1.1.1.1, "2606:4700:4700::1111"]
memory: 2g
cpus: 1.5
agent: false
constraints: ["node.hostname == build-1", "node.labels.gpu != none"]
`);
    expect(spec).toEqual({
      image: 'ghcr.io/acme/dev:1.2',
      command: ['sleep', 'infinity'],
      environment: {},
      ports: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: 8443, containerPort: 443, protocol: 'tcp' },
        { containerPort: 53, protocol: 'udp' },
        { containerPort: 9000, protocol: 'tcp' },
        { hostIp: '::1', hostPort: 2222, containerPort: 22, protocol: 'tcp' },
      ],
      mounts: [
        { type: 'volume', source: 'data', target: '/data', readOnly: false },
        { type: 'bind', source: '/srv/shared', target: '/shared', readOnly: true },
      ],
      capAdd: ['NET_ADMIN', 'SYS_PTRACE'],
      capDrop: ['ALL'],
      privileged: true,
      network: 'devnet',
      hostname: 'dev-box',
      devices: [
        { pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', permissions: 'rwm' },
        { pathOnHost: '/dev/net/tun', pathInContainer: '/dev/net/tun', permissions: 'rw' },
      ],
      dns: ['1.1.1.1', '2606:4700:4700::1111'],
      memoryBytes: 2 * 1024 ** 3,
      nanoCpus: 1_500_000_000,
      agent: false,
      constraints: ['node.hostname == build-1', 'node.labels.gpu != none'],
    });
  });

  it('refuses a swarm constraint that is not in Swarm\'s syntax or names no node attribute, with the line', () => {
    expect(() => parseJobSpec('image: x\nconstraints: ["node.hostname = a"]\n')).toThrow(/line 2.*is not a constraint like "node.hostname == build-1"/);
    expect(() => parseJobSpec('image: x\nconstraints: ["node.colour == red"]\n')).toThrow(/line 2.*"node.colour" is not a node attribute Swarm knows/);
    expect(parseJobSpec('image: x\n').constraints).toEqual([]);
  });

  it("brings Knot's agent unless the job says agent: false, and refuses anything but true or false", () => {
    expect(parseJobSpec('image: x\n').agent).toBe(true);
    expect(parseJobSpec('image: x\nagent: true\n').agent).toBe(true);
    expect(parseJobSpec('image: x\nagent: "false"\n').agent).toBe(false);
    expect(() => parseJobSpec('image: x\nagent: no\n')).toThrow(/line 2.*"agent" must be true or false|"agent" must be true or false/);
  });

  it.each([
    ['512m', 512 * 1024 ** 2],
    ['2g', 2 * 1024 ** 3],
    ['1.5GB', 1.5 * 1024 ** 3],
    ['2GiB', 2 * 1024 ** 3],
    ['268435456', 268435456],
  ])('converts memory %s to bytes', (memory, bytes) => {
    expect(parseJobSpec(`image: x\nmemory: ${memory}\n`).memoryBytes).toBe(bytes);
  });

  it.each([
    ['2g', '2 GiB'],
    ['1.5g', '1.5 GiB'],
    ['1.3g', '1.3 GiB'],
    ['2000m', '2000 MiB'],
    ['16m', '16 MiB'],
    ['1t', '1 TiB'],
    ['1000000000', '953.67 MiB'],
  ])('names memory %s back in the units a person wrote (%s), as an out-of-memory reason does', (memory, text) => {
    expect(formatMemory(parseJobSpec(`image: x\nmemory: ${memory}\n`).memoryBytes!)).toBe(text);
  });

  it.each([
    ['1.5', 1_500_000_000],
    ['2', 2_000_000_000],
    ['0.25', 250_000_000],
    ['"0.5"', 500_000_000],
  ])('converts cpus %s to NanoCpus', (cpus, nano) => {
    expect(parseJobSpec(`image: x\ncpus: ${cpus}\n`).nanoCpus).toBe(nano);
  });

  it('takes numbers from admin variables, which are text after parsing', () => {
    const job = 'image: x\ncpus: ${{ .var.CPUS }}\nmemory: ${{ .var.MEM }}\nprivileged: ${{ .var.PRIV }}\n';
    const { job: spec } = renderJob({ job, volumes: '' }, vars({ var: { CPUS: '2', MEM: '1g', PRIV: 'true' } }));
    expect(spec).toMatchObject({ nanoCpus: 2e9, memoryBytes: 1024 ** 3, privileged: true });
  });

  it.each(['Ubuntu:24.04', 'ubuntu latest', 'team//dev', 'dev:', ':tag', 'registry.local:5000/Team/dev'])('refuses the image reference %j on its line, as Docker would', (image) => {
    const [issue] = issuesOf(() => parseJobSpec(`command: [sleep, "1"]\nimage: "${image}"\n`));
    expect(issue).toMatchObject({ document: 'job', line: 2 });
    expect(issue!.message).toMatch(/"image" must be an image reference like debian:12/);
  });

  it.each(['debian', 'debian:12', 'registry.local:5000/team/dev_box:1.2-rc.1', 'ghcr.io/a-b/c__d', `debian@sha256:${'ab'.repeat(32)}`, 'localhost/x:latest'])('accepts the image reference %j', (image) => {
    expect(parseJobSpec(`image: ${image}\n`).image).toBe(image);
  });

  it('refuses a bad memory size, pointing at its line', () => {
    const [issue, ...rest] = issuesOf(() => parseJobSpec('image: x\n\nmemory: lots\n'));
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ document: 'job', line: 3 });
    expect(issue!.message).toMatch(/"memory" must be a size like 512m or 2g/);
    expect(() => parseJobSpec('image: x\n\nmemory: lots\n')).toThrow('job line 3: "memory" must be a size like 512m or 2g');
  });

  it('refuses memory below Docker\'s minimum and non-positive cpus', () => {
    expect(issuesOf(() => parseJobSpec('image: x\nmemory: 1m\n'))[0]!.message).toMatch(/at least 6m/);
    expect(issuesOf(() => parseJobSpec('image: x\ncpus: 0\n'))[0]!.message).toMatch(/greater than 0/);
    expect(issuesOf(() => parseJobSpec('image: x\ncpus: -1\n'))[0]!.message).toMatch(/"cpus"/);
  });

  it('refuses bad ports with the line of the entry', () => {
    const issues = issuesOf(() => parseJobSpec('image: x\nports:\n  - "8080:80"\n  - "80:http"\n  - "70000:80"\n  - "1:2:3:4"\n'));
    expect(issues.map((i) => i.line)).toEqual([4, 5, 6]);
    expect(issues[0]!.message).toMatch(/"ports" entry "80:http"/);
  });

  it('refuses unknown top-level keys', () => {
    const issues = issuesOf(() => parseJobSpec('image: x\nrestart: always\nvolumez: []\n'));
    expect(issues.map((i) => [i.line, i.message.slice(0, 23)])).toEqual([
      [2, 'unknown key "restart" ('],
      [3, 'unknown key "volumez" ('],
    ]);
  });

  it('requires an image', () => {
    expect(issuesOf(() => parseJobSpec('command: [sleep, "1"]\n'))[0]!.message).toBe('"image" is required');
    expect(issuesOf(() => parseJobSpec(''))[0]!.message).toBe('"image" is required');
  });

  it('refuses YAML that does not parse, with the line of the mistake', () => {
    const issues = issuesOf(() => parseJobSpec('image: x\nenvironment:\n  - A=1\n - B=2\n'));
    expect(issues[0]).toMatchObject({ document: 'job', line: 4 });
    expect(issues[0]!.message).toMatch(/^YAML syntax: /);
    // The parser gives up on line 3; the "[" left open is on line 2.
    expect(issuesOf(() => parseJobSpec('image: x\nports: ["80:80"\nmemory: 1g\n'))[0]!.line).toBe(2);
  });

  it('refuses duplicate keys and wrong types with their lines', () => {
    expect(issuesOf(() => parseJobSpec('image: x\nimage: y\n'))[0]!.line).toBe(2);
    const issues = issuesOf(() => parseJobSpec('image: x\ncap_add: NET_ADMIN\nprivileged: maybe\nenvironment: 3\n'));
    expect(issues.map((i) => i.line)).toEqual([2, 3, 4]);
  });

  it('refuses relative host paths and anonymous volumes', () => {
    const issues = issuesOf(() => parseJobSpec('image: x\nvolumes:\n  - ./src:/src\n  - /data\n  - data:/data:rx\n'));
    expect(issues.map((i) => i.line)).toEqual([3, 4, 5]);
  });

  it('reports an unclosed quote in a string command', () => {
    expect(issuesOf(() => parseJobSpec('image: x\ncommand: sh -c "echo\n'))[0]).toMatchObject({ line: 2 });
  });
});
