import { eq } from 'drizzle-orm';
import { sessions } from '../../../schema/db/index.js';
import { KnotError } from '../errors.js';
import { OIDC_LOGIN_PATH } from '../oidc/routes.js';
import { builder } from './builder.js';
import { requireViewer, type Context } from './context.js';

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
