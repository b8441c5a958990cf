// Errors the runtime throws. Messages are meant to be shown to a person as they are
// (a space's error, a GraphQL error); `reason` lets the server map them to codes.

export type RuntimeErrorReason =
  | 'unavailable'
  | 'image-pull-failed'
  | 'create-failed'
  | 'start-failed'
  | 'name-conflict'
  | 'not-found'
  | 'in-use'
  | 'failed';

export class RuntimeError extends Error {
  constructor(
    message: string,
    readonly reason: RuntimeErrorReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** The engine cannot be reached (socket missing, refused, or not answering). */
export class RuntimeUnavailableError extends RuntimeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'unavailable', options);
    this.name = 'RuntimeUnavailableError';
  }
}

// Errors that mean "nobody answers at that address", as opposed to "the engine said no".
const CONNECTION_CODES = new Set([
  'ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOTSOCK', 'ABORT_ERR', 'ERR_STREAM_PREMATURE_CLOSE',
]);

export function isConnectionError(err: unknown): boolean {
  if (err instanceof RuntimeUnavailableError) return true;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object' || e.statusCode !== undefined) return false;
  return (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) || e.message === 'socket hang up';
}

/** HTTP status of an error the engine answered with, if it is one. */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's own words, without docker-modem's "(HTTP code 404) no such container - " prefix. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: unknown; message?: unknown } | null;
  const json = e?.json as { message?: unknown } | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}
