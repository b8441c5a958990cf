import { getSpaceFor } from '../spaces/access.js';
import { shareCandidates, sharedWith, shareSpace, unshareSpace, type ShareUser } from '../spaces/sharing.js';
import { transferSpace } from '../spaces/transfer.js';
import { builder } from './builder.js';
import { requireViewer } from './context.js';
import { SpaceRef } from './spaces.js';

/** Sharing and handing over spaces (spaces/sharing.ts, spaces/transfer.ts; docs/permissions.md). */

const SpaceUserRef = builder.objectRef<ShareUser & { sharedAt?: Date }>('SpaceUser').implement({
  description: 'A user as a space\'s sharing shows them: a name, nothing more.',
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    sharedAt: t.expose('sharedAt', { type: 'DateTime', nullable: true, description: 'In `Space.sharedWith`: since when.' }),
  }),
});

builder.objectField(SpaceRef, 'sharedWith', (t) =>
  t.field({
    type: [SpaceUserRef],
    description:
      'The users who may use the space besides its owner (terminal, code-server, desktop, ports, start and stop); whoever sees the space sees this.',
    resolve: (space, _args, ctx) => sharedWith(ctx.services.db, space.id),
  }),
);

builder.queryFields((t) => ({
  shareCandidates: t.field({
    type: [SpaceUserRef],
    description: "Users the space's owner may share it with, by part of their username (at most 20).",
    args: { spaceId: t.arg.id({ required: true }), search: t.arg.string({ required: true }) },
    resolve: (_root, { spaceId, search }, ctx) => shareCandidates(ctx.services, requireViewer(ctx), String(spaceId), search),
  }),
}));

builder.mutationFields((t) => ({
  shareSpace: t.field({
    type: SpaceRef,
    description:
      "The owner lets another user use the space: it appears in their list with its owner, and they may open its terminal, code-server, desktop and ports and start or stop it (counted against the owner's quota), but not edit, delete, share or hand it over. Sharing twice changes nothing.",
    args: { id: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_root, { id, userId }, ctx) => shareSpace(ctx.services, requireViewer(ctx), String(id), String(userId)),
  }),
  unshareSpace: t.boolean({
    description:
      "Withdraws a user's use of the space (the owner or MANAGE_SPACES; a user may also leave a space shared with them). Their open terminals, proxied connections and forwards into it end at once. False when it was not shared with them.",
    args: { id: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: (_root, { id, userId }, ctx) => unshareSpace(ctx.services, requireViewer(ctx), String(id), String(userId)),
  }),
  transferSpace: t.field({
    type: SpaceRef,
    nullable: true,
    description:
      "Null when you no longer see it afterwards (you handed your own space away). Hands a stopped space to another user (the owner or MANAGE_SPACES): SPACE_NOT_STOPPED unless stopped or failed, NAME_TAKEN when they have a space by one of its names, and their quota (QUOTA_EXCEEDED) and template access (FORBIDDEN) apply. A manager cannot hand someone else's space to themselves (FORBIDDEN): it would give them its files. Its volumes and their data come with it; its shares are cleared.",
    args: { id: t.arg.id({ required: true }), userId: t.arg.id({ required: true }) },
    resolve: async (_root, { id, userId }, ctx) => {
      const viewer = requireViewer(ctx);
      const moved = await transferSpace(ctx.services, viewer, String(id), String(userId));
      // The previous owner may not see it any more; a manager still does.
      return getSpaceFor(ctx.services, viewer, moved.id).catch(() => null);
    },
  }),
}));
