import { eq } from 'drizzle-orm';
import { templates, users } from '../../../schema/db/index.js';
import { hashToken, newToken } from '../auth/secrets.js';
import { RuntimeError, type ContainerSpec } from '../runtime/index.js';
import { renderJob, type JobSpec, type TemplateVars } from '../templates/index.js';
import { variableValues } from '../templates/store.js';
import { LABELS, containerName, type SpaceDeps } from './deps.js';
import { DEFAULT_PIDS_LIMIT, spacesNetwork } from './isolation.js';
import { markDied } from './reconcile.js';
import { findSpace, publishSpace, transition, type SpaceRow } from './store.js';

/**
 * What the mutation that started a job hands it: the row it just wrote (no need to read it back)
 * and the promise of its own STARTING/STOPPING event, which the job's events must follow. The job
 * starts while that event is still being sent, so the engine work is not delayed by it.
 */
export interface JobHandoff {
  row?: SpaceRow;
  announced?: Promise<unknown>;
  /** What the start renders from, when the mutation already read it (alongside its checks). */
  inputs?: StartInputs;
}

export interface StartInputs {
  owner: typeof users.$inferSelect;
  template: typeof templates.$inferSelect;
  varValues: Record<string, string>;
}

async function readStartInputs(deps: SpaceDeps, space: SpaceRow): Promise<StartInputs> {
  const [[owner], [template], varValues] = await Promise.all([
    deps.db.select().from(users).where(eq(users.id, space.ownerId)),
    deps.db.select().from(templates).where(eq(templates.id, space.templateId)),
    variableValues(deps),
  ]);
  if (!owner || !template) throw new Error('its owner or template no longer exists');
  return { owner, template, varValues };
}

/** Pull progress is drawn as a bar: a write per whole percent, at most five a second, is plenty. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * Runs a space that is STARTING: renders its template with today's values (so a new service
 * password is used), pulls the image if needed, creates its volumes, runs the container and
 * moves it to RUNNING. Any failure ends in FAILED with the reason and no container left behind.
 */
export async function runStart(deps: SpaceDeps, spaceId: string, handoff: JobHandoff = {}): Promise<void> {
  const space = handoff.row ?? (await findSpace(deps.db, spaceId));
  if (!space || space.status !== 'STARTING') return;
  const announced = () => handoff.announced?.catch(() => {});
  const name = containerName(space.id);
  let running: SpaceRow | null;
  let containerId: string;
  try {
    // Needs nothing from the template, so it is asked while the database answers (if it must).
    const volumesNow = deps.runtime.listVolumes({ [LABELS.space]: space.id });
    volumesNow.catch(() => {}); // awaited below
    const network = spacesNetwork(deps);
    network.catch(() => {}); // awaited below, unless the job names its own
    const { owner, template, varValues } = handoff.inputs ?? (await readStartInputs(deps, space));
    const vars: TemplateVars = {
      space: { id: space.id, name: space.name },
      template: { id: template.id, name: template.name },
      user: {
        id: owner.id,
        username: owner.username,
        email: owner.email,
        timezone: owner.timezone,
        service_password: owner.servicePassword,
      },
      server: { url: deps.config.url, agent_endpoint: deps.config.agentUrl, wildcard_domain: deps.config.wildcardDomain ?? '' },
      var: varValues,
    };
    const rendered = renderJob({ job: template.job, volumes: template.volumes }, vars);
    const [imagePresent, existingVolumes] = await Promise.all([
      deps.runtime.hasImage(rendered.job.image),
      volumesNow,
    ]);
    // Pulled before any volume is made, so an image that cannot be pulled leaves nothing behind.
    if (!imagePresent) {
      await announced();
      await pullImage(deps, space, rendered.job.image);
    }
    await syncVolumes(deps, space.id, volumesOf(rendered.job, rendered.volumes), existingVolumes);

    const agentToken = newToken('knota');
    const labels = {
      [LABELS.managed]: 'true',
      [LABELS.space]: space.id,
      [LABELS.owner]: space.ownerId,
      [LABELS.template]: template.id,
      [LABELS.templateHash]: template.hash,
    };
    containerId = await runReplacingLeftover(
      deps,
      containerSpec(name, rendered.job, rendered.job.network ?? (await network), labels, {
        KNOT_SERVER: deps.config.agentUrl,
        KNOT_SPACE_ID: space.id,
        KNOT_SPACE_NAME: space.name,
        KNOT_AGENT_TOKEN: agentToken,
        KNOT_USER: owner.username,
        KNOT_SHELL: space.shell,
      }),
    );
    running = await transition(deps.db, space.id, ['STARTING'], {
      status: 'RUNNING',
      containerId,
      startedTemplateHash: template.hash,
      agentTokenHash: hashToken(agentToken),
      pullProgress: null,
      error: null,
    });
  } catch (err) {
    await announced();
    await failStart(deps, space, err);
    return;
  }
  if (!running) {
    // Someone else moved the space meanwhile (e.g. a reconcile): this container is not wanted.
    await deps.runtime.stopAndRemoveContainer(containerId, { timeoutSeconds: 0 });
    return;
  }
  await announced();
  await publishSpace(deps.pubsub, running, 'STATUS');
  // A container that died before RUNNING was recorded had its 'die' event ignored (the space was
  // still STARTING, Knot's own doing); look once more so it cannot stay RUNNING with nothing behind it.
  const after = await deps.runtime.inspectContainer(containerId);
  if (!after?.running) await markDied(deps, space.id, after?.exitCode ?? null, !!after?.oomKilled, !after);
}

async function failStart(deps: SpaceDeps, space: SpaceRow, err: unknown) {
  const reason = err instanceof Error ? err.message : String(err);
  deps.log.warn({ spaceId: space.id, err }, 'space failed to start');
  try {
    await deps.runtime.stopAndRemoveContainer(containerName(space.id), { timeoutSeconds: 0 });
  } catch (cleanupErr) {
    deps.log.error({ spaceId: space.id, err: cleanupErr }, 'could not remove the container of a failed start; boot reconciliation will');
  }
  const failed = await transition(deps.db, space.id, ['STARTING'], {
    status: 'FAILED',
    error: `The space could not start: ${reason}`,
    pullProgress: null,
    containerId: null,
    agentTokenHash: null,
  });
  if (failed) await publishSpace(deps.pubsub, failed, 'STATUS');
}

/**
 * A container left by a crash holds the space's name; it belongs to this space, so it is removed
 * and the run tried once more. Checked only on a clash, so a normal start pays nothing for it.
 */
async function runReplacingLeftover(deps: SpaceDeps, spec: ContainerSpec): Promise<string> {
  try {
    return await deps.runtime.runContainer(spec);
  } catch (err) {
    if (!(err instanceof RuntimeError && err.reason === 'name-conflict')) throw err;
    deps.log.info({ container: spec.name }, 'removing a leftover container before starting the space');
    await deps.runtime.stopAndRemoveContainer(spec.name, { timeoutSeconds: 0 });
    return deps.runtime.runContainer(spec);
  }
}

async function pullImage(deps: SpaceDeps, space: SpaceRow, image: string) {
  let lastWrite = 0;
  let lastPercent = -1;
  const report = async (percent: number) => {
    const rounded = Math.floor(percent);
    if (rounded === lastPercent || (Date.now() - lastWrite < PROGRESS_INTERVAL_MS && rounded < 100)) return;
    lastPercent = rounded;
    lastWrite = Date.now();
    const row = await transition(deps.db, space.id, ['STARTING'], { pullProgress: rounded });
    if (row) await publishSpace(deps.pubsub, row, 'PULL_PROGRESS');
  };
  let pending = Promise.resolve();
  await report(0);
  await deps.runtime.pullImage(image, (percent) => {
    pending = pending.then(() => report(percent)).catch(() => {});
  });
  await pending;
  await report(100);
}

/** Named volumes of the job and of the volume definitions, each once. */
function volumesOf(job: JobSpec, defined: string[]): string[] {
  const named = job.mounts.filter((m) => m.type === 'volume').map((m) => m.source);
  return [...new Set([...defined, ...named])];
}

/** Creates the template's volumes and deletes the space's volumes the template no longer has. */
async function syncVolumes(deps: SpaceDeps, spaceId: string, wanted: string[], existing: string[]) {
  const labels = { [LABELS.managed]: 'true', [LABELS.space]: spaceId };
  await Promise.all([
    ...existing.filter((v) => !wanted.includes(v)).map((v) => deps.runtime.removeVolume(v)),
    ...wanted.filter((v) => !existing.includes(v)).map((v) => deps.runtime.createVolume(v, labels)),
  ]);
}

function containerSpec(name: string, job: JobSpec, networkMode: string, labels: Record<string, string>, agentEnv: Record<string, string>): ContainerSpec {
  return {
    name,
    image: job.image,
    cmd: job.command,
    env: { ...job.environment, ...agentEnv },
    labels,
    mounts: job.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, readOnly: m.readOnly })),
    ports: job.ports.map((p) => ({
      containerPort: p.containerPort,
      hostPort: p.hostPort,
      hostIp: p.hostIp,
      protocol: p.protocol === 'udp' ? 'udp' : 'tcp',
    })),
    capAdd: job.capAdd,
    capDrop: job.capDrop,
    privileged: job.privileged,
    networkMode,
    hostname: job.hostname,
    devices: job.devices.map((d) => ({ hostPath: d.pathOnHost, containerPath: d.pathInContainer, permissions: d.permissions })),
    dns: job.dns,
    memoryBytes: job.memoryBytes,
    nanoCpus: job.nanoCpus,
    extraHosts: ['host.docker.internal:host-gateway'],
    pidsLimit: job.pidsLimit ?? DEFAULT_PIDS_LIMIT,
  };
}
