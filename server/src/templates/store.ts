import { and, count, eq, sql } from 'drizzle-orm';
import { spaces, templates, variables } from '../../../schema/db/index.js';
import { recordAudit } from '../audit.js';
import { isForeignKeyViolation, nameTakenOnRace } from '../auth/unique.js';
import type { Viewer } from '../auth/viewer.js';
import type { CryptoBox } from '../crypto-box.js';
import type { Db } from '../db.js';
import { KnotError, badInput, notFound } from '../errors.js';
import { checkSize } from '../groups/limits.js';
import { checkShell } from '../auth/validation.js';
import { checkGroupIds, setTemplateGroups } from '../groups/store.js';
import type { PubSub } from '../pubsub.js';
import type { Config } from '../config.js';
import { formatIssue } from './errors.js';
import { templateHash } from './hash.js';
import { redactSecrets } from './redact.js';
import { rootKeysIn } from './root-keys.js';
import { validateTemplate } from './validate.js';
import { validatePeriod, validateSchedule, type ScheduleWindowInput } from '../scheduler/schedule.js';
import { replanSpaces } from '../scheduler/replan.js';

export type TemplateRow = typeof templates.$inferSelect;

export interface TemplateDeps {
  db: Db;
  pubsub: PubSub;
  box: CryptoBox;
  config: Pick<Config, 'autoStopWarningSeconds'>;
}

export interface TemplateInput {
  name?: string | null;
  description?: string | null;
  platform?: 'DOCKER' | 'MANUAL' | null;
  job?: string | null;
  volumes?: string | null;
  withTerminal?: boolean | null;
  withCodeServer?: boolean | null;
  withVSCodeTunnel?: boolean | null;
  withSSH?: boolean | null;
  /** The terminal shell its spaces default to. Omitted (undefined): unchanged on update; null: the owner's preferred shell. */
  shell?: string | null;
  active?: boolean | null;
  /** What a running space of it counts against the compute quota; 0 when not given. */
  computeUnits?: number | null;
  /** What each space of it counts against the storage quota; 0 when not given. */
  storageUnits?: number | null;
  autoRestart?: boolean | null;
  schedule?: readonly ScheduleWindowInput[] | null;
  /** Omitted (undefined): unchanged on update; null: none. */
  maxUptimeSeconds?: number | null;
  idleTimeoutSeconds?: number | null;
}

/** The automatic-lifecycle fields and the default shell as given, checked; a key is absent when the input leaves it unchanged. */
function lifecycleFields(input: TemplateInput) {
  return {
    ...(input.shell !== undefined ? { shell: input.shell === null ? null : checkShell(input.shell) } : {}),
    ...(input.schedule != null ? { schedule: validateSchedule(input.schedule) } : {}),
    ...(input.maxUptimeSeconds !== undefined ? { maxUptimeSeconds: validatePeriod('maxUptimeSeconds', 'maximum uptime', input.maxUptimeSeconds) } : {}),
    ...(input.idleTimeoutSeconds !== undefined ? { idleTimeoutSeconds: validatePeriod('idleTimeoutSeconds', 'idle timeout', input.idleTimeoutSeconds) } : {}),
  };
}

/** The saved fields plus the groups it is open to (replaced when given; none: open to everyone). */
export interface TemplateSaveInput extends TemplateInput {
  groupIds?: readonly string[] | null;
}

const MAX_NAME = 64;
const MAX_DESCRIPTION = 2_000;
const MAX_YAML = 64 * 1024;

/** Admin variables with their plain values, for validation and rendering. */
export async function variableValues(deps: Pick<TemplateDeps, 'db' | 'box'>): Promise<Record<string, string>> {
  return (await readVariables(deps)).values;
}

/** The plain values, and which of them are secrets to keep out of every message (redact.ts). */
export async function readVariables(deps: Pick<TemplateDeps, 'db' | 'box'>): Promise<{ values: Record<string, string>; secrets: string[] }> {
  const rows = await deps.db.select().from(variables);
  const values = Object.fromEntries(rows.map((r) => [r.name, r.protected ? deps.box.open(r.value) : r.value]));
  return { values, secrets: rows.filter((r) => r.protected).map((r) => values[r.name]!) };
}

function checkText(field: string, value: string, max: number, label: string) {
  if (value.length > max) throw badInput(field, `The ${label} can be at most ${max} characters.`);
  return value;
}

/**
 * Checked at every save of the whole job, changed or not: a template manager who is not an Admin
 * cannot save (nor re-save, say to rename) a template that holds a root-equivalent key.
 */
function checkRootKeys(viewer: Viewer, job: string) {
  if (viewer.isAdmin) return;
  const [use] = rootKeysIn(job);
  if (!use) return;
  throw new KnotError(
    'FORBIDDEN',
    `job line ${use.line}: only an Admin can save a template with "${use.key}": ${use.why}.`,
    { field: 'job', line: use.line, key: use.key },
  );
}

type PreparedInput = Required<{ [K in keyof Omit<TemplateInput, 'shell' | 'schedule' | 'maxUptimeSeconds' | 'idleTimeoutSeconds'>]: NonNullable<TemplateInput[K]> }>;

async function prepare(deps: TemplateDeps, viewer: Viewer, input: PreparedInput) {
  const name = input.name.trim();
  if (!name) throw badInput('name', 'A template needs a name.');
  checkText('name', name, MAX_NAME, 'template name');
  checkText('description', input.description, MAX_DESCRIPTION, 'description');
  checkText('job', input.job, MAX_YAML, 'job');
  checkText('volumes', input.volumes, MAX_YAML, 'volume definitions');
  checkSize('computeUnits', input.computeUnits, 'compute units');
  checkSize('storageUnits', input.storageUnits, 'storage units');
  if (input.platform === 'DOCKER') checkRootKeys(viewer, input.job);
  const { values: knownVars, secrets } = await readVariables(deps);
  const result = validateTemplate({ job: input.job, volumes: input.volumes, platform: input.platform, knownVars });
  if (!result.ok) {
    // Fields are checked as they will render, so a message may quote a protected value.
    const problems = result.errors.map((issue) => ({ ...issue, message: redactSecrets(issue.message, secrets) }));
    const first = problems[0]!;
    throw new KnotError('BAD_USER_INPUT', problems.map(formatIssue).join('\n'), {
      field: first.document,
      line: first.line,
      problems,
    });
  }
  return { ...input, name, hash: templateHash(input) };
}

async function checkNameFree(db: Db, name: string, exceptId?: string) {
  const [clash] = await db
    .select({ id: templates.id })
    .from(templates)
    .where(sql`lower(${templates.name}) = lower(${name})${exceptId ? sql` and ${templates.id} <> ${exceptId}` : sql``}`);
  if (clash) throw new KnotError('NAME_TAKEN', `A template named "${name}" already exists.`, { field: 'name' });
}

export async function createTemplate(deps: TemplateDeps, viewer: Viewer, input: TemplateSaveInput): Promise<TemplateRow> {
  const groupIds = await checkGroupIds(deps.db, input.groupIds ?? []);
  const lifecycle = lifecycleFields(input);
  const prepared = await prepare(deps, viewer, {
    name: input.name ?? '',
    description: input.description ?? '',
    platform: input.platform ?? 'DOCKER',
    job: input.job ?? '',
    volumes: input.volumes ?? '',
    withTerminal: input.withTerminal ?? true,
    withCodeServer: input.withCodeServer ?? false,
    withVSCodeTunnel: input.withVSCodeTunnel ?? false,
    withSSH: input.withSSH ?? false,
    active: input.active ?? true,
    computeUnits: input.computeUnits ?? 0,
    storageUnits: input.storageUnits ?? 0,
    autoRestart: input.autoRestart ?? false,
  });
  const values = { ...prepared, ...lifecycle };
  await checkNameFree(deps.db, values.name);
  return deps.db
    .transaction(async (tx) => {
      const [row] = await tx.insert(templates).values(values).returning();
      await setTemplateGroups(tx, row!.id, groupIds);
      await recordAudit(tx, viewer, { action: 'createTemplate', objectType: 'template', objectId: row!.id, details: { name: row!.name, groupIds } });
      return row!;
    })
    .catch(nameTakenOnRace('name', `A template named "${values.name}" already exists.`))
    .catch(groupGoneOnRace);
}

export async function updateTemplate(deps: TemplateDeps, viewer: Viewer, id: string, input: TemplateSaveInput): Promise<TemplateRow> {
  const current = await getTemplate(deps.db, id);
  const groupIds = input.groupIds ? await checkGroupIds(deps.db, input.groupIds) : null;
  const lifecycle = lifecycleFields(input);
  const merged = Object.fromEntries(
    Object.entries(current).map(([k, v]) => [k, (input as Record<string, unknown>)[k] ?? v]),
  ) as TemplateRow;
  if (merged.platform !== current.platform) {
    const [inUse] = await deps.db.select({ n: count() }).from(spaces).where(eq(spaces.templateId, id));
    if (inUse!.n > 0) throw new KnotError('TEMPLATE_IN_USE', 'The platform of a template with spaces cannot change.');
  }
  const values = { ...(await prepare(deps, viewer, merged)), ...lifecycle };
  if (values.name.toLowerCase() !== current.name.toLowerCase()) await checkNameFree(deps.db, values.name, id);
  const row = await deps.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(templates)
      .set({ ...values, id: undefined, createdAt: undefined, updatedAt: new Date() })
      .where(eq(templates.id, id))
      .returning();
    if (!updated) throw notFound('That template');
    if (groupIds) await setTemplateGroups(tx, id, groupIds);
    await recordAudit(tx, viewer, {
      action: 'updateTemplate',
      objectType: 'template',
      objectId: id,
      details: { name: values.name, hashChanged: values.hash !== current.hash, ...(groupIds ? { groupIds } : {}) },
    });
    return updated;
  })
    .catch(nameTakenOnRace('name', `A template named "${values.name}" already exists.`))
    .catch(groupGoneOnRace);
  await deps.pubsub.publish('template', { templateId: id });
  if (values.hash !== current.hash) await announceUpdateAvailable(deps, id);
  // A new schedule, uptime or idle timeout applies to the spaces running now.
  if (Object.keys(lifecycle).length) await replanSpaces(deps, eq(spaces.templateId, id));
  return row;
}

/** Running spaces of the template now differ from it: tell their subscribers, so the badge appears live. */
async function announceUpdateAvailable(deps: TemplateDeps, templateId: string) {
  const affected = await deps.db
    .select({ id: spaces.id, ownerId: spaces.ownerId })
    .from(spaces)
    .where(and(eq(spaces.templateId, templateId), eq(spaces.status, 'RUNNING')));
  await Promise.all(affected.map((s) => deps.pubsub.publish('space', { spaceId: s.id, ownerId: s.ownerId, kind: 'TEMPLATE_CHANGED' })));
}

export async function deleteTemplate(deps: TemplateDeps, viewer: Viewer, id: string): Promise<void> {
  const current = await getTemplate(deps.db, id);
  await deps.db.transaction(async (tx) => {
    // Locked before counting: a createSpace that already references the template (its foreign key
    // check holds a share lock) commits first and is counted, instead of failing this delete.
    await tx.select({ id: templates.id }).from(templates).where(eq(templates.id, id)).for('update');
    const [inUse] = await tx.select({ n: count() }).from(spaces).where(eq(spaces.templateId, id));
    if (inUse!.n > 0) {
      throw new KnotError(
        'TEMPLATE_IN_USE',
        `The template "${current.name}" is used by ${inUse!.n} space${inUse!.n === 1 ? '' : 's'}; delete them first.`,
      );
    }
    await tx.delete(templates).where(eq(templates.id, id));
    await recordAudit(tx, viewer, { action: 'deleteTemplate', objectType: 'template', objectId: id, details: { name: current.name } });
  });
  await deps.pubsub.publish('template', { templateId: id });
}

/** A group named in groupIds was deleted between the check and the write. */
function groupGoneOnRace(err: unknown): never {
  if (isForeignKeyViolation(err)) throw new KnotError('NOT_FOUND', 'One of the groups was not found.', { field: 'groupIds' });
  throw err;
}

export async function getTemplate(db: Db, id: string): Promise<TemplateRow> {
  if (!isUuid(id)) throw notFound('That template');
  const [row] = await db.select().from(templates).where(eq(templates.id, id));
  if (!row) throw notFound('That template');
  return row;
}

export function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}
