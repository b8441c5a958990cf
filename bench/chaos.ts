// `npm run chaos` (not part of npm test): random concurrent lifecycle operations with SIGKILLs of
// the server, on the embedded default database and on PostgreSQL; then the API and Docker must
// agree. Prints the figures that must all be 0, and exits 1 if one is not.
// CHAOS_OPERATIONS (1000), CHAOS_CONCURRENCY (10), CHAOS_SPACES (24), CHAOS_KILLS (20),
// CHAOS_DATABASES (embedded,postgres).
import { loadavg } from 'node:os';
import { formatChaos, runChaos, type ChaosOptions } from '../test/helpers/chaos.js';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const databases = (process.env.CHAOS_DATABASES ?? 'embedded,postgres').split(',') as ChaosOptions['database'][];
const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');

let failed = false;
for (const database of databases) {
  console.log(`\n== ${database} (load average ${load()})`);
  const report = await runChaos({
    database,
    operations: num('CHAOS_OPERATIONS', 1000),
    concurrency: num('CHAOS_CONCURRENCY', 10),
    spaces: num('CHAOS_SPACES', 24),
    kills: num('CHAOS_KILLS', 20),
    settleMs: num('CHAOS_SETTLE_MS', 180_000),
    log: (line) => console.log(`  ${new Date().toISOString().slice(11, 19)} ${line}`),
  });
  console.log(formatChaos(report));
  console.log(`  load average at the end: ${load()}`);
  const zero = [report.ackedWritesLost, report.stuckSpaces, report.orphanContainers, report.orphanVolumes, report.duplicateContainers, report.runningWithoutContainer, report.internalErrors];
  if (zero.some((n) => n !== 0)) failed = true;
}
process.exit(failed ? 1 : 0);
