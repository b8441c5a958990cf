import { serverSettings } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import type { Db } from '../db.js';
import { badInput } from '../errors.js';
import { authChanged, type AccountDeps } from './accounts.js';
import { hasTwoFactor } from './two-factor.js';
import type { Viewer } from './viewer.js';

export interface ServerSettings {
  requireTwoFactor: boolean;
}

const DEFAULTS: ServerSettings = { requireTwoFactor: false };

/** The installation-wide settings (one row, made on the first change; defaults until then). */
export async function loadServerSettings(db: Db): Promise<ServerSettings> {
  const [row] = await db.select().from(serverSettings);
  return row ? { requireTwoFactor: row.requireTwoFactor } : DEFAULTS;
}

/** Admins only (the caller checks). Every replica re-resolves its viewers, so a new rule applies on the next request. */
export async function updateServerSettings(deps: AccountDeps, viewer: Viewer, input: Partial<ServerSettings>): Promise<ServerSettings> {
  const current = await loadServerSettings(deps.db);
  const next: ServerSettings = { requireTwoFactor: input.requireTwoFactor ?? current.requireTwoFactor };
  if (next.requireTwoFactor && !current.requireTwoFactor && !(await hasTwoFactor(deps.db, viewer.user.id))) {
    // Otherwise the admin's own next request would be held back to enrolling.
    throw badInput('requireTwoFactor', 'Set up two-factor sign-in for your own account first, then require it for everyone.');
  }
  await deps.db.transaction(async (tx) => {
    await tx
      .insert(serverSettings)
      .values({ singleton: true, ...next })
      .onConflictDoUpdate({ target: serverSettings.singleton, set: { ...next, updatedAt: new Date() } });
    await recordAudit(tx, viewer, { action: 'updateServerSettings', objectType: 'settings', details: { ...next } });
  });
  await authChanged(deps, {});
  return next;
}
