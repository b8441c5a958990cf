import { describe, expect, it } from 'vitest';
import { formatChaos, runChaos } from '../helpers/chaos.js';

/**
 * Random concurrent lifecycle operations on a real server process (the embedded default database)
 * and real Docker, SIGKILLs at random moments and restarts on the same data; then the API and
 * Docker agree. The large run of the same harness, on both databases, is `npm run chaos`.
 */
describe('chaos: concurrent lifecycle operations and SIGKILLs', () => {
  it('loses no acknowledged write, leaves nothing stuck, orphaned or doubled, and never answers with an internal error', async () => {
    const report = await runChaos({ database: 'embedded', spaces: 4, operations: 24, concurrency: 4, kills: 2, settleMs: 60_000 });
    const figures = formatChaos(report);
    expect(report.kills, figures).toBe(2);
    expect(report.answered, figures).toBeGreaterThan(0);
    expect(
      {
        ackedWritesLost: report.ackedWritesLost,
        stuckSpaces: report.stuckSpaces,
        orphanContainers: report.orphanContainers,
        orphanVolumes: report.orphanVolumes,
        duplicateContainers: report.duplicateContainers,
        runningWithoutContainer: report.runningWithoutContainer,
        internalErrors: report.internalErrors,
      },
      figures,
    ).toEqual({ ackedWritesLost: 0, stuckSpaces: 0, orphanContainers: 0, orphanVolumes: 0, duplicateContainers: 0, runningWithoutContainer: 0, internalErrors: 0 });
  }, 170_000);
});
