import { eq } from 'drizzle-orm';
import { spaces, templates } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import { hashToken, newToken } from '../auth/secrets.js';
import type { Viewer } from '../auth/viewer.js';
import { KnotError, notFound } from '../errors.js';
import type { Services } from '../services.js';
import { getSpaceFor } from '../spaces/access.js';
import type { SpaceRow } from '../spaces/store.js';

export interface CreatedAgentToken {
  token: string;
  space: SpaceRow;
  /** The KNOT_SERVER the agent should use: the public URL, since a manual space's machine is anywhere. */
  server: string;
}

/**
 * A manual space's agent token. Docker spaces get a fresh one injected at each start; a manual
 * space's machine is the user's, so the owner asks for one. It is shown once, stored only as a
 * hash, and replaces the previous one: an agent still using that is disconnected.
 *
 * Only the owner, never MANAGE_SPACES or an admin: whoever holds the token decides what the
 * space's desktop and ports serve to the owner, on Knot's origin and with the owner's service
 * password, which is the owner's account (docs/security.md).
 */
export async function createAgentToken(services: Services, viewer: Viewer, spaceId: string): Promise<CreatedAgentToken> {
  const space = await getSpaceFor(services, viewer, spaceId);
  if (space.ownerId !== viewer.user.id) {
    throw new KnotError('FORBIDDEN', `Only the owner of "${space.name}" can set up its agent: the agent acts as them.`);
  }
  const [template] = await services.db.select({ platform: templates.platform }).from(templates).where(eq(templates.id, space.templateId));
  if (template?.platform !== 'MANUAL') {
    throw new KnotError(
      'BAD_USER_INPUT',
      `"${space.name}" runs in Docker: Knot gives its agent a token each time it starts. Only spaces of manual templates need one.`,
      { field: 'spaceId' },
    );
  }
  const token = newToken('knota');
  const updated = await services.db.transaction(async (tx) => {
    const [row] = await tx.update(spaces).set({ agentTokenHash: hashToken(token), updatedAt: new Date() }).where(eq(spaces.id, space.id)).returning();
    // Deleted since it was read: the same answer as if the delete had come first.
    if (!row) throw notFound('That space');
    await recordAudit(tx, viewer, { action: 'createAgentToken', objectType: 'space', objectId: space.id, details: { name: space.name } });
    return row;
  });
  return { token, space: updated, server: services.config.url };
}
