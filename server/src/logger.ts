import { pino, type Logger } from 'pino';

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

/** Structured JSON logs on stdout; tests pass level "silent". */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'knot' }, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } });
}
