/**
 * Health checks: what a template's job spec declares (`healthcheck:`), how the server hands it to
 * the agent (the KNOT_HEALTHCHECK environment variable, JSON), and what the agent reports back.
 */
import { isObject, isPort } from './validate.js';

export type HealthProbe =
  | { http: { port: number; path: string } }
  | { tcp: { port: number } }
  | { command: string[] };

export type HealthCheck = HealthProbe & {
  intervalMs: number;
  timeoutMs: number;
  /** Failures in a row before the space counts as unhealthy (and may be restarted). */
  retries: number;
};

/** The environment variable the server sets in a space whose template declares a check. */
export const HEALTHCHECK_ENV = 'KNOT_HEALTHCHECK';

/** Docker's defaults, so a check reads the same in both places. */
export const HEALTHCHECK_DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3 } as const;
export const HEALTHCHECK_LIMITS = {
  intervalMs: { min: 1_000, max: 3_600_000 },
  timeoutMs: { min: 100, max: 600_000 },
  retries: { min: 1, max: 100 },
} as const;

/** Longest failure reason either side keeps. */
export const MAX_HEALTH_REASON = 500;

const inRange = (v: unknown, r: { min: number; max: number }): v is number => Number.isInteger(v) && (v as number) >= r.min && (v as number) <= r.max;

/** The agent's reading of KNOT_HEALTHCHECK; null when it is not a check this protocol knows. */
export function parseHealthCheck(value: unknown): HealthCheck | null {
  if (!isObject(value)) return null;
  const { intervalMs, timeoutMs, retries } = value;
  if (!inRange(intervalMs, HEALTHCHECK_LIMITS.intervalMs) || !inRange(timeoutMs, HEALTHCHECK_LIMITS.timeoutMs) || !inRange(retries, HEALTHCHECK_LIMITS.retries)) return null;
  const timing = { intervalMs, timeoutMs, retries };
  if (isObject(value.http) && isPort(value.http.port) && typeof value.http.path === 'string' && value.http.path.startsWith('/')) {
    return { http: { port: value.http.port, path: value.http.path }, ...timing };
  }
  if (isObject(value.tcp) && isPort(value.tcp.port)) return { tcp: { port: value.tcp.port }, ...timing };
  if (Array.isArray(value.command) && value.command.length > 0 && value.command.every((w) => typeof w === 'string')) {
    return { command: value.command as string[], ...timing };
  }
  return null;
}

/** What the agent says after a check: passing, or failing `failures` times in a row and why. */
export interface HealthReport {
  healthy: boolean;
  failures: number;
  /** The check's `retries`: this many failures in a row make the space UNHEALTHY. */
  retries: number;
  reason: string | null;
}

export function parseHealthReport(value: unknown): HealthReport | null {
  if (!isObject(value) || typeof value.healthy !== 'boolean' || !Number.isInteger(value.failures) || (value.failures as number) < 0) return null;
  if (!inRange(value.retries, HEALTHCHECK_LIMITS.retries)) return null;
  if (value.reason !== null && typeof value.reason !== 'string') return null;
  const reason = value.reason === null ? null : value.reason.slice(0, MAX_HEALTH_REASON);
  return { healthy: value.healthy, failures: value.failures as number, retries: value.retries, reason };
}
