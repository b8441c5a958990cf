import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/src/config.js';

const SSO = { KNOT_OIDC_ISSUER: 'https://id.example.com/realms/corp', KNOT_OIDC_CLIENT_ID: 'knot', KNOT_OIDC_CLIENT_SECRET: 's3cret' };

describe('single sign-on configuration', () => {
  it('is off without an issuer, with password login on', () => {
    const config = loadConfig({});
    expect(config.oidc).toBeUndefined();
    expect(config.localLogin).toBe(true);
  });

  it('reads the issuer, client and claims, with defaults for the rest', () => {
    expect(loadConfig(SSO).oidc).toEqual({
      issuer: 'https://id.example.com/realms/corp',
      clientId: 'knot',
      clientSecret: 's3cret',
      groupsClaim: undefined,
      usernameClaim: 'preferred_username',
      name: 'id.example.com',
      scopes: 'openid profile email',
    });
    const custom = loadConfig({ ...SSO, KNOT_OIDC_GROUPS_CLAIM: 'groups', KNOT_OIDC_USERNAME_CLAIM: 'email', KNOT_OIDC_NAME: 'Corp', KNOT_OIDC_SCOPES: 'openid email groups' }).oidc;
    expect(custom).toMatchObject({ groupsClaim: 'groups', usernameClaim: 'email', name: 'Corp', scopes: 'openid email groups' });
  });

  it('refuses to start with half a configuration or a bad value, naming the variable', () => {
    expect(() => loadConfig({ KNOT_OIDC_ISSUER: 'not a url' })).toThrow(/KNOT_OIDC_ISSUER/);
    expect(() => loadConfig({ KNOT_OIDC_ISSUER: SSO.KNOT_OIDC_ISSUER })).toThrow(/KNOT_OIDC_CLIENT_ID/);
    expect(() => loadConfig({ ...SSO, KNOT_OIDC_CLIENT_SECRET: '' })).toThrow(/KNOT_OIDC_CLIENT_SECRET/);
    expect(() => loadConfig({ KNOT_LOCAL_LOGIN: 'no' })).toThrow(/KNOT_LOCAL_LOGIN/);
    expect(loadConfig({ KNOT_LOCAL_LOGIN: 'false' }).localLogin).toBe(false);
    expect(loadConfig({ KNOT_LOCAL_LOGIN: 'TRUE' }).localLogin).toBe(true);
  });
});
