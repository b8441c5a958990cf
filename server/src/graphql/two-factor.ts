import { and, inArray, isNotNull } from 'drizzle-orm';
import { totpCredentials } from '../../../schema/db/index.js';
import { loadServerSettings, updateServerSettings } from '../auth/server-settings.js';
import { confirmTotp, disableTotp, enableTotp, resetUserTotp, type TotpSetup } from '../auth/two-factor.js';
import { can } from '../auth/viewer.js';
import { KnotError } from '../errors.js';
import { builder } from './builder.js';
import { requireEnrollingViewer, requirePermission, requireViewer, type Context } from './context.js';
import { UserRef } from './users.js';

const TotpSetupRef = builder.objectRef<TotpSetup>('TotpSetup').implement({
  description: 'An authenticator waiting to be confirmed with confirmTotp. Shown to its user only, now.',
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The shared secret in base32, for typing into the app by hand.' }),
    uri: t.exposeString('uri', { description: 'The otpauth:// URI that authenticator apps read.' }),
    qrCode: t.exposeString('qrCode', { description: 'The URI as a QR code: an SVG image as a data: URL.' }),
  }),
});

const ServerSettingsRef = builder.objectRef<{ requireTwoFactor: boolean }>('ServerSettings').implement({
  fields: (t) => ({
    requireTwoFactor: t.exposeBoolean('requireTwoFactor', {
      description: 'Local accounts without two-factor sign-in may only set it up (every other field answers TOTP_SETUP_REQUIRED).',
    }),
  }),
});

const ServerSettingsInput = builder.inputType('ServerSettingsInput', {
  fields: (t) => ({ requireTwoFactor: t.boolean() }),
});

builder.objectFields(UserRef, (t) => ({
  twoFactorEnabled: t.loadable({
    type: 'Boolean',
    nullable: true,
    description: 'Whether the user signs in with a TOTP code: for themselves and those with MANAGE_USERS; null for anyone else.',
    load: async (userIds: string[], ctx: Context) => {
      const rows = await ctx.services.db
        .select({ userId: totpCredentials.userId })
        .from(totpCredentials)
        .where(and(inArray(totpCredentials.userId, userIds), isNotNull(totpCredentials.confirmedAt)));
      const enabled = new Set(rows.map((r) => r.userId));
      return userIds.map((id) => enabled.has(id));
    },
    resolve: (u, _args, ctx) => (ctx.viewer?.user.id === u.id || can(ctx.viewer, 'MANAGE_USERS') ? u.id : null),
  }),
  twoFactorSetupRequired: t.boolean({
    nullable: true,
    description: 'On yourself: true while you must set up two-factor sign-in before using anything else. Null on other users.',
    resolve: (u, _args, ctx) => (ctx.viewer?.user.id === u.id ? !!ctx.viewer.mustEnrolTotp : null),
  }),
}));

builder.queryFields((t) => ({
  serverSettings: t.field({
    type: ServerSettingsRef,
    description: 'Installation-wide settings; readable by anyone signed in (the UI explains them), changed by admins.',
    resolve: (_root, _args, ctx) => {
      requireViewer(ctx);
      return loadServerSettings(ctx.services.db);
    },
  }),
}));

builder.mutationFields((t) => ({
  enableTotp: t.field({
    type: TotpSetupRef,
    description:
      'Starts setting up two-factor sign-in for yourself: a new secret, not active until confirmTotp. Calling it again replaces an unconfirmed setup; refused (TOTP_ALREADY_ENABLED) while one is on.',
    resolve: (_root, _args, ctx) => enableTotp(ctx.services, requireEnrollingViewer(ctx)),
  }),
  confirmTotp: t.stringList({
    description:
      'Turns two-factor sign-in on with a current code from the app, and returns ten one-time recovery codes. They are shown only now: Knot keeps just their hashes.',
    args: { code: t.arg.string({ required: true }) },
    resolve: (_root, { code }, ctx) => confirmTotp(ctx.services, requireEnrollingViewer(ctx), code),
  }),
  disableTotp: t.boolean({
    description: 'Turns your two-factor sign-in off, proven by a current code, an unused recovery code, or your password.',
    args: { code: t.arg.string(), password: t.arg.string() },
    resolve: async (_root, { code, password }, ctx) => {
      await disableTotp(ctx.services, requireViewer(ctx), { code, password }, ctx.clientAddress);
      return true;
    },
  }),
  resetUserTotp: t.field({
    type: UserRef,
    description:
      "Turns a user's two-factor sign-in off (their authenticator and recovery codes are forgotten), for someone who lost both. Needs MANAGE_USERS, and the user may hold no permission you lack. Audited.",
    args: { userId: t.arg.id({ required: true }) },
    resolve: (_root, { userId }, ctx) => resetUserTotp(ctx.services, requirePermission(ctx, 'MANAGE_USERS', "reset users' two-factor sign-in"), String(userId)),
  }),
  updateServerSettings: t.field({
    type: ServerSettingsRef,
    description: 'Changes installation-wide settings. Admins only.',
    args: { input: t.arg({ type: ServerSettingsInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      if (!viewer.isAdmin) throw new KnotError('FORBIDDEN', 'Only an admin can change server settings.');
      return updateServerSettings(ctx.services, viewer, { requireTwoFactor: input.requireTwoFactor ?? undefined });
    },
  }),
}));
