import * as client from 'openid-client';
import type { OidcConfig } from '../config.js';
import type { Logger } from '../logger.js';

/** Discovery is retried with this backoff (doubling) until the provider answers. */
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * The OpenID Connect provider as Knot sees it: its metadata, discovered at start and retried until
 * it answers, so a provider that is down when Knot starts does not keep Knot down (password login
 * and API tokens go on working); sign-in says it is unavailable until then.
 */
export class OidcProvider {
  private configuration: client.Configuration | undefined;
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Why the last discovery failed, for the log and for a sign-in attempted meanwhile. */
  lastError: string | undefined;

  constructor(
    readonly settings: OidcConfig,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.discover(RETRY_FIRST_MS, 1);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The discovered configuration, waiting up to `timeoutMs` for discovery; undefined if the provider is still unreachable. */
  async ready(timeoutMs: number): Promise<client.Configuration | undefined> {
    if (this.configuration || this.stopped) return this.configuration;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.configuration;
  }

  /** Only once discovered: where logout sends the browser, if the provider has an end_session_endpoint. */
  endSessionUrl(idToken: string, postLogoutRedirectUri: string): string | null {
    if (!this.configuration?.serverMetadata().end_session_endpoint) return null;
    return client.buildEndSessionUrl(this.configuration, { id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri }).href;
  }

  private async discover(waitMs: number, attempt: number): Promise<void> {
    if (this.stopped) return;
    const { issuer, clientId, clientSecret } = this.settings;
    try {
      const url = new URL(issuer);
      this.configuration = await client.discovery(url, clientId, clientSecret, undefined, {
        // A plain-http issuer is the operator's choice (a provider on a private network, or a test's); https is checked as usual.
        execute: url.protocol === 'http:' ? [client.allowInsecureRequests] : [],
        timeout: 10,
      });
      this.lastError = undefined;
      this.log.info({ issuer, attempt }, 'single sign-on: discovered the OpenID Connect provider');
      for (const wake of this.waiters.splice(0)) wake();
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.log.error(
        { issuer, attempt, err: this.lastError, retryInMs: waitMs },
        'single sign-on: cannot reach the OpenID Connect provider at KNOT_OIDC_ISSUER; sign-in through it is unavailable until it answers (retrying)',
      );
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.discover(Math.min(waitMs * 2, RETRY_MAX_MS), attempt + 1), waitMs);
      this.timer.unref();
    }
  }
}
