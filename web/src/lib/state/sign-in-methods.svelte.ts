import { query } from '../api/client.js';
import { SIGN_IN_METHODS } from '../api/documents.js';

/** Why a single sign-on came back to the login page (`/login?error=<code>`), in words. */
export const SSO_ERRORS: Record<string, string> = {
  OIDC_STATE_INVALID: 'The sign-in could not be verified: it did not begin in this browser, or took too long. Try again.',
  OIDC_NONCE_INVALID: "The identity provider's answer does not belong to this sign-in. Try again.",
  OIDC_CODE_INVALID: "The identity provider's answer was incomplete or already used. Try again.",
  OIDC_DENIED: 'The identity provider did not sign you in.',
  OIDC_UNAVAILABLE: 'Knot cannot reach the identity provider right now. Try again later.',
  OIDC_FAILED: "Single sign-on failed. Try again, or ask an admin to look at Knot's log.",
  FORBIDDEN: 'This account is deactivated. Ask an admin to reactivate it.',
  NAME_TAKEN: 'A Knot account with your email already exists and is not linked to this sign-in. Ask an admin.',
};

/** How this Knot lets people sign in, asked once per page load (the login page's buttons and form). */
class SignInMethods {
  #password = $state(true);
  #sso = $state<{ name: string; loginUrl: string } | null>(null);
  #loaded = $state(false);
  #pending: Promise<void> | null = null;

  get password() {
    return this.#password;
  }
  get sso() {
    return this.#sso;
  }
  get loaded() {
    return this.#loaded;
  }

  load(): Promise<void> {
    this.#pending ??= query(SIGN_IN_METHODS).then((data) => {
      this.#password = data.signInMethods.password;
      this.#sso = data.signInMethods.sso ?? null;
      this.#loaded = true;
    });
    return this.#pending;
  }
}

export const signInMethods = new SignInMethods();
