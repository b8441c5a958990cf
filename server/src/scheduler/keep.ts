import { eq } from 'drizzle-orm';
import { spaces } from '../../../schema/db/index.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit } from '../audit.js';
import { KnotError } from '../errors.js';
import { getSpaceFor } from '../spaces/access.js';
import { findSpace, type SpaceRow } from '../spaces/store.js';
import { readPlanRows, writePlan, type PlanDeps } from './replan.js';

/**
 * Keep running: the idle and uptime periods start afresh now, so an idle or uptime stop moves one
 * whole period later; the schedule's window end stays where it is (the plan never passes it).
 */
export async function keepSpaceRunning(deps: PlanDeps, viewer: Viewer, id: string): Promise<SpaceRow> {
  const space = await getSpaceFor(deps, viewer, id);
  for (let attempt = 0; attempt < 3; attempt++) {
    const [row] = await readPlanRows(deps.db, eq(spaces.id, space.id));
    if (!row) {
      const now = await findSpace(deps.db, space.id);
      throw new KnotError('SPACE_NOT_RUNNING', `"${space.name}" is ${(now?.status ?? 'gone').toLowerCase()}; only a running space can be kept running.`, {
        status: now?.status ?? null,
      });
    }
    const now = new Date();
    if (await writePlan(deps, row, now, { uptimeSince: now, lastActivityAt: now })) {
      await recordAudit(deps.db, viewer, { action: 'keepSpaceRunning', objectType: 'space', objectId: space.id });
      return (await findSpace(deps.db, space.id))!;
    }
  }
  throw new KnotError('SPACE_NOT_RUNNING', `"${space.name}" changed while it was being kept running; try again.`);
}
