import { parseHealthReport, type HealthReport } from './health.js';
import { parseReport, type ServiceReport } from './service-report.js';
import { isId, isName, isObject, isPort, isSize } from './validate.js';

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
  /** The space may not run now (its owner's quota, or its template is no longer open to them); the reason says which. */
  refused: 4403,
  /** ws closes with this when a message exceeds MAX_MESSAGE. */
  tooBig: 1009,
  goingAway: 1001,
} as const;

/** The services whose open connections the agent counts as a person at work (see agent/src/activity.ts). */
export const BUSY_SERVICES = ['ssh', 'code-server', 'desktop'] as const;
export type BusyService = (typeof BUSY_SERVICES)[number];
const isBusyService = (v: unknown): v is BusyService => (BUSY_SERVICES as readonly unknown[]).includes(v);

export type AgentMessage =
  | { t: 'hello'; version: number; agent: string; reportIntervalMs: number }
  | { t: 'report'; report: ServiceReport }
  | { t: 'hb' }
  /** After each health check whose outcome differs from the last one sent (and again on every connect). */
  | { t: 'health'; health: HealthReport }
  /** Each report interval while someone uses a service with no traffic through Knot to show it (an SSH login, an open code-server). */
  | { t: 'activity'; what: BusyService[] }
  | { t: 'opened'; id: number }
  | { t: 'refused'; id: number; message: string }
  | { t: 'exit'; id: number; code: number }
  | StreamControl;

export type ServerMessage =
  | { t: 'open'; id: number; kind: 'dial'; port: number }
  /**
   * A new shell. With `keep`, the agent keeps it (and its last output) through a lost connection
   * for its KNOT_TERMINAL_DETACH_SECONDS, so the server can resume it under that name.
   */
  | { t: 'open'; id: number; kind: 'shell'; shell: string; cols: number; rows: number; keep?: string }
  /**
   * A kept shell again, on a new connection: the stream starts with its output from byte `from`
   * (what the server had received), then goes on live. Refused when the agent no longer has it.
   */
  | { t: 'open'; id: number; kind: 'resume'; keep: string; from: number }
  | { t: 'resize'; id: number; cols: number; rows: number }
  | StreamControl;

/** Sent by either side about a stream. */
export type StreamControl =
  | { t: 'ack'; id: number; n: number }
  | { t: 'end'; id: number }
  /**
   * `detach` (server to agent, on a kept shell's stream): whoever showed the shell is gone but not
   * done with it (the replica holding its terminal died), so the agent keeps the shell for a
   * resume, as when its own connection is lost.
   */
  | { t: 'close'; id: number; message?: string; detach?: true };

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

/** A kept shell's name: the server's random id for it. */
const isKey = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(v);

function parseStreamControl(m: Record<string, unknown>): StreamControl | null {
  if (!isId(m.id)) return null;
  if (m.t === 'ack') return Number.isInteger(m.n) && (m.n as number) > 0 && (m.n as number) <= STREAM_WINDOW ? { t: 'ack', id: m.id, n: m.n as number } : null;
  if (m.t === 'end') return { t: 'end', id: m.id };
  if (m.t === 'close') {
    const message = typeof m.message === 'string' ? m.message.slice(0, 500) : undefined;
    return m.detach === true ? { t: 'close', id: m.id, message, detach: true } : { t: 'close', id: m.id, message };
  }
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
    case 'health': {
      const health = parseHealthReport(m.health);
      return health ? { t: 'health', health } : null;
    }
    case 'activity':
      return Array.isArray(m.what) && m.what.length <= BUSY_SERVICES.length && m.what.every(isBusyService)
        ? { t: 'activity', what: m.what }
        : null;
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
      if (m.keep === undefined) return { t: 'open', id: m.id, kind: 'shell', shell: m.shell, cols: m.cols, rows: m.rows };
      return isKey(m.keep) ? { t: 'open', id: m.id, kind: 'shell', shell: m.shell, cols: m.cols, rows: m.rows, keep: m.keep } : null;
    }
    if (m.kind === 'resume' && isKey(m.keep) && Number.isSafeInteger(m.from) && (m.from as number) >= 0) {
      return { t: 'open', id: m.id, kind: 'resume', keep: m.keep, from: m.from as number };
    }
    return null;
  }
  if (m.t === 'resize') return isId(m.id) && isSize(m.cols) && isSize(m.rows) ? { t: 'resize', id: m.id, cols: m.cols, rows: m.rows } : null;
  return parseStreamControl(m);
}
