import { eq, inArray } from 'drizzle-orm';
import { sessions, userIdentities } from '../../../schema/db/index.js';
import { hasLocalPassword } from '../auth/secrets.js';
import { can } from '../auth/viewer.js';
import { KnotError } from '../errors.js';
import { providerName } from '../oidc/provider-name.js';
import { OIDC_LOGIN_PATH } from '../oidc/routes.js';
import { builder } from './builder.js';
import { requireViewer, type Context } from './context.js';
import { UserRef } from './users.js';

/** Refuses password login and the first-run form when KNOT_LOCAL_LOGIN=false (docs/sso.md). */
export function requireLocalLogin(ctx: Context): void {
  if (ctx.services.config.localLogin) return;
  const sso = ctx.services.config.oidc;
  throw new KnotError(
    'LOCAL_LOGIN_DISABLED',
    `Password login is turned off on this Knot${sso ? `: sign in with ${sso.name}` : ''}. The CLI and integrations use API tokens.`,
  );
}

const SingleSignOn = builder.objectRef<{ name: string; loginUrl: string }>('SingleSignOn').implement({
  description: 'An OpenID Connect provider users sign in with.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The label of its button: "Sign in with <name>".' }),
    loginUrl: t.exposeString('loginUrl', { description: 'Where the browser goes to sign in; `?next=<path>` comes back to that page.' }),
  }),
});

const SignInMethods = builder.objectRef<{ password: boolean; sso: { name: string; loginUrl: string } | null }>('SignInMethods').implement({
  description: 'How people sign in to this Knot; public, so the login page can show the right buttons.',
  fields: (t) => ({
    password: t.exposeBoolean('password', { description: 'Username and password (off with KNOT_LOCAL_LOGIN=false).' }),
    sso: t.field({ type: SingleSignOn, nullable: true, resolve: (m) => m.sso }),
  }),
});

builder.queryFields((t) => ({
  signInMethods: t.field({
    type: SignInMethods,
    resolve: (_root, _args, ctx) => {
      const { localLogin, oidc } = ctx.services.config;
      return { password: localLogin, sso: oidc ? { name: oidc.name, loginUrl: OIDC_LOGIN_PATH } : null };
    },
  }),
  providerLogoutUrl: t.string({
    nullable: true,
    description:
      "Where the browser goes after logout to end the identity provider's session as well: null unless this session began with single sign-on and the provider has an end_session_endpoint.",
    resolve: async (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      const provider = ctx.services.oidc;
      if (!provider || viewer.credential.kind !== 'session') return null;
      const [row] = await ctx.services.db.select({ idToken: sessions.oidcIdToken }).from(sessions).where(eq(sessions.id, viewer.credential.id));
      return row?.idToken ? provider.endSessionUrl(row.idToken, `${ctx.services.config.url}/login`) : null;
    },
  }),
}));

const UserIdentityRef = builder.objectRef<{ issuer: string; name: string }>('UserIdentity').implement({
  description: 'The OpenID Connect provider account that signs a user in (the account was made at its first sign-in).',
  fields: (t) => ({
    issuer: t.exposeString('issuer', { description: "The provider's issuer URL." }),
    name: t.exposeString('name', { description: "This Knot's provider by its button's name (KNOT_OIDC_NAME); an earlier provider by its host name." }),
  }),
});

/** How a user signs in is for themselves and whoever manages users, like twoFactorEnabled. */
const mayKnowSignIn = (userId: string, ctx: Context) => ctx.viewer?.user.id === userId || can(ctx.viewer, 'MANAGE_USERS');

builder.objectFields(UserRef, (t) => ({
  singleSignOn: t.loadable({
    type: UserIdentityRef,
    nullable: true,
    description:
      'The identity provider the user signs in with, for accounts made by single sign-on; null for local accounts. Only for themselves and those with MANAGE_USERS; null for anyone else.',
    load: async (userIds: string[], ctx: Context) => {
      const rows = await ctx.services.db
        .select({ userId: userIdentities.userId, issuer: userIdentities.issuer })
        .from(userIdentities)
        .where(inArray(userIdentities.userId, userIds));
      return userIds.map((id) => {
        const row = rows.find((r) => r.userId === id);
        return row ? { issuer: row.issuer, name: providerName(ctx.services.config.oidc, row.issuer) } : null;
      });
    },
    resolve: (u, _args, ctx) => (mayKnowSignIn(u.id, ctx) ? u.id : null),
  }),
  hasPassword: t.boolean({
    nullable: true,
    description:
      'Whether the user has a password in Knot: false for an account made by single sign-on that no admin gave one (updateProfile refuses newPassword with NO_LOCAL_PASSWORD). Only for themselves and those with MANAGE_USERS; null for anyone else.',
    resolve: (u, _args, ctx) => (mayKnowSignIn(u.id, ctx) ? hasLocalPassword(u.passwordHash) : null),
  }),
}));
