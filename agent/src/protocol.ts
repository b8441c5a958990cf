/**
 * The agent's wire protocol, shared by the agent (bundled into the space) and the server's gateway.
 *
 * One WebSocket per space at `<KNOT_SERVER>/agent`, authenticated by the upgrade request's
 * `Authorization: Bearer <KNOT_AGENT_TOKEN>` and `X-Knot-Space-Id: <KNOT_SPACE_ID>` headers.
 * Text messages are JSON control messages; binary messages are stream data: a 4-byte big-endian
 * stream id, then up to MAX_DATA bytes. Streams (port dials and shells) are opened by the server,
 * which picks their ids. Each direction of a stream has a credit window: a sender may have at
 * most STREAM_WINDOW bytes unacknowledged, so a fast producer cannot fill the other side's memory.
 */

export const PROTOCOL_VERSION = 1;
export const AGENT_PATH = '/agent';
export const SPACE_HEADER = 'x-knot-space-id';

/** Largest payload of one data frame; bigger writes are split. */
export const MAX_DATA = 64 * 1024;
/** Largest WebSocket message either side accepts; a bigger one closes the connection (1009). */
export const MAX_MESSAGE = MAX_DATA + 4096;
/** Bytes in flight per stream and direction before the receiver must acknowledge. */
export const STREAM_WINDOW = 512 * 1024;
/** The receiver acknowledges in batches of at least this much (or when its reader asks for more). */
export const ACK_THRESHOLD = 64 * 1024;
/** Most streams one agent connection may have open at once. */
export const MAX_STREAMS = 256;

/** WebSocket close codes the gateway uses; the agent logs the reason and reconnects with backoff. */
export const CloseCode = {
  /** Not JSON, an unknown message type, or fields of the wrong type. */
  malformed: 4400,
  /** Wrong, revoked or replayed token, or a space that does not exist. */
  unauthorized: 4401,
  /** No message within the server's timeout. */
  silent: 4408,
  /** Another agent already holds this space. */
  duplicate: 4409,
  /** ws closes with this when a message exceeds MAX_MESSAGE. */
  tooBig: 1009,
  goingAway: 1001,
} as const;

export type PortProtocol = 'HTTP' | 'HTTPS' | 'TCP';

/** What answers inside a space, as the agent last saw it. */
export interface ServiceReport {
  /** A pty shell can be opened through the agent. */
  terminal: boolean;
  /** code-server's `/healthz` answered 200. */
  codeServer: boolean;
  /** The VNC web port accepted a connection. */
  desktop: boolean;
  /** The SSH port accepted a connection. */
  ssh: boolean;
  sshPort: number | null;
  /** Where code-server and the VNC web server listen while they answer, for the server's proxies. */
  codeServerPort?: number | null;
  vncHttpPort?: number | null;
  /** Set when KNOT_VSCODE_TUNNEL names a tunnel; `connected` says whether it is up. */
  vscodeTunnel: { name: string; connected: boolean } | null;
  /** The configured ports that accepted a connection. */
  ports: { port: number; name: string; protocol: PortProtocol }[];
}

export type AgentMessage =
  | { t: 'hello'; version: number; agent: string; reportIntervalMs: number }
  | { t: 'report'; report: ServiceReport }
  | { t: 'hb' }
  | { t: 'opened'; id: number }
  | { t: 'refused'; id: number; message: string }
  | { t: 'exit'; id: number; code: number }
  | StreamControl;

export type ServerMessage =
  | { t: 'open'; id: number; kind: 'dial'; port: number }
  | { t: 'open'; id: number; kind: 'shell'; shell: string; cols: number; rows: number }
  | { t: 'resize'; id: number; cols: number; rows: number }
  | StreamControl;

/** Sent by either side about a stream. */
export type StreamControl =
  | { t: 'ack'; id: number; n: number }
  | { t: 'end'; id: number }
  | { t: 'close'; id: number; message?: string };

export function encodeData(id: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(4 + payload.length);
  frame.writeUInt32BE(id, 0);
  frame.set(payload, 4);
  return frame;
}

export function decodeData(frame: Buffer): { id: number; payload: Buffer } | null {
  if (frame.length < 4) return null;
  return { id: frame.readUInt32BE(0), payload: frame.subarray(4) };
}

const MAX_PORTS = 200;
const MAX_NAME = 100;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 0xffffffff;
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 65535;
const isSize = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 10_000;
const isName = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_NAME;

/** A report as the server accepts it, or null when any field is missing or of the wrong type. */
export function parseReport(v: unknown): ServiceReport | null {
  if (!isObject(v)) return null;
  const { terminal, codeServer, desktop, ssh, sshPort, vscodeTunnel, ports, codeServerPort, vncHttpPort } = v;
  if (typeof terminal !== 'boolean' || typeof codeServer !== 'boolean' || typeof desktop !== 'boolean' || typeof ssh !== 'boolean') return null;
  if (sshPort !== null && !isPort(sshPort)) return null;
  for (const port of [codeServerPort, vncHttpPort]) if (port !== undefined && port !== null && !isPort(port)) return null;
  if (vscodeTunnel !== null && !(isObject(vscodeTunnel) && isName(vscodeTunnel.name) && typeof vscodeTunnel.connected === 'boolean')) return null;
  if (!Array.isArray(ports) || ports.length > MAX_PORTS) return null;
  const parsed: ServiceReport['ports'] = [];
  for (const p of ports) {
    if (!isObject(p) || !isPort(p.port) || !isName(p.name) || !['HTTP', 'HTTPS', 'TCP'].includes(p.protocol as string)) return null;
    parsed.push({ port: p.port, name: p.name, protocol: p.protocol as PortProtocol });
  }
  return {
    terminal,
    codeServer,
    desktop,
    ssh,
    sshPort: sshPort as number | null,
    ...(isPort(codeServerPort) ? { codeServerPort } : {}),
    ...(isPort(vncHttpPort) ? { vncHttpPort } : {}),
    vscodeTunnel: vscodeTunnel ? { name: (vscodeTunnel as { name: string }).name, connected: (vscodeTunnel as { connected: boolean }).connected } : null,
    ports: parsed,
  };
}

function parseStreamControl(m: Record<string, unknown>): StreamControl | null {
  if (!isId(m.id)) return null;
  if (m.t === 'ack') return Number.isInteger(m.n) && (m.n as number) > 0 && (m.n as number) <= STREAM_WINDOW ? { t: 'ack', id: m.id, n: m.n as number } : null;
  if (m.t === 'end') return { t: 'end', id: m.id };
  if (m.t === 'close') return { t: 'close', id: m.id, message: typeof m.message === 'string' ? m.message.slice(0, 500) : undefined };
  return null;
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** What the server accepts from an agent; null means malformed (the connection is closed). */
export function parseAgentMessage(text: string): AgentMessage | null {
  const m = parseJson(text);
  if (!m) return null;
  switch (m.t) {
    case 'hello':
      return Number.isInteger(m.version) && isName(m.agent) && Number.isInteger(m.reportIntervalMs)
        ? { t: 'hello', version: m.version as number, agent: m.agent, reportIntervalMs: m.reportIntervalMs as number }
        : null;
    case 'report': {
      const report = parseReport(m.report);
      return report ? { t: 'report', report } : null;
    }
    case 'hb':
      return { t: 'hb' };
    case 'opened':
      return isId(m.id) ? { t: 'opened', id: m.id } : null;
    case 'refused':
      return isId(m.id) && typeof m.message === 'string' ? { t: 'refused', id: m.id, message: m.message.slice(0, 500) } : null;
    case 'exit':
      return isId(m.id) && Number.isInteger(m.code) ? { t: 'exit', id: m.id, code: m.code as number } : null;
    default:
      return parseStreamControl(m);
  }
}

/** What the agent accepts from the server; null means malformed (ignored and logged). */
export function parseServerMessage(text: string): ServerMessage | null {
  const m = parseJson(text);
  if (!m) return null;
  if (m.t === 'open' && isId(m.id)) {
    if (m.kind === 'dial' && isPort(m.port)) return { t: 'open', id: m.id, kind: 'dial', port: m.port };
    if (m.kind === 'shell' && isName(m.shell) && isSize(m.cols) && isSize(m.rows)) {
      return { t: 'open', id: m.id, kind: 'shell', shell: m.shell, cols: m.cols, rows: m.rows };
    }
    return null;
  }
  if (m.t === 'resize') return isId(m.id) && isSize(m.cols) && isSize(m.rows) ? { t: 'resize', id: m.id, cols: m.cols, rows: m.rows } : null;
  return parseStreamControl(m);
}
