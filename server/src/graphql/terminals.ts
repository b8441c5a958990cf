import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db.js';
import { KnotError } from '../errors.js';
import { getSpaceFor, mayUse, relationTo } from '../spaces/access.js';
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

/**
 * A shell acts as the owner inside their space: only those who may open one (the owner, and the
 * users it is shared with) see or end theirs; a manager who only sees the space hears FORBIDDEN.
 */
async function requireUser(db: Db, viewer: Viewer, space: Pick<SpaceRow, 'id' | 'ownerId' | 'name'>) {
  if (!mayUse(await relationTo(db, viewer, space))) {
    throw new KnotError('FORBIDDEN', `Only the owner of "${space.name}" and those it is shared with can see and end terminal sessions in it.`);
  }
}

builder.objectField(SpaceRef, 'terminalSessions', (t) =>
  t.field({
    type: [TerminalSessionRef],
    nullable: true,
    description: 'Your terminal sessions in this space (held by the server that answers), oldest first.',
    resolve: async (space, _args, ctx) => {
      const viewer = requireViewer(ctx);
      await requireUser(ctx.services.db, viewer, space);
      return ctx.services.terminals.list(space.id, viewer.user.id);
    },
  }),
);

builder.mutationFields((t) => ({
  closeTerminalSession: t.boolean({
    description: 'Ends one of your terminal sessions and its shell. False when it had already ended.',
    args: { spaceId: t.arg.id({ required: true }), sessionId: t.arg.id({ required: true }) },
    resolve: async (_root, { spaceId, sessionId }, ctx) => {
      const viewer = requireViewer(ctx);
      const space = await getSpaceFor(ctx.services, viewer, String(spaceId));
      await requireUser(ctx.services.db, viewer, space);
      return ctx.services.terminals.close(String(sessionId), space.id, viewer.user.id);
    },
  }),
}));
