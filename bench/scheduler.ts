/**
 * The automatic-stop scheduler under load: BENCH_SCHED_SPACES (default 2,000) RUNNING spaces with
 * an idle timeout, inserted straight into a fresh Postgres database, their stops due spread over
 * BENCH_SCHED_FROM_S…BENCH_SCHED_TO_S (default 30–60 s) from the start, so stops (and, before
 * them, warnings BENCH_SCHED_WARNING_S ahead) happen continuously.
 *
 * One replica: the real Scheduler with its real dependencies (Postgres, LISTEN/NOTIFY pubsub,
 * lifecycle transitions, audit, space jobs) in this process. The engine side is a fake runtime
 * (every call resolves at once): this bench measures the scheduler, not Docker.
 *
 * Figures:
 * 1. The process's CPU over the run as a percent of one core (process.cpuUsage deltas), next to
 *    the same process idle with the scheduler off, measured first in the same run. Target: the
 *    scheduler's share (run minus idle) below 5% of a core.
 * 2. The lateness of automatic stops: when the stop transition to STOPPING committed (its audit
 *    entry's time) minus the due time it records. p50 and p99; target p99 under 2 s.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { auditLog, spaces, templates, users } from '../schema/db/index.js';
import { loadConfig } from '../server/src/config.js';
import { loadCryptoBox } from '../server/src/crypto-box.js';
import { openDatabase } from '../server/src/db.js';
import { createLogger } from '../server/src/logger.js';
import { createPubSub } from '../server/src/pubsub.js';
import type { Runtime } from '../server/src/runtime/index.js';
import { planAutoStop, planColumns } from '../server/src/scheduler/plan.js';
import { Scheduler } from '../server/src/scheduler/scheduler.js';
import type { SpaceDeps } from '../server/src/spaces/deps.js';
import { SpaceJobs } from '../server/src/spaces/jobs.js';
import { SCHEDULER } from '../server/src/spaces/lifecycle.js';
import { createTestDatabase } from '../test/helpers/database.js';
import type { BenchResult } from './types.js';

const SPACES = Number(process.env.BENCH_SCHED_SPACES ?? 2_000);
const FROM_S = Number(process.env.BENCH_SCHED_FROM_S ?? 30);
const TO_S = Number(process.env.BENCH_SCHED_TO_S ?? 60);
const WARNING_S = Number(process.env.BENCH_SCHED_WARNING_S ?? 10);
const IDLE_MS = Number(process.env.BENCH_SCHED_IDLE_MS ?? 10_000);
const IDLE_TIMEOUT_S = 120;
/** After the last due time, how long the stragglers get before the bench gives up. */
const GRACE_MS = 30_000;

/** Every engine call succeeds at once: stops cost the scheduler only its own work. */
const fakeRuntime = new Proxy({} as Runtime, {
  get: (_target, prop) => (prop === 'then' ? undefined : prop === 'close' ? () => {} : async () => undefined),
});

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function insertSpaces(deps: SpaceDeps, start: number): Promise<void> {
  const [owner] = await deps.db
    .insert(users)
    .values({ username: 'bench', email: 'bench@example.com', passwordHash: 'x', servicePassword: 'x' })
    .returning({ id: users.id });
  const [template] = await deps.db
    .insert(templates)
    .values({ name: 'idle', platform: 'DOCKER', hash: 'bench', idleTimeoutSeconds: IDLE_TIMEOUT_S })
    .returning({ id: templates.id });
  const template4Plan = { platform: 'DOCKER' as const, schedule: [], maxUptimeSeconds: null, idleTimeoutSeconds: IDLE_TIMEOUT_S };
  const rows = Array.from({ length: SPACES }, (_, i) => {
    const dueAt = start + (FROM_S + ((TO_S - FROM_S) * i) / Math.max(1, SPACES - 1)) * 1000;
    const lastActivityAt = new Date(dueAt - IDLE_TIMEOUT_S * 1000);
    // What a start writes: the plan and the scheduler's first look (the warning's time).
    const stop = planAutoStop({ uptimeSince: lastActivityAt, lastActivityAt }, template4Plan, 'UTC', new Date(start));
    return {
      name: `s${i}`,
      ownerId: owner!.id,
      templateId: template!.id,
      shell: 'bash',
      status: 'RUNNING' as const,
      uptimeSince: lastActivityAt,
      lastActivityAt,
      ...planColumns(stop, new Date(start), WARNING_S),
    };
  });
  for (let i = 0; i < rows.length; i += 500) await deps.db.insert(spaces).values(rows.slice(i, i + 500));
}

export async function benchScheduler(): Promise<BenchResult[]> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-bench-sched-'));
  const config = loadConfig({}, { databaseUrl: database.url, dataDir, logLevel: 'silent', autoStopWarningSeconds: WARNING_S });
  const log = createLogger('silent');
  const opened = await openDatabase(config, log);
  const pubsub = await createPubSub(opened, log);
  const deps: SpaceDeps = { db: opened.db, pubsub, log, config, runtime: fakeRuntime, box: loadCryptoBox(dataDir, undefined), instanceId: 'bench', replicas: { id: randomUUID(), live: async () => new Set() } };
  const jobs = new SpaceJobs(deps);
  const scheduler = new Scheduler(deps, jobs);
  try {
    // Idle baseline: the same process, database pool and LISTEN connection open, the scheduler off.
    let cpu = cpuMicros();
    let t = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idlePercent = ((cpuMicros() - cpu) / ((performance.now() - t) * 1000)) * 100;

    const start = Date.now();
    await insertSpaces(deps, start);
    const lastDue = start + TO_S * 1000;

    cpu = cpuMicros();
    t = performance.now();
    scheduler.start();
    // Wait for the condition (every space stopped), checked once a second, not a fixed sleep.
    let stopped = 0;
    while (Date.now() < lastDue + GRACE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stopped = (await deps.db.$count(spaces, eq(spaces.status, 'STOPPED'))) as number;
      if (stopped === SPACES) break;
    }
    const runPercent = ((cpuMicros() - cpu) / ((performance.now() - t) * 1000)) * 100;
    await scheduler.stop();
    await jobs.idle();
    if (stopped !== SPACES) throw new Error(`only ${stopped} of ${SPACES} spaces stopped within ${GRACE_MS / 1000} s of the last due time`);

    const audits = await deps.db
      .select({ at: auditLog.at, details: auditLog.details })
      .from(auditLog)
      .where(and(eq(auditLog.action, 'stopSpace'), eq(auditLog.actorName, SCHEDULER.system)));
    if (audits.length !== SPACES) throw new Error(`expected ${SPACES} automatic stops in the audit log, found ${audits.length}`);
    const lateness = audits.map((a) => (a.at.getTime() - new Date(String(a.details.dueAt)).getTime()) / 1000).sort((x, y) => x - y);
    const warnings = await deps.db.$count(auditLog, eq(auditLog.action, 'warnAutoStop'));
    console.log(`  ${SPACES} spaces, due over ${FROM_S}–${TO_S} s, ${warnings} warnings, all stopped; CPU run ${runPercent.toFixed(2)}% vs idle ${idlePercent.toFixed(2)}% of a core`);

    return [
      {
        name: `scheduler CPU, ${SPACES} idle-timeout spaces (target: run minus idle < 5% of a core)`,
        value: runPercent,
        unit: '% of a core',
        baseline: { name: 'same replica idle, scheduler off', value: idlePercent },
        better: 'lower',
      },
      { name: 'scheduler CPU above idle (target < 5)', value: runPercent - idlePercent, unit: '% of a core' },
      { name: 'automatic stop lateness p50', value: percentile(lateness, 50), unit: 's' },
      { name: 'automatic stop lateness p99 (target < 2 s)', value: percentile(lateness, 99), unit: 's' },
    ];
  } finally {
    await scheduler.stop();
    await pubsub.close();
    await opened.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
