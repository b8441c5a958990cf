import type { Viewer } from '../auth/viewer.js';
import { KnotError } from '../errors.js';
import { getSpaceFor } from '../spaces/access.js';
import type { SpaceRow } from '../spaces/store.js';
import type { TerminalSessionInfo } from '../terminal/session.js';
import { builder } from './builder.js';
import { requireViewer } from './context.js';
import { SpaceRef } from './spaces.js';

const TerminalSessionRef = builder.objectRef<TerminalSessionInfo>('TerminalSession').implement({
  description:
    'A shell of the web terminal that outlives its browser tab: reattach with `/spaces/<id>/terminal?session=<id>`. It ends when the shell exits, when it is closed, or after KNOT_TERMINAL_DETACH_SECONDS with no tab attached.',
  fields: (t) => ({
    id: t.exposeID('id'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    attached: t.exposeInt('attached', { description: 'How many sockets (tabs) show it now.' }),
    detachedAt: t.expose('detachedAt', { type: 'DateTime', nullable: true, description: 'When the last tab went away; null while attached.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When it ends unless reattached; null while attached.' }),
    cols: t.exposeInt('cols'),
    rows: t.exposeInt('rows'),
  }),
});

/** A shell acts as the owner inside their space: only the owner sees or ends one, as only they open one. */
function requireOwner(viewer: Viewer, space: Pick<SpaceRow, 'ownerId' | 'name'>) {
  if (space.ownerId !== viewer.user.id) {
    throw new KnotError('FORBIDDEN', `Only the owner of "${space.name}" can see and end its terminal sessions.`);
  }
}

builder.objectField(SpaceRef, 'terminalSessions', (t) =>
  t.field({
    type: [TerminalSessionRef],
    nullable: true,
    description: "The owner's terminal sessions in this space (held by the server that answers), oldest first.",
    resolve: (space, _args, ctx) => {
      const viewer = requireViewer(ctx);
      requireOwner(viewer, space);
      return ctx.services.terminals.list(space.id, viewer.user.id);
    },
  }),
);

builder.mutationFields((t) => ({
  closeTerminalSession: t.boolean({
    description: 'Ends a terminal session and its shell (the owner only). False when it had already ended.',
    args: { spaceId: t.arg.id({ required: true }), sessionId: t.arg.id({ required: true }) },
    resolve: async (_root, { spaceId, sessionId }, ctx) => {
      const viewer = requireViewer(ctx);
      const space = await getSpaceFor(ctx.services, viewer, String(spaceId));
      requireOwner(viewer, space);
      return ctx.services.terminals.close(String(sessionId), space.id, viewer.user.id);
    },
  }),
}));
