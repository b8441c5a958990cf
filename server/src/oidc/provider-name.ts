import type { OidcConfig } from '../config.js';

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * What people call the provider an identity comes from: this Knot's provider by its button's
 * name (KNOT_OIDC_NAME), any other issuer (one configured before) by its host name.
 */
export function providerName(config: OidcConfig | undefined, issuer: string): string {
  if (config && withoutTrailingSlash(config.issuer) === withoutTrailingSlash(issuer)) return config.name;
  try {
    return new URL(issuer).hostname;
  } catch {
    return issuer;
  }
}
