import { and, desc, eq } from 'drizzle-orm';
import { apiTokens } from '../../../schema/db/index.js';
import {
  createApiToken,
  login,
  logout,
  needsSetup,
  revokeApiToken,
  setup,
  updateProfile,
} from '../auth/accounts.js';
import { sessionCookieHeader } from '../auth/session-cookie.js';
import { requireLocalLogin } from './sign-in.js';
import { builder } from './builder.js';
import { checkSecondFactor } from '../auth/two-factor.js';
import { requireEnrollingViewer, requireViewer, type Context } from './context.js';
import { ShellEnum, UserRef, asOwnProfile } from './users.js';

type ApiTokenRow = typeof apiTokens.$inferSelect;
const ApiTokenRef = builder.objectRef<ApiTokenRow>('ApiToken').implement({
  description: 'A Bearer token for integrations and the CLI. The token itself is shown once, at creation.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedApiToken = builder.objectRef<{ token: string; apiToken: ApiTokenRow }>('CreatedApiToken').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Shown only now; Knot keeps just its hash.' }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.apiToken }),
  }),
});

const ServerInfo = builder
  .objectRef<{ setupRequired: boolean; url: string; wildcardDomain: string | null }>('ServerInfo')
  .implement({
    fields: (t) => ({
      setupRequired: t.exposeBoolean('setupRequired', { description: 'True until the first admin is created.' }),
      url: t.exposeString('url'),
      wildcardDomain: t.exposeString('wildcardDomain', { nullable: true }),
    }),
  });

const SetupInput = builder.inputType('SetupInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    timezone: t.string(),
  }),
});

const UpdateProfileInput = builder.inputType('UpdateProfileInput', {
  fields: (t) => ({
    email: t.string(),
    currentPassword: t.string({ description: 'Required with newPassword.' }),
    newPassword: t.string(),
    preferredShell: t.field({ type: ShellEnum }),
    timezone: t.string(),
    sshPublicKey: t.string(),
    servicePassword: t.string({
      description: 'The new service password; an empty string generates a new random one. Spaces get it on their next start.',
    }),
  }),
});

function sessionCookie(ctx: Context, token: string, maxAgeSeconds: number): string {
  return sessionCookieHeader(ctx.services.config, token, maxAgeSeconds);
}

builder.queryFields((t) => ({
  me: t.field({
    type: UserRef,
    nullable: true,
    description: 'The logged-in user, or null when nobody is.',
    resolve: (_root, _args, ctx) => (ctx.viewer || ctx.credentialRejected ? asOwnProfile(requireEnrollingViewer(ctx).user) : null),
  }),
  serverInfo: t.field({
    type: ServerInfo,
    resolve: async (_root, _args, ctx) => ({
      // Without password login the first account comes from single sign-on (docs/sso.md), not the first-run form.
      setupRequired: ctx.services.config.localLogin && (await needsSetup(ctx.services.db)),
      url: ctx.services.config.url,
      wildcardDomain: ctx.services.config.wildcardDomain ?? null,
    }),
  }),
  apiTokens: t.field({
    type: [ApiTokenRef],
    description: 'Your API tokens that are not revoked.',
    resolve: async (_root, _args, ctx) => {
      const viewer = requireViewer(ctx);
      const rows = await ctx.services.db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.userId, viewer.user.id)))
        .orderBy(desc(apiTokens.createdAt));
      return rows.filter((r) => !r.revokedAt);
    },
  }),
}));

builder.mutationFields((t) => ({
  setup: t.field({
    type: UserRef,
    description: 'Creates the first user as admin and logs them in. Refused (ALREADY_SET_UP) once any user exists.',
    args: { input: t.arg({ type: SetupInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      requireLocalLogin(ctx);
      const user = await setup(ctx.services, input);
      const session = await login(ctx.services, input.username, input.password, ctx.clientAddress);
      ctx.setCookie(sessionCookie(ctx, session.token, 30 * 86_400));
      return user;
    },
  }),
  login: t.field({
    type: UserRef,
    description:
      'Starts a browser session (HttpOnly cookie). Repeated failures slow further attempts down. An account with two-factor sign-in also needs `totp` or `recoveryCode`: without one the answer is TOTP_REQUIRED, with a wrong or used one TOTP_INVALID.',
    args: {
      username: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      totp: t.arg.string({ description: 'The current code from the authenticator app, for an account with two-factor sign-in.' }),
      recoveryCode: t.arg.string({ description: 'Instead of `totp`: one of the recovery codes, each good once.' }),
    },
    resolve: async (_root, { username, password, totp, recoveryCode }, ctx) => {
      requireLocalLogin(ctx);
      const { token, user } = await login(ctx.services, username, password, ctx.clientAddress, (found) =>
        checkSecondFactor(ctx.services, found, { totp, recoveryCode }),
      );
      ctx.setCookie(sessionCookie(ctx, token, 30 * 86_400));
      return user;
    },
  }),
  logout: t.boolean({
    resolve: async (_root, _args, ctx) => {
      await logout(ctx.services, requireEnrollingViewer(ctx));
      ctx.setCookie(sessionCookie(ctx, '', 0));
      return true;
    },
  }),
  createApiToken: t.field({
    type: CreatedApiToken,
    args: { name: t.arg.string({ required: true }), expiresInDays: t.arg.int() },
    resolve: async (_root, { name, expiresInDays }, ctx) => {
      const { token, row } = await createApiToken(ctx.services, requireViewer(ctx), name, expiresInDays);
      return { token, apiToken: row };
    },
  }),
  revokeApiToken: t.boolean({
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      await revokeApiToken(ctx.services, requireViewer(ctx), String(id));
      return true;
    },
  }),
  updateProfile: t.field({
    type: UserRef,
    args: { input: t.arg({ type: UpdateProfileInput, required: true }) },
    resolve: async (_root, { input }, ctx) => asOwnProfile(await updateProfile(ctx.services, requireViewer(ctx), input, ctx.clientAddress)),
  }),
}));
