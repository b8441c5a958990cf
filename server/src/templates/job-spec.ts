/**
 * The Docker job spec, in the YAML shape knot users already write. Produces plain data; turning
 * it into a container is server/src/runtime's job.
 */
import type { Node } from 'yaml';
import { isMap, isScalar, isSeq } from 'yaml';
import { identityRender, YamlReader, type Render } from './yaml-reader.js';
import { isInvalid, parseCpus, parseDevice, parseMemory, parseMount, parsePidsLimit, parsePort, splitCommand } from './job-fields.js';
import type { DeviceMapping, Invalid, Mount, PortMapping } from './job-fields.js';
import type { HealthCheck } from '../../../protocol/health.js';
import { constraintProblem } from '../runtime/index.js';
import { exposedPorts, readHealthcheck } from './healthcheck-spec.js';
import { parseImage } from '../../../protocol/job-values.js';

export type { DeviceMapping, Mount, PortMapping } from './job-fields.js';

export interface JobSpec {
  image: string;
  /** Replaces the image's CMD; undefined keeps the image's own. */
  command?: string[];
  /** In the order written. Values are always text. */
  environment: Record<string, string>;
  ports: PortMapping[];
  /** The job's `volumes:` list (named volumes and bind mounts). */
  mounts: Mount[];
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  network?: string;
  hostname?: string;
  devices: DeviceMapping[];
  dns: string[];
  memoryBytes?: number;
  /** Docker's HostConfig.NanoCpus: cpus × 10⁹. */
  nanoCpus?: number;
  /** Most processes at once; unset: the server's default for every space. */
  pidsLimit?: number;
  /** False (`agent: false`): Knot does not bring its agent into the space. */
  agent: boolean;
  /** Run by the agent inside the space; undefined leaves health to the image's own HEALTHCHECK, if any. */
  healthcheck?: HealthCheck;
  /** Where a space's first start may place it on a swarm, in Swarm's syntax (`node.hostname == build-1`); one engine ignores them. */
  constraints: string[];
}

const KEYS = [
  'image', 'command', 'environment', 'ports', 'volumes', 'cap_add', 'cap_drop', 'privileged',
  'network', 'hostname', 'devices', 'dns', 'memory', 'cpus',
  'pids_limit', 'agent', 'healthcheck', 'constraints',
] as const;
type Key = (typeof KEYS)[number];

const ENV_NAME = /^[^\s=\0]+$/;
const CAPABILITY = /^[A-Z][A-Z0-9_]*$/;
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/;

/** Throws TemplateError listing every problem; `render` substitutes variables value by value. */
export function parseJobSpec(text: string, render: Render = identityRender): JobSpec {
  const reader = new YamlReader('job', text, render);
  const spec = readJobSpec(reader);
  reader.throwIfFailed();
  return spec!;
}

/** Reads what it can and leaves problems on the reader, so validation can report them all. */
export function readJobSpec(r: YamlReader): JobSpec | undefined {
  if (!r.parsed) return undefined;
  const root = r.root;
  if (r.isNull(root)) {
    r.fail(root, '"image" is required');
    return undefined;
  }
  const map = r.map(root, 'the job spec');
  if (!map) return undefined;

  const fields = new Map<Key, { keyNode: Node | null; value: Node | null }>();
  for (const { key, keyNode, value } of r.entries(map, 'the job spec')) {
    if ((KEYS as readonly string[]).includes(key)) fields.set(key as Key, { keyNode, value });
    else r.fail(keyNode, `unknown key "${key}" (known keys: ${KEYS.join(', ')})`);
  }
  // `key:` with nothing after it is treated as absent, as Docker Compose does.
  const has = (key: Key) => !r.isNull(fields.get(key)?.value ?? null);
  const node = (key: Key) => fields.get(key)?.value ?? null;

  const spec: JobSpec = {
    image: '',
    environment: {},
    ports: [],
    mounts: [],
    capAdd: [],
    capDrop: [],
    privileged: false,
    devices: [],
    dns: [],
    agent: true,
    constraints: [],
  };

  if (!has('image')) r.fail(fields.get('image')?.keyNode ?? root, '"image" is required');
  else {
    const image = r.string(node('image'), '"image"');
    const parsed = image === undefined ? undefined : parseImage(image);
    if (isInvalid(parsed)) r.fail(node('image'), parsed.invalid);
    else if (parsed !== undefined) spec.image = parsed;
  }

  if (has('command')) {
    const command = readCommand(r, node('command'));
    if (command) spec.command = command;
  }
  if (has('environment')) spec.environment = readEnvironment(r, node('environment'));

  const each = <T>(key: Key, parse: (value: string) => T | Invalid, allowSingle = false): T[] => {
    const out: T[] = [];
    if (!has(key)) return out;
    for (const item of r.strings(node(key), `"${key}"`, allowSingle)) {
      const parsed = parse(item.value);
      if (isInvalid(parsed)) r.fail(item.node, parsed.invalid);
      else out.push(parsed);
    }
    return out;
  };
  spec.ports = each('ports', parsePort);
  spec.mounts = each('volumes', parseMount);
  spec.devices = each('devices', parseDevice);
  spec.capAdd = each('cap_add', (v) => capability('cap_add', v));
  spec.capDrop = each('cap_drop', (v) => capability('cap_drop', v));
  spec.constraints = each('constraints', (v) => {
    const problem = constraintProblem(v);
    return problem ? { invalid: `"constraints": ${problem}` } : v;
  });
  spec.dns = each('dns', (v) => (isIP(v) ? v : { invalid: `"dns" entries must be IP addresses, not "${v}"` }), true);

  if (has('privileged')) {
    const value = scalarText(r, node('privileged'), '"privileged"')?.toLowerCase();
    if (value === 'true' || value === 'false') spec.privileged = value === 'true';
    else if (value !== undefined) r.fail(node('privileged'), '"privileged" must be true or false');
  }
  if (has('agent')) {
    const value = scalarText(r, node('agent'), '"agent"')?.toLowerCase();
    if (value === 'true' || value === 'false') spec.agent = value === 'true';
    else if (value !== undefined) r.fail(node('agent'), '"agent" must be true or false (false: Knot does not start its agent in the space)');
  }
  if (has('network')) {
    const value = r.string(node('network'), '"network"');
    if (value !== undefined && value.trim() === '') r.fail(node('network'), '"network" must not be empty');
    else if (value !== undefined) spec.network = value;
  }
  if (has('hostname')) {
    const value = r.string(node('hostname'), '"hostname"');
    if (value !== undefined && !HOSTNAME.test(value)) {
      r.fail(node('hostname'), `"hostname" must be letters, digits, "-" and "." (at most 253), not "${value}"`);
    } else if (value !== undefined) spec.hostname = value;
  }
  if (has('memory')) {
    const value = scalarText(r, node('memory'), '"memory"');
    const bytes = value === undefined ? undefined : parseMemory(value);
    if (isInvalid(bytes)) r.fail(node('memory'), bytes.invalid);
    else if (bytes !== undefined) spec.memoryBytes = bytes;
  }
  if (has('cpus')) {
    const value = scalarText(r, node('cpus'), '"cpus"');
    const nano = value === undefined ? undefined : parseCpus(value);
    if (isInvalid(nano)) r.fail(node('cpus'), nano.invalid);
    else if (nano !== undefined) spec.nanoCpus = nano;
  }
  if (has('pids_limit')) {
    const value = scalarText(r, node('pids_limit'), '"pids_limit"');
    const pids = value === undefined ? undefined : parsePidsLimit(value);
    if (isInvalid(pids)) r.fail(node('pids_limit'), pids.invalid);
    else if (pids !== undefined) spec.pidsLimit = pids;
  }
  if (has('healthcheck')) {
    const check = readHealthcheck(r, node('healthcheck'), exposedPorts(spec.ports, spec.environment));
    // Knot's agent runs the check; without it only the image's own HEALTHCHECK can say anything.
    if (check && !spec.agent) r.fail(fields.get('healthcheck')?.keyNode ?? null, '"healthcheck" needs Knot\'s agent in the space; remove "agent: false" or rely on the image\'s own HEALTHCHECK');
    else if (check) spec.healthcheck = check;
  }
  return spec;
}

/**
 * Any scalar as rendered text. Numbers and booleans may come from a variable
 * (`cpus: ${{ .var.CPUS }}` is a string after parsing), so fields compare text, not YAML types.
 */
function scalarText(r: YamlReader, node: Node | null, what: string, trim = true): string | undefined {
  if (isScalar(node) && typeof node.value === 'boolean') return node.source || String(node.value);
  const value = r.string(node, what);
  return trim ? value?.trim() : value;
}

function capability(key: string, value: string): string | Invalid {
  const upper = value.trim().toUpperCase();
  return CAPABILITY.test(upper) ? upper : { invalid: `"${key}" entries must be capability names like NET_ADMIN, not "${value}"` };
}

function isIP(value: string): boolean {
  return /^(\d{1,3})(\.\d{1,3}){3}$/.test(value) ? value.split('.').every((n) => Number(n) <= 255) : /^[0-9A-Fa-f:.]+$/.test(value) && value.includes(':');
}

function readCommand(r: YamlReader, node: Node | null): string[] | undefined {
  if (isScalar(node)) {
    const raw = r.rawString(node, '"command"');
    if (raw === undefined) return undefined;
    // Split before rendering: a value with spaces or quotes stays one argument.
    const words = splitCommand(raw);
    if (isInvalid(words)) return r.fail(node, words.invalid), undefined;
    if (words.length === 0) return r.fail(node, '"command" must not be empty'), undefined;
    const out = words.map((word) => r.render(node, word));
    return out.every((w) => w !== undefined) ? (out as string[]) : undefined;
  }
  if (r.seq(node, '"command"') === undefined) return undefined;
  return r.strings(node, '"command"').map((item) => item.value);
}

function readEnvironment(r: YamlReader, node: Node | null): Record<string, string> {
  const env = new Map<string, string>();
  const set = (at: Node | null, name: string | undefined, value: string | undefined) => {
    if (name === undefined || value === undefined) return;
    if (!ENV_NAME.test(name)) r.fail(at, `environment variable name "${name}" must not be empty or contain spaces or "="`);
    else if (env.has(name)) r.fail(at, `environment variable "${name}" is set twice`);
    else env.set(name, value);
  };
  if (isSeq(node)) {
    for (const item of node.items) {
      const itemNode = r.resolve(item);
      const raw = r.rawString(itemNode, 'each "environment" entry');
      if (raw === undefined) continue;
      // Split before rendering, so a value can never change which variable is being set.
      const parts = splitEnvEntry(raw);
      if (!parts) r.fail(itemNode, `"environment" entry "${raw}" must be KEY=value`);
      else set(itemNode, r.render(itemNode, parts.name), r.render(itemNode, parts.value));
    }
  } else if (isMap(node)) {
    for (const { key, keyNode, value } of r.entries(node, '"environment"')) {
      // `KEY:` with no value means an empty string; there is no host environment to inherit from.
      const text = r.isNull(value) ? '' : scalarText(r, value, `"environment" value of ${key}`, false);
      set(keyNode, r.render(keyNode, key.trim()), text);
    }
  } else {
    r.fail(node, '"environment" must be a list of KEY=value or a mapping of KEY: value');
  }
  return Object.fromEntries(env);
}

/**
 * `KEY=value` as Docker takes it. The user guide writes `KEY = "value"`; when the `=` is spaced
 * like that, the spaces and one pair of surrounding quotes are dropped, so both spellings work.
 */
function splitEnvEntry(raw: string): { name: string; value: string } | undefined {
  const eq = raw.indexOf('=');
  if (eq <= 0) return undefined;
  const key = raw.slice(0, eq);
  let value = raw.slice(eq + 1);
  if (/\s$/.test(key)) {
    value = value.trim();
    const quoted = /^"(.*)"$/s.exec(value) ?? /^'(.*)'$/s.exec(value);
    if (quoted) value = quoted[1]!;
  }
  return { name: key.trim(), value };
}
