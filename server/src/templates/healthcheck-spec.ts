/**
 * The job spec's `healthcheck:` — one probe (`http: { port, path }`, `tcp: { port }` or
 * `command: [...]`) with Docker's `interval`, `timeout` and `retries`. The agent runs it inside
 * the space (protocol/health.ts), so a probed port must be one the template exposes.
 */
import type { Node } from 'yaml';
import { isMap, isScalar } from 'yaml';
import { HEALTHCHECK_DEFAULTS, HEALTHCHECK_LIMITS, type HealthCheck, type HealthProbe } from '../../../protocol/health.js';
import { isInvalid, splitCommand, type PortMapping } from './job-fields.js';
import type { YamlReader } from './yaml-reader.js';

const KEYS = ['http', 'tcp', 'command', 'interval', 'timeout', 'retries'] as const;
const PROBES = ['http', 'tcp', 'command'] as const;

/** The environment variables through which a template tells the agent which ports it serves. */
const PORT_ENV = ['KNOT_HTTP_PORT', 'KNOT_HTTPS_PORT', 'KNOT_TCP_PORT', 'KNOT_SSH_PORT', 'KNOT_CODE_SERVER_PORT', 'KNOT_VNC_HTTP_PORT'];

/** Ports the template exposes: its `ports:` (container side) and those it names to the agent. */
export function exposedPorts(ports: PortMapping[], environment: Record<string, string>): Set<number> {
  const out = new Set(ports.map((p) => p.containerPort));
  for (const name of PORT_ENV) {
    for (const item of (environment[name] ?? '').split(/[,\s]+/)) {
      const port = Number(item.split('=')[0]);
      if (Number.isInteger(port) && port > 0) out.add(port);
    }
  }
  return out;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Docker's durations: `30s`, `1m30s`, `500ms`; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1_000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0));
}

const describeMs = (ms: number) => (ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`);

export function readHealthcheck(r: YamlReader, node: Node | null, exposed: Set<number>): HealthCheck | undefined {
  const map = r.map(node, '"healthcheck"');
  if (!map) return undefined;
  const fields = new Map<string, Node | null>();
  for (const { key, keyNode, value } of r.entries(map, '"healthcheck"')) {
    if ((KEYS as readonly string[]).includes(key)) fields.set(key, value);
    else r.fail(keyNode, `unknown key "healthcheck.${key}" (known keys: ${KEYS.join(', ')})`);
  }
  const probes = PROBES.filter((k) => fields.has(k));
  if (probes.length !== 1) {
    r.fail(node, `"healthcheck" needs exactly one of http: { port, path }, tcp: { port } or command: [...]${probes.length ? `, not ${probes.join(' and ')}` : ''}`);
    return undefined;
  }
  const probe = readProbe(r, probes[0]!, fields.get(probes[0]!) ?? null, exposed);

  const duration = (key: 'interval' | 'timeout', limits: { min: number; max: number }, fallback: number) => {
    if (!fields.has(key)) return fallback;
    const at = fields.get(key) ?? null;
    const text = r.string(at, `"healthcheck.${key}"`)?.trim();
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined || ms < limits.min || ms > limits.max) {
      r.fail(at, `"healthcheck.${key}" must be a duration from ${describeMs(limits.min)} to ${describeMs(limits.max)} like 10s or 1m30s, not "${text}"`);
      return undefined;
    }
    return ms;
  };
  const intervalMs = duration('interval', HEALTHCHECK_LIMITS.intervalMs, HEALTHCHECK_DEFAULTS.intervalMs);
  const timeoutMs = duration('timeout', HEALTHCHECK_LIMITS.timeoutMs, HEALTHCHECK_DEFAULTS.timeoutMs);
  let retries: number | undefined = HEALTHCHECK_DEFAULTS.retries;
  if (fields.has('retries')) {
    const at = fields.get('retries') ?? null;
    const text = r.string(at, '"healthcheck.retries"')?.trim();
    const { min, max } = HEALTHCHECK_LIMITS.retries;
    retries = text !== undefined && /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max ? Number(text) : undefined;
    if (retries === undefined && text !== undefined) r.fail(at, `"healthcheck.retries" must be a whole number from ${min} to ${max}, not "${text}"`);
  }
  if (!probe || intervalMs === undefined || timeoutMs === undefined || retries === undefined) return undefined;
  return { ...probe, intervalMs, timeoutMs, retries };
}

function readProbe(r: YamlReader, kind: (typeof PROBES)[number], node: Node | null, exposed: Set<number>): HealthProbe | undefined {
  if (kind === 'command') return readCheckCommand(r, node);
  const what = `"healthcheck.${kind}"`;
  const map = r.map(node, `${what} (${kind === 'http' ? '{ port, path }' : '{ port }'})`);
  if (!map) return undefined;
  let port: number | undefined;
  let path = '/';
  for (const { key, keyNode, value } of r.entries(map, what)) {
    if (key === 'port') port = readPort(r, value, `"healthcheck.${kind}.port"`, exposed);
    else if (key === 'path' && kind === 'http') {
      const text = r.string(value, '"healthcheck.http.path"');
      if (text !== undefined && (!text.startsWith('/') || /\s/.test(text))) r.fail(value, `"healthcheck.http.path" must start with "/" and have no spaces, not "${text}"`);
      else if (text !== undefined) path = text;
    } else r.fail(keyNode, `unknown key "${key}" in ${what} (known keys: ${kind === 'http' ? 'port, path' : 'port'})`);
  }
  if (!map.items.some((p) => isScalar(p.key) && p.key.value === 'port')) {
    r.fail(node, `${what} needs a port`);
    return undefined;
  }
  if (port === undefined) return undefined;
  return kind === 'http' ? { http: { port, path } } : { tcp: { port } };
}

function readPort(r: YamlReader, node: Node | null, what: string, exposed: Set<number>): number | undefined {
  const text = r.string(node, what)?.trim();
  if (text === undefined) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) return r.fail(node, `${what} must be a port number from 1 to 65535, not "${text}"`), undefined;
  if (!exposed.has(port)) {
    const known = [...exposed].sort((a, b) => a - b);
    r.fail(node, `${what} ${port} is not a port this template exposes (${known.length ? `it exposes ${known.join(', ')}` : 'it exposes none'}: list it under "ports" or in KNOT_HTTP_PORT, KNOT_TCP_PORT…)`);
    return undefined;
  }
  return port;
}

/** A list of arguments, or one line split as a shell would (no shell runs it: wrap in sh -c for one). */
function readCheckCommand(r: YamlReader, node: Node | null): HealthProbe | undefined {
  let words: string[] | undefined;
  if (isScalar(node)) {
    const text = r.string(node, '"healthcheck.command"');
    const split = text === undefined ? undefined : splitCommand(text);
    if (isInvalid(split)) r.fail(node, split.invalid.replace('"command"', '"healthcheck.command"'));
    else words = split;
  } else if (!isMap(node) && r.seq(node, '"healthcheck.command"')) {
    words = r.strings(node, '"healthcheck.command"').map((w) => w.value);
  } else if (isMap(node)) {
    r.fail(node, '"healthcheck.command" must be a list of arguments like ["pg_isready", "-q"]');
  }
  if (words === undefined) return undefined;
  if (words.length === 0) return r.fail(node, '"healthcheck.command" must not be empty'), undefined;
  return { command: words };
}
