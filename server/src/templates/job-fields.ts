/** Parsers for the job spec's string fields. Each returns the value or why it is refused. */
import { invalid, type Invalid, VOLUME_NAME } from '../../../protocol/job-values.js';

// The sizes and names a client may check before saving live in protocol/ (the wizard shares them).
export { isInvalid, parseCpus, parseMemory, VOLUME_NAME, type Invalid } from '../../../protocol/job-values.js';

export interface PortMapping {
  /** Host address to bind; undefined binds every address, as Docker does. */
  hostIp?: string;
  /** undefined lets Docker pick a free host port. */
  hostPort?: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export type Mount =
  | { type: 'volume'; source: string; target: string; readOnly: boolean }
  | { type: 'bind'; source: string; target: string; readOnly: boolean };

export interface DeviceMapping {
  pathOnHost: string;
  pathInContainer: string;
  /** cgroup permissions, Docker's default rwm. */
  permissions: string;
}

const PORT_HINT = 'like "8080:80", "127.0.0.1:8080:80/tcp" or "80"';

function portNumber(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** `[ip:][hostPort:]containerPort[/protocol]`; IPv6 addresses go in brackets. */
export function parsePort(value: string): PortMapping | Invalid {
  const bad = `"ports" entry "${value}" must be a port mapping ${PORT_HINT}`;
  const slash = value.lastIndexOf('/');
  const protocol = slash >= 0 ? value.slice(slash + 1).toLowerCase() : 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') return invalid(`${bad}; protocol must be tcp, udp or sctp`);
  let rest = slash >= 0 ? value.slice(0, slash) : value;

  let hostIp: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(.*)$/.exec(rest);
  if (v6) [, hostIp, rest] = v6 as unknown as [string, string, string];
  const parts = rest.split(':');
  if (!v6 && parts.length === 3) hostIp = parts.shift();
  if (parts.length > 2 || (v6 && parts.length !== 2)) return invalid(bad);
  if (hostIp !== undefined && !v6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIp)) return invalid(`${bad}; "${hostIp}" is not an IP address`);

  const containerPort = portNumber(parts.pop()!);
  if (containerPort === undefined) return invalid(`${bad}; ports are numbers from 1 to 65535`);
  const hostText = parts.pop();
  if (hostText === undefined || hostText === '') return { ...(hostIp ? { hostIp } : {}), containerPort, protocol };
  const hostPort = portNumber(hostText);
  if (hostPort === undefined) return invalid(`${bad}; ports are numbers from 1 to 65535`);
  return { ...(hostIp ? { hostIp } : {}), hostPort, containerPort, protocol };
}

/**
 * `name:/path` is a named volume, `/host/path:/path` a bind mount; either may end in `:ro`/`:rw`.
 * Relative host paths and anonymous volumes are refused: there is no compose directory to be
 * relative to, and an anonymous volume would outlive the space unnoticed.
 */
export function parseMount(value: string): Mount | Invalid {
  const parts = value.split(':');
  const mode = parts.length === 3 ? parts.pop()! : 'rw';
  if (parts.length !== 2 || (mode !== 'ro' && mode !== 'rw')) {
    return invalid(`"volumes" entry "${value}" must be name:/path or /host/path:/path, optionally ending in :ro`);
  }
  const [source, target] = parts as [string, string];
  if (!target.startsWith('/')) return invalid(`"volumes" entry "${value}": the path in the container must be absolute`);
  const readOnly = mode === 'ro';
  if (source.startsWith('/')) return { type: 'bind', source, target, readOnly };
  if (!VOLUME_NAME.test(source)) {
    return invalid(`"volumes" entry "${value}": "${source}" is neither a volume name (letters, digits, _ . -) nor an absolute host path`);
  }
  return { type: 'volume', source, target, readOnly };
}

/** `/dev/host[:/dev/container[:rwm]]`. */
export function parseDevice(value: string): DeviceMapping | Invalid {
  const [pathOnHost = '', pathInContainer = pathOnHost, permissions = 'rwm', ...extra] = value.split(':');
  if (extra.length > 0 || !pathOnHost.startsWith('/') || !pathInContainer.startsWith('/') || !/^[rwm]{1,3}$/.test(permissions)) {
    return invalid(`"devices" entry "${value}" must be like "/dev/fuse" or "/dev/fuse:/dev/fuse:rwm"`);
  }
  return { pathOnHost, pathInContainer, permissions };
}

const BINARY_UNITS: [string, number][] = [['PiB', 1024 ** 5], ['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];

/**
 * A size as a person wrote it: `2g` comes back as "2 GiB", `1.5g` as "1.5 GiB", `2000m` as
 * "2000 MiB" (the largest unit that says it exactly to two decimals in under five digits;
 * parseMemory rounds down to whole bytes, hence the one-byte slack), else the largest unit it
 * reaches, rounded.
 */
export function formatMemory(bytes: number): string {
  const show = (value: number, unit: string) => `${Number(value.toFixed(2))} ${unit}`;
  const fitting = BINARY_UNITS.filter(([, size]) => bytes >= size);
  const exact = fitting.find(([, size]) => bytes / size < 10_000 && Math.abs(Math.round((bytes / size) * 100) * (size / 100) - bytes) < 1);
  const [unit, size] = exact ?? fitting[0] ?? ['bytes', 1];
  return show(bytes / size, unit);
}

/**
 * A whole number of processes, at least 1. "Unlimited" (Docker's -1) is not offered: a template
 * that needs more names a bigger number, and a fork bomb in a space still stops somewhere.
 */
export function parsePidsLimit(value: string): number | Invalid {
  const pids = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(pids >= 1) || !Number.isSafeInteger(pids)) return invalid(`"pids_limit" must be a whole number of processes of at least 1, not "${value}"`);
  return pids;
}

/**
 * Splits a one-line command into arguments the way a shell would for quoting (no expansion).
 * `${{ … }}` is kept whole so the variable inside can be rendered per argument afterwards.
 */
export function splitCommand(text: string): string[] | Invalid {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (text.startsWith('${{', i)) {
      const close = text.indexOf('}}', i + 3);
      if (close >= 0) {
        word = (word ?? '') + text.slice(i, close + 2);
        i = close + 1;
        continue;
      }
    }
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === '\\' && i + 1 < text.length && (quote === undefined || '"\\$`'.includes(text[i + 1]!))) {
      word = (word ?? '') + text[++i];
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) return invalid(`"command" has an unclosed ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}
