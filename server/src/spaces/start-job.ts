import { eq } from 'drizzle-orm';
import { templates, users } from '../../../schema/db/index.js';
import { hashToken, newToken } from '../auth/secrets.js';
import { HEALTHCHECK_ENV } from '../../../protocol/health.js';
import { RuntimeError, type ContainerSpec } from '../runtime/index.js';
import { renderJob, type JobSpec, type TemplateVars } from '../templates/index.js';
import { redactSecrets } from '../templates/redact.js';
import { readVariables } from '../templates/store.js';
import { AgentNotInjected, prepareAgent, wantsInjectedAgent, type InjectedAgent } from './agent-injection.js';
import { LABELS, containerName, type SpaceDeps } from './deps.js';
import { DEFAULT_PIDS_LIMIT, spacesNetwork } from './isolation.js';
import { publishSpace, updateWhile, type SpaceRow } from './store.js';
import { syncVolumes } from './volumes.js';

/** What a start renders from; the mutation reads it alongside its checks, a restart reads it here. */
export interface StartInputs {
  owner: typeof users.$inferSelect;
  template: typeof templates.$inferSelect;
  varValues: Record<string, string>;
  /** The protected variables' values: kept out of the error a failed start reports (redact.ts). */
  secrets: string[];
}

async function readStartInputs(deps: SpaceDeps, space: SpaceRow): Promise<StartInputs> {
  const [[owner], [template], vars] = await Promise.all([
    deps.db.select().from(users).where(eq(users.id, space.ownerId)),
    deps.db.select().from(templates).where(eq(templates.id, space.templateId)),
    readVariables(deps),
  ]);
  if (!owner || !template) throw new Error('its owner or template no longer exists');
  return { owner, template, varValues: vars.values, secrets: vars.secrets };
}

/** Pull progress is drawn as a bar: a write per whole percent, at most five a second, is plenty. */
const PROGRESS_INTERVAL_MS = 200;

/** What the RUNNING transition records about the container that was started. */
export interface Launched {
  containerId: string;
  /** The swarm node it runs on (its volumes are there); null on one engine. */
  node: string | null;
  templateHash: string;
  agentTokenHash: string;
  /** Starts the agent Knot brought into the space; run once RUNNING (and its token) is recorded. */
  startAgent?: () => Promise<void>;
  /** Why the space runs without Knot's agent, to show on it; null when nothing is wrong. */
  notice: string | null;
  /** What the automatic stop is planned from (scheduler/plan.ts). */
  template: typeof templates.$inferSelect;
  ownerTimezone: string;
}

/**
 * The engine's half of a start (the state changes are lifecycle.ts's): renders the template with
 * today's values (so a new service password is used), pulls the image if needed, creates the
 * volumes and runs the container, named after the space id so a crash cannot leave one that the
 * space does not find again. `announced` is the STARTING event, which pull progress must follow.
 */
export async function launchSpace(deps: SpaceDeps, space: SpaceRow, announced: Promise<unknown>, inputs?: StartInputs): Promise<Launched> {
  const pending = inputs ? Promise.resolve(inputs) : readStartInputs(deps, space);
  pending.catch(() => {}); // awaited in launch
  try {
    return await launch(deps, space, announced, pending);
  } catch (err) {
    // The engine's errors quote what it was given (the image, a mount, the environment), which
    // the template rendered from secrets; the space's error is read by MANAGE_SPACES and logged.
    const used = await pending.catch(() => null);
    if (!used) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const redacted = redactSecrets(message, [...used.secrets, used.owner.servicePassword]);
    throw redacted === message ? err : new Error(redacted);
  }
}

async function launch(deps: SpaceDeps, space: SpaceRow, announced: Promise<unknown>, inputs: Promise<StartInputs>): Promise<Launched> {
  // Needs nothing from the template, so it is asked while the database answers (if it must). A
  // space that ran before has its volumes on its node; a first start has none anywhere.
  const volumesNow = deps.runtime.onNode(space.node).listVolumes({ [LABELS.space]: space.id });
  volumesNow.catch(() => {}); // awaited below
  const network = spacesNetwork(deps);
  network.catch(() => {}); // awaited below, unless the job names its own
  const { owner, template, varValues } = await inputs;
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
  // One engine: null, and `deps` stays as it is. A swarm: the space's node, where the image, the
  // volumes and the container go from here on.
  // A space that ran before is pinned to its node, so its image is looked for there while the
  // placement checks that node is up (on one engine node is null and this is the usual lookup).
  const imageOnPinned = space.node ? deps.runtime.onNode(space.node).hasImage(rendered.job.image) : null;
  imageOnPinned?.catch(() => {}); // awaited below when the placement agrees
  const node = await deps.runtime.placeSpace({ pinned: space.node, constraints: rendered.job.constraints });
  deps = { ...deps, runtime: deps.runtime.onNode(node) };
  const [imagePresent, existingVolumes] = await Promise.all([
    imageOnPinned && node === space.node ? imageOnPinned : deps.runtime.hasImage(rendered.job.image),
    volumesNow,
  ]);
  // Pulled before any volume is made, so an image that cannot be pulled leaves nothing behind.
  if (!imagePresent) {
    await announced.catch(() => {});
    await pullImage(deps, space, rendered.job.image);
  }
  const [agent] = await Promise.all([
    injectedAgent(deps, rendered.job),
    syncVolumes(deps, space.id, volumesOf(rendered.job, rendered.volumes), existingVolumes),
  ]);

  const agentToken = newToken('knota');
  const labels = {
    [LABELS.managed]: 'true',
    [LABELS.instance]: deps.instanceId,
    [LABELS.space]: space.id,
    [LABELS.owner]: space.ownerId,
    [LABELS.template]: template.id,
    [LABELS.templateHash]: template.hash,
    // Docker's health events carry the labels: the template's own check overrides the image's HEALTHCHECK.
    ...(rendered.job.healthcheck ? { [LABELS.healthcheck]: 'agent' } : {}),
    // Its agent is Knot's to bring back if it dies; a template's own agent is the template's business.
    ...(agent.injected ? { [LABELS.agent]: 'injected' } : {}),
  };
  const containerId = await runReplacingLeftover(
    deps,
    containerSpec(containerName(space.id), rendered.job, rendered.job.network ?? (await network), labels, agent.injected, {
      KNOT_SERVER: deps.config.agentUrl,
      KNOT_SPACE_ID: space.id,
      KNOT_SPACE_NAME: space.name,
      KNOT_AGENT_TOKEN: agentToken,
      KNOT_USER: owner.username,
      KNOT_SHELL: space.shell,
      ...(rendered.job.healthcheck ? { [HEALTHCHECK_ENV]: JSON.stringify(rendered.job.healthcheck) } : {}),
    }),
  );
  const injected = agent.injected;
  return {
    containerId,
    node,
    templateHash: template.hash,
    agentTokenHash: hashToken(agentToken),
    startAgent: injected ? () => injected.start(containerId) : undefined,
    notice: agent.notice,
    template,
    ownerTimezone: owner.timezone,
  };
}

/**
 * Knot's own agent for the space, unless the job opts out or starts one itself. One that cannot be
 * brought in does not keep the space from starting: it runs without the agent's icons, and says why.
 */
async function injectedAgent(deps: SpaceDeps, job: JobSpec): Promise<{ injected: InjectedAgent | null; notice: string | null }> {
  if (!wantsInjectedAgent(job)) return { injected: null, notice: null };
  try {
    return { injected: await prepareAgent(deps, job.image), notice: null };
  } catch (err) {
    if (!(err instanceof AgentNotInjected)) throw err;
    deps.log.warn({ err: err.message }, 'a space starts without the Knot agent');
    return { injected: null, notice: `Knot could not start its agent in this space, so its service icons and port links are missing: ${err.message}.` };
  }
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
    const row = await updateWhile(deps.db, space.id, 'STARTING', { pullProgress: rounded });
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

function containerSpec(
  name: string,
  job: JobSpec,
  networkMode: string,
  labels: Record<string, string>,
  agent: InjectedAgent | null,
  agentEnv: Record<string, string>,
): ContainerSpec {
  return {
    name,
    image: job.image,
    cmd: job.command,
    env: { ...job.environment, ...agentEnv },
    labels,
    mounts: [
      ...job.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, readOnly: m.readOnly })),
      ...(agent ? [agent.mount] : []),
    ],
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
