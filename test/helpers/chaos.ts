import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDockerRuntime } from '../../server/src/runtime/index.js';
import { LABELS } from '../../server/src/spaces/deps.js';
import { createTestDatabase } from './database.js';
import { BUSYBOX_IMAGE } from './env.js';
import { GraphQLTestClient } from './graphql.js';
import { startKnotProcess, type KnotProcess } from './knot-process.js';

/**
 * Random concurrent lifecycle operations against a real Knot server process on real Docker, with
 * SIGKILLs at random moments and restarts on the same data; then the API and Docker must agree.
 * Shared by test/platform/chaos.test.ts (small) and `npm run chaos` (1,000 operations, 20 kills).
 */
export interface ChaosOptions {
  /** 'embedded': no DATABASE_URL (the default install); 'postgres': a fresh database on the provisioned server. */
  database: 'embedded' | 'postgres';
  spaces: number;
  operations: number;
  concurrency: number;
  kills: number;
  /** How long the system may take to settle after the last operation (the GC's grace included). */
  settleMs?: number;
  log?: (line: string) => void;
  random?: () => number;
}

export interface ChaosReport {
  database: string;
  operations: number;
  kills: number;
  answered: number;
  refused: Record<string, number>;
  unanswered: number;
  /** The figures that must all be 0. */
  ackedWritesLost: number;
  stuckSpaces: number;
  orphanContainers: number;
  orphanVolumes: number;
  duplicateContainers: number;
  runningWithoutContainer: number;
  internalErrors: number;
  details: string[];
  seconds: number;
}

const TRANSITIONAL = new Set(['STARTING', 'STOPPING', 'DELETING']);
const SPACE = `id name status`;
type Space = { id: string; name: string; status: string };
type Op = 'create' | 'start' | 'stop' | 'restart' | 'delete';
const OPS: Op[] = ['create', 'start', 'start', 'stop', 'stop', 'restart', 'delete'];

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => {});
  const random = options.random ?? Math.random;
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  const started = Date.now();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'knot-chaos-'));
  const database = options.database === 'postgres' ? await createTestDatabase() : undefined;
  const env = {
    KNOT_DATA_DIR: dataDir,
    DATABASE_URL: database?.url ?? '',
    LOG_LEVEL: 'info', // startKnotProcess reads the "knot is listening" line
    // Short, so the check can wait for the collector instead of for a minute.
    KNOT_GC_GRACE_SECONDS: '5',
    KNOT_GC_INTERVAL_SECONDS: '2',
  };
  const runtime = createDockerRuntime();
  let knot: KnotProcess | undefined;
  let instance: string | undefined;
  const report: ChaosReport = {
    database: options.database,
    operations: 0,
    kills: 0,
    answered: 0,
    refused: {},
    unanswered: 0,
    ackedWritesLost: 0,
    stuckSpaces: 0,
    orphanContainers: 0,
    orphanVolumes: 0,
    duplicateContainers: 0,
    runningWithoutContainer: 0,
    internalErrors: 0,
    details: [],
    seconds: 0,
  };
  /** Every space whose createSpace was answered; `deleted` once a deleteSpace was answered (or may have been). */
  const acked = new Map<string, { name: string; deleted: 'no' | 'yes' | 'maybe' }>();
  const knownIds = () => [...acked].filter(([, s]) => s.deleted === 'no').map(([id]) => id);

  try {
    knot = await startKnotProcess(env);
    const anonymous = new GraphQLTestClient(knot.url);
    await anonymous.data(`mutation { setup(input: { username: "admin", email: "admin@example.com", password: "correct-horse" }) { id } }`);
    const token = await (await anonymous.login('admin', 'correct-horse')).createToken('chaos');
    let client = new GraphQLTestClient(knot.url, token);
    const templateId = (
      await client.data<{ createTemplate: { id: string } }>(`mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`, {
        input: { name: 'chaos', platform: 'DOCKER', job: `image: ${BUSYBOX_IMAGE}\ncommand: [sleep, '3600']\nvolumes:\n  - home_\${{ .space.id }}:/home/data\n` },
      })
    ).createTemplate.id;

    let seq = 0;
    const create = async () => {
      const name = `chaos-${seq++}`;
      const res = await call(`mutation($input: CreateSpaceInput!) { createSpace(input: $input) { ${SPACE} } }`, { input: { templateId, name } });
      if (res?.createSpace) acked.set((res.createSpace as Space).id, { name, deleted: 'no' });
    };

    /** One GraphQL call; sorts its outcome. Returns the data when answered without error. */
    const call = async (query: string, variables: Record<string, unknown>, onLost?: () => void): Promise<Record<string, unknown> | undefined> => {
      report.operations++;
      try {
        const res = await client.request(query, variables);
        if (res.errors?.length) {
          const code = String(res.errors[0]!.extensions?.code ?? 'NONE');
          if (code === 'INTERNAL_SERVER_ERROR' || res.status >= 500) {
            report.internalErrors++;
            report.details.push(`internal error: ${JSON.stringify(res.errors[0])} for ${query.slice(0, 40)}`);
          } else report.refused[code] = (report.refused[code] ?? 0) + 1;
          return undefined;
        }
        report.answered++;
        return res.data ?? undefined;
      } catch {
        // The server was killed under the request: no answer, so nothing was acknowledged.
        report.unanswered++;
        onLost?.();
        return undefined;
      }
    };

    for (let i = 0; i < options.spaces; i++) await create();
    log(`created ${acked.size} spaces`);

    // Kill points: random operation indexes; at each, a SIGKILL while operations are in flight.
    const killAt = new Set<number>();
    while (killAt.size < Math.min(options.kills, options.operations)) killAt.add(1 + Math.floor(random() * (options.operations - 1)));
    let issued = 0;
    /** Set while the server is down: new operations wait for it, those already sent meet the kill. */
    let down: Promise<void> | undefined;
    const kills: Promise<void>[] = [];
    const killAndRestart = async () => {
      await new Promise((r) => setTimeout(r, random() * 400)); // a random moment, operations in flight
      while (down) await down;
      down = (async () => {
        await knot!.kill();
        report.kills++;
        knot = await startKnotProcess(env);
        client = new GraphQLTestClient(knot.url, token);
        log(`kill ${report.kills}/${options.kills} after ${issued} operations; restarted`);
      })().finally(() => (down = undefined));
      await down;
    };
    const worker = async () => {
      while (issued < options.operations) {
        const n = ++issued;
        if (killAt.has(n)) kills.push(killAndRestart());
        while (down) await down;
        await operation();
      }
    };
    const operation = async () => {
      const ids = knownIds();
      const op = ids.length < options.spaces / 2 ? 'create' : pick(OPS);
      if (op === 'create') return create();
      const id = pick(ids);
      if (op === 'delete') {
        const entry = acked.get(id)!;
        const res = await call(`mutation($id: ID!) { deleteSpace(id: $id) }`, { id }, () => {
          if (entry.deleted === 'no') entry.deleted = 'maybe';
        });
        if (res) entry.deleted = 'yes';
        return;
      }
      await call(`mutation($id: ID!) { ${op}Space(id: $id) { ${SPACE} } }`, { id });
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    await Promise.all(kills);
    log(`${report.operations} calls: ${report.answered} answered, ${report.unanswered} unanswered (kills), refused ${JSON.stringify(report.refused)}`);

    // Settle: no transitional status, and Docker agrees with the API (the collector may need a sweep or two).
    const deadline = Date.now() + (options.settleMs ?? 120_000);
    for (;;) {
      const problems = await check();
      if (problems.length === 0 || Date.now() > deadline) {
        report.details.push(...problems);
        break;
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
    return report;

    async function check(): Promise<string[]> {
      const spaces = (await client.data<{ spaces: Space[] }>(`{ spaces { ${SPACE} } }`)).spaces;
      const byId = new Map(spaces.map((s) => [s.id, s]));
      const containers = await runtime.listContainers({ [LABELS.managed]: 'true' });
      instance ??= containers.find((c) => acked.has(c.labels[LABELS.space] ?? ''))?.labels[LABELS.instance];
      const ours = containers.filter((c) => (instance && c.labels[LABELS.instance] === instance) || acked.has(c.labels[LABELS.space] ?? ''));
      const volumes = (await runtime.listVolumeSummaries({ [LABELS.managed]: 'true' })).filter(
        (v) => (instance && v.labels[LABELS.instance] === instance) || acked.has(v.labels[LABELS.space] ?? ''),
      );
      const problems: string[] = [];
      const lost = [...acked].filter(([id, s]) => s.deleted === 'no' && !byId.has(id));
      const stuck = spaces.filter((s) => TRANSITIONAL.has(s.status));
      const orphanContainers = ours.filter((c) => !byId.has(c.labels[LABELS.space] ?? ''));
      const orphanVolumes = volumes.filter((v) => v.labels[LABELS.space] && !byId.has(v.labels[LABELS.space]!));
      const perSpace = new Map<string, number>();
      for (const c of ours) perSpace.set(c.labels[LABELS.space] ?? '', (perSpace.get(c.labels[LABELS.space] ?? '') ?? 0) + 1);
      const duplicates = [...perSpace].filter(([id, n]) => byId.has(id) && n > 1);
      const runningWithout = spaces.filter((s) => s.status === 'RUNNING' && ours.filter((c) => c.running && c.labels[LABELS.space] === s.id).length !== 1);
      report.ackedWritesLost = lost.length;
      report.stuckSpaces = stuck.length;
      report.orphanContainers = orphanContainers.length;
      report.orphanVolumes = orphanVolumes.length;
      report.duplicateContainers = duplicates.length;
      report.runningWithoutContainer = runningWithout.length;
      report.seconds = Math.round((Date.now() - started) / 1000);
      for (const [id, s] of lost) problems.push(`lost: ${s.name} (${id}) was created and answered, never deleted, and is gone`);
      for (const s of stuck) problems.push(`stuck: ${s.name} is ${s.status}`);
      for (const c of orphanContainers) problems.push(`orphan container ${c.name} (${c.state}) of space ${c.labels[LABELS.space]}`);
      for (const v of orphanVolumes) problems.push(`orphan volume ${v.name} of space ${v.labels[LABELS.space]}`);
      for (const [id, n] of duplicates) problems.push(`duplicate: ${n} containers for ${byId.get(id)!.name}`);
      for (const s of runningWithout) problems.push(`RUNNING without exactly one running container: ${s.name}`);
      return problems;
    }
  } finally {
    report.seconds = Math.round((Date.now() - started) / 1000);
    await knot?.kill().catch(() => {});
    // Everything this run made, whatever state it was left in.
    const mine = (labels: Record<string, string>) => (instance && labels[LABELS.instance] === instance) || acked.has(labels[LABELS.space] ?? '');
    for (const c of await runtime.listContainers({ [LABELS.managed]: 'true' })) if (mine(c.labels)) await runtime.stopAndRemoveContainer(c.id, { timeoutSeconds: 0 }).catch(() => {});
    for (const v of await runtime.listVolumeSummaries({ [LABELS.managed]: 'true' })) if (mine(v.labels)) await runtime.removeVolume(v.name).catch(() => {});
    runtime.close();
    await database?.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The figures that must be 0, as printed lines. */
export function formatChaos(r: ChaosReport): string {
  return [
    `chaos on ${r.database}: ${r.operations} calls (${r.answered} answered, ${r.unanswered} unanswered under kills, refused ${JSON.stringify(r.refused)}), ${r.kills} kills, ${r.seconds} s`,
    `  acknowledged writes lost   ${r.ackedWritesLost}`,
    `  stuck spaces               ${r.stuckSpaces}`,
    `  orphan containers          ${r.orphanContainers}`,
    `  orphan volumes             ${r.orphanVolumes}`,
    `  duplicate containers       ${r.duplicateContainers}`,
    `  RUNNING without container  ${r.runningWithoutContainer}`,
    `  internal errors            ${r.internalErrors}`,
    ...r.details.slice(0, 20).map((d) => `  - ${d}`),
  ].join('\n');
}
