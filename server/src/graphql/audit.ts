import { desc, lt } from 'drizzle-orm';
import { auditLog } from '../../../schema/db/index.js';
import { badInput } from '../errors.js';
import { builder } from './builder.js';
import { requireViewer } from './context.js';
import { can } from '../auth/viewer.js';
import { forbidden } from '../errors.js';

type AuditRow = typeof auditLog.$inferSelect;

const AuditEntryRef = builder.objectRef<AuditRow>('AuditEntry').implement({
  fields: (t) => ({
    id: t.id({ resolve: (r) => String(r.id) }),
    at: t.expose('at', { type: 'DateTime' }),
    actorId: t.exposeID('actorId', { nullable: true }),
    actorName: t.exposeString('actorName'),
    action: t.exposeString('action'),
    objectType: t.exposeString('objectType'),
    objectId: t.exposeString('objectId', { nullable: true }),
    details: t.expose('details', { type: 'JSON' }),
  }),
});

const AuditPage = builder.objectRef<{ entries: AuditRow[]; nextCursor: string | null }>('AuditLogPage').implement({
  fields: (t) => ({
    entries: t.field({ type: [AuditEntryRef], resolve: (p) => p.entries }),
    nextCursor: t.exposeString('nextCursor', { nullable: true, description: 'Pass as `before` for the next, older page.' }),
  }),
});

builder.queryFields((t) => ({
  auditLog: t.field({
    type: AuditPage,
    description: 'Newest first. Admins and holders of VIEW_AUDIT_LOG only.',
    args: { first: t.arg.int({ defaultValue: 50 }), before: t.arg.string() },
    resolve: async (_root, { first, before }, ctx) => {
      const viewer = requireViewer(ctx);
      if (!can(viewer, 'VIEW_AUDIT_LOG')) throw forbidden('read the audit log');
      const limit = first ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw badInput('first', 'first must be from 1 to 500.');
      const cursor = before == null ? null : Number(before);
      if (cursor !== null && !Number.isSafeInteger(cursor)) throw badInput('before', 'before must be a cursor from a previous page.');
      const rows = await ctx.services.db
        .select()
        .from(auditLog)
        .where(cursor === null ? undefined : lt(auditLog.id, cursor))
        .orderBy(desc(auditLog.id))
        .limit(limit + 1);
      const entries = rows.slice(0, limit);
      return { entries, nextCursor: rows.length > limit ? String(entries.at(-1)!.id) : null };
    },
  }),
}));
