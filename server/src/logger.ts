import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Fields that hold a credential wherever they appear in a logged object: censored by pino itself,
 * so a log call that passes a request, a user row or an input by mistake still writes no secret.
 */
export const REDACTED_LOG_PATHS = [
  'password', '*.password', 'newPassword', '*.newPassword', 'currentPassword', '*.currentPassword',
  'passwordHash', '*.passwordHash', 'servicePassword', '*.servicePassword',
  'token', '*.token', 'headers.authorization', '*.headers.authorization', 'headers.cookie', '*.headers.cookie',
];

/**
 * A failed query's error (drizzle's DrizzleQueryError) carries every bound parameter, in a
 * `params` field and in its message and stack ("params: …"): a user insert's password hash and
 * service password, a token's hash, a sealed variable. The query stays (it says what failed);
 * the parameters go, at any depth of the error's causes, and so does the database's `detail`.
 */
function withoutQueryParams(value: unknown, depth = 0): unknown {
  // Up to the stack's first frame, or the end: a parameter may span lines (a job's YAML, an SSH key).
  if (typeof value === 'string') return value.replace(/\nparams: [\s\S]*?(?=\n\s+at |$)/g, '\nparams: [redacted]');
  if (!value || typeof value !== 'object' || depth > 5) return value;
  if (Array.isArray(value)) return value.map((v) => withoutQueryParams(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    // Postgres's own `detail` quotes the values too ("Failing row contains (…)", "Key (email)=(…)").
    const values = (key === 'params' && 'query' in value) || key === 'detail';
    out[key] = values ? '[redacted]' : withoutQueryParams(v, depth + 1);
  }
  return out;
}

function serializeError(err: unknown): unknown {
  return withoutQueryParams(err instanceof Error ? stdSerializers.err(err) : err);
}

/** Structured JSON logs on stdout (or `destination`, for a test to read back); tests pass level "silent". */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'knot' },
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}
