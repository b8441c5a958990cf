import type { PortProtocol } from '../../protocol/enums.js';
import { HEALTHCHECK_ENV, parseHealthCheck, type HealthCheck } from '../../protocol/health.js';

export interface PortSpec {
  port: number;
  name: string;
  protocol: PortProtocol;
}

export type PtyMethod = 'script' | 'telnetd' | 'pipe';

/** Everything the agent reads from its environment (README, "Templates", lists them for template authors). */
export interface AgentConfig {
  /** The server's base URL; the agent connects to `<server>/agent`. */
  server: string;
  spaceId: string;
  token: string;
  sshPort: number | null;
  codeServerPort: number | null;
  vncHttpPort: number | null;
  /** The VS Code tunnel's name, when the space runs one. */
  vscodeTunnel: string | null;
  /** A shell command printing `code tunnel status` JSON. */
  vscodeTunnelStatusCommand: string;
  ports: PortSpec[];
  reportIntervalMs: number;
  /** Forces how shells get their pty; unset, the agent picks the first that exists. */
  ptyMethod: PtyMethod | null;
  /** The template's health check (KNOT_HEALTHCHECK, set by the server); null when it declares none. */
  healthcheck: HealthCheck | null;
  /** How long a terminal's shell outlives a lost server connection, waiting to be resumed (KNOT_TERMINAL_DETACH_SECONDS). */
  terminalDetachMs: number;
}

export class ConfigError extends Error {}

/** Reads and checks the environment; a bad value is an error naming the variable, not a silent default. */
export function loadAgentConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const required = (name: string) => {
    const value = env[name]?.trim();
    if (!value) throw new ConfigError(`${name} is not set`);
    return value;
  };
  const server = required('KNOT_SERVER').replace(/\/+$/, '');
  if (!/^(https?|wss?):\/\//.test(server)) throw new ConfigError(`KNOT_SERVER must be an http(s) URL, got "${server}"`);
  const ptyMethod = env.KNOT_PTY?.trim() || null;
  if (ptyMethod && !['script', 'telnetd', 'pipe'].includes(ptyMethod)) throw new ConfigError(`KNOT_PTY must be script, telnetd or pipe, got "${ptyMethod}"`);
  const ports = [
    ...parsePortList(env.KNOT_HTTP_PORT, 'KNOT_HTTP_PORT', 'HTTP'),
    ...parsePortList(env.KNOT_HTTPS_PORT, 'KNOT_HTTPS_PORT', 'HTTPS'),
    ...parsePortList(env.KNOT_TCP_PORT, 'KNOT_TCP_PORT', 'TCP'),
  ];
  return {
    server,
    spaceId: required('KNOT_SPACE_ID'),
    token: required('KNOT_AGENT_TOKEN'),
    sshPort: parseSinglePort(env.KNOT_SSH_PORT, 'KNOT_SSH_PORT'),
    codeServerPort: parseSinglePort(env.KNOT_CODE_SERVER_PORT, 'KNOT_CODE_SERVER_PORT'),
    vncHttpPort: parseSinglePort(env.KNOT_VNC_HTTP_PORT, 'KNOT_VNC_HTTP_PORT'),
    vscodeTunnel: env.KNOT_VSCODE_TUNNEL?.trim() || null,
    vscodeTunnelStatusCommand: env.KNOT_VSCODE_TUNNEL_STATUS?.trim() || 'code tunnel status',
    ports,
    reportIntervalMs: parseInterval(env.KNOT_REPORT_INTERVAL_MS),
    ptyMethod: ptyMethod as PtyMethod | null,
    healthcheck: parseHealthcheckEnv(env[HEALTHCHECK_ENV]),
    terminalDetachMs: parseDetachSeconds(env.KNOT_TERMINAL_DETACH_SECONDS) * 1000,
  };
}

function toPort(text: string, name: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new ConfigError(`${name}: "${text}" is not a port number (1-65535)`);
  return port;
}

function parseSinglePort(value: string | undefined, name: string): number | null {
  const text = value?.trim();
  return text ? toPort(text, name) : null;
}

/** `8080=web,9000=api` (or `8080 9000`): a name is optional and defaults to the port number. */
export function parsePortList(value: string | undefined, name: string, protocol: PortProtocol): PortSpec[] {
  const items = (value ?? '').split(/[,\s]+/).filter(Boolean);
  return items.map((item) => {
    const [portText = '', ...rest] = item.split('=');
    const label = rest.join('=').trim();
    return { port: toPort(portText.trim(), name), name: label || portText.trim(), protocol };
  });
}

function parseInterval(value: string | undefined): number {
  if (!value?.trim()) return 5_000;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 100 || ms > 600_000) throw new ConfigError(`KNOT_REPORT_INTERVAL_MS must be 100-600000, got "${value}"`);
  return ms;
}

/** The server's default too (900 s); 0 means a shell ends with the connection it was opened on. */
function parseDetachSeconds(value: string | undefined): number {
  if (!value?.trim()) return 900;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 604_800) throw new ConfigError(`KNOT_TERMINAL_DETACH_SECONDS must be 0-604800, got "${value}"`);
  return seconds;
}

function parseHealthcheckEnv(value: string | undefined): HealthCheck | null {
  if (!value?.trim()) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const check = parseHealthCheck(parsed);
  if (!check) throw new ConfigError(`${HEALTHCHECK_ENV} is not a health check this agent understands (is the agent older than the server?)`);
  return check;
}
