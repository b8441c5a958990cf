import { GraphQLError } from 'graphql';

/** The codes clients branch on (a public contract: integrations and the CLI branch on them). */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'NAME_TAKEN'
  | 'SPACE_NOT_STOPPED'
  | 'INVALID_TRANSITION'
  | 'TEMPLATE_IN_USE'
  | 'USER_HAS_SPACES'
  | 'GROUP_IN_USE'
  | 'QUOTA_EXCEEDED'
  | 'RUNTIME_UNAVAILABLE'
  | 'ALREADY_SET_UP'
  | 'TOO_MANY_ATTEMPTS'
  | 'OUTSIDE_SCHEDULE'
  | 'SPACE_NOT_RUNNING'
  /** The password was right; the account has two-factor sign-in, so send `totp` or `recoveryCode` too. */
  | 'TOTP_REQUIRED'
  /** The TOTP code is wrong, or was already used; or the recovery code is unknown or used. */
  | 'TOTP_INVALID'
  /** Two-factor sign-in is required for everyone and this account has none yet: only enrolling is allowed. */
  | 'TOTP_SETUP_REQUIRED'
  | 'TOTP_ALREADY_ENABLED'
  /** KNOT_LOCAL_LOGIN=false: password login and the first-run form are off; sign in through the identity provider. */
  | 'LOCAL_LOGIN_DISABLED'
  /** A password change for an account made by single sign-on: it has no password in Knot; it signs in at its provider. */
  | 'NO_LOCAL_PASSWORD'
  /** A webhook's URL is, or resolves to, a private, loopback or link-local address (docs/webhooks.md). */
  | 'WEBHOOK_URL_REFUSED';

/**
 * A refusal a person should read. Yoga passes GraphQLErrors through unmasked, so the message and
 * `extensions.code` reach the client; anything else thrown is masked and logged.
 */
export class KnotError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extra: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extra } });
  }
}

export const unauthenticated = () => new KnotError('UNAUTHENTICATED', 'You need to log in first.');
export const forbidden = (what: string) => new KnotError('FORBIDDEN', `You are not allowed to ${what}.`);
export const notFound = (what: string) => new KnotError('NOT_FOUND', `${what} was not found.`);
export const badInput = (field: string, message: string) =>
  new KnotError('BAD_USER_INPUT', message, { field });
