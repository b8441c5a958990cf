/**
 * The agent Knot brings into every Docker space (docs/architecture.md, "The agent in any image"):
 * its package (agent-gateway/agent-package.ts) is copied once into a volume named after its
 * content, mounted read-only into the space, and started with `docker exec` once the space runs.
 */
import { AgentPackageUnavailable, PACKAGE_MARKER, loadAgentPackage, type AgentPackage } from '../agent-gateway/agent-package.js';
import { FILL_OWNER_LABEL, type MountSpec, type Runtime } from '../runtime/index.js';
import type { JobSpec } from '../templates/index.js';
import { LABELS, type SpaceDeps } from './deps.js';

/** Where the package appears in a space; out of the way of what images put in /usr and /opt. */
export const AGENT_MOUNT = '/.knot/agent';
/** The injected agent's log, inside the space (its output has no other place to go). */
export const AGENT_LOG_FILE = '/tmp/knot-agent.log';
export const AGENT_VOLUME_PREFIX = 'knot-agent-';
/** On the package's volume: the package id. It carries no installation or space id, so the garbage collector never takes it. */
export const AGENT_PACKAGE_LABEL = 'knot.agent-package';

export interface InjectedAgent {
  mount: MountSpec;
  /** Starts the agent in the running container. */
  start(containerId: string): Promise<void>;
}

/** Whether an exec'd command (entrypoint and arguments) is the injected agent. */
export function isInjectedAgent(command: string[]): boolean {
  return command.includes(`${AGENT_MOUNT}/knot-agent.mjs`);
}

/** What the space shows when its agent cannot be brought in (the space still runs, without icons). */
export class AgentNotInjected extends Error {}

/**
 * True unless the job opts out (`agent: false`) or starts the agent itself, as templates written
 * before Knot brought it did (they fetch /agent/knot-agent.mjs): one agent per space.
 */
export function wantsInjectedAgent(job: JobSpec): boolean {
  if (!job.agent) return false;
  return !(job.command ?? []).some((part) => part.includes('knot-agent'));
}

let packaged: Promise<AgentPackage> | null = null;
function agentPackage(): Promise<AgentPackage> {
  packaged ??= loadAgentPackage();
  packaged.catch(() => (packaged = null));
  return packaged;
}

/** Per engine and package: the volume is checked (and filled) once per server process. */
const filled = new WeakMap<Runtime, Map<string, Promise<unknown>>>();

/** Makes sure the package's volume is complete on this engine; `image` is present there (the space's own). */
export async function prepareAgent(deps: Pick<SpaceDeps, 'runtime' | 'log' | 'instanceId' | 'replicas'>, image: string): Promise<InjectedAgent> {
  let pkg: AgentPackage;
  try {
    pkg = await agentPackage();
  } catch (err) {
    if (err instanceof AgentPackageUnavailable) throw new AgentNotInjected(err.message);
    throw new AgentNotInjected(`the agent could not be packaged: ${err instanceof Error ? err.message : String(err)}`);
  }
  const volume = `${AGENT_VOLUME_PREFIX}${pkg.id}`;
  const perEngine = filled.get(deps.runtime) ?? new Map<string, Promise<unknown>>();
  filled.set(deps.runtime, perEngine);
  let ready = perEngine.get(volume);
  if (!ready) {
    const started = Date.now();
    ready = deps.runtime
      .fillVolume({
        name: volume,
        labels: { [LABELS.managed]: 'true', [AGENT_PACKAGE_LABEL]: pkg.id },
        // The volume is every installation's on this engine; the helper is this one's, for its
        // collector, and this replica's: if this process dies mid-copy, the collector sees it gone.
        helperLabels: { [LABELS.instance]: deps.instanceId, [FILL_OWNER_LABEL]: deps.replicas.id },
        image,
        marker: PACKAGE_MARKER,
        archive: () => pkg.archive(),
      })
      .then((outcome) => {
        if (outcome === 'filled') deps.log.info({ volume, ms: Date.now() - started }, 'copied the agent package into its volume');
      });
    perEngine.set(volume, ready);
    ready.catch(() => perEngine.delete(volume));
  }
  await ready;
  return {
    mount: { type: 'volume', source: volume, target: AGENT_MOUNT, readOnly: true },
    // As the image's user (the exec default): the agent opens the space's terminals, which must be
    // that user's, as they are when a template starts the agent. Its token reaches it through the
    // container's environment, as before; the exec adds only where to log.
    start: (containerId) =>
      deps.runtime.execDetached(containerId, { cmd: pkg.command(AGENT_MOUNT), env: { KNOT_AGENT_LOG_FILE: AGENT_LOG_FILE } }),
  };
}
