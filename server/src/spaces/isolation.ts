/**
 * What keeps one space from reaching or starving another, unless its template says otherwise:
 * a shared bridge network on which containers cannot open connections to each other (they still
 * reach the host, so the agent reaches Knot, and the outside), and a cap on processes.
 * docs/security.md explains the choice.
 */
import { LABELS, type SpaceDeps } from './deps.js';

/** A space's processes at once, unless its job says `pids_limit`: plenty for builds, a stop for fork bombs. */
export const DEFAULT_PIDS_LIMIT = 4096;

/** The spaces' network id; made on first use, so it is asked alongside the start's other lookups. */
export function spacesNetwork(deps: SpaceDeps): Promise<string> {
  return deps.runtime.ensureNetwork({
    name: deps.config.spacesNetwork,
    labels: { [LABELS.managed]: 'true', [LABELS.network]: 'spaces' },
    interContainer: false,
  });
}
