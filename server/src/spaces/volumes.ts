import { LABELS, type SpaceDeps } from './deps.js';

/**
 * Which Docker volumes a space owns. A volume whose rendered name contains the space's id
 * (`home_${{ .space.id }}`) is the space's own: labelled with it, removed when the template drops
 * it and when the space is deleted. Any other name (`shared`) is shared on purpose by every space
 * that names it: created if missing, labelled as shared, and never removed by Knot.
 */
export function isOwnVolume(name: string, spaceId: string): boolean {
  return name.includes(spaceId);
}

/**
 * Creates the template's volumes and removes the space's own volumes the template no longer has.
 * `existing` is what Docker lists with the space's label. A shared volume is created on every
 * start (Docker answers for an existing one without changing it), so whichever space runs first
 * makes it and none owns it. Only names with the space id are removed: a shared volume that an
 * older Knot labelled with the first space that made it stays.
 */
export async function syncVolumes(deps: Pick<SpaceDeps, 'runtime' | 'instanceId'>, spaceId: string, wanted: string[], existing: string[]) {
  const own = { [LABELS.managed]: 'true', [LABELS.instance]: deps.instanceId, [LABELS.space]: spaceId };
  const shared = { [LABELS.managed]: 'true', [LABELS.instance]: deps.instanceId, [LABELS.shared]: 'true' };
  await Promise.all([
    ...existing.filter((v) => !wanted.includes(v) && isOwnVolume(v, spaceId)).map((v) => deps.runtime.removeVolume(v)),
    ...wanted.filter((v) => !existing.includes(v)).map((v) => deps.runtime.createVolume(v, isOwnVolume(v, spaceId) ? own : shared)),
  ]);
}

/** A deleted space's own volumes, with their data. Its container must be gone first (a volume in use cannot go). */
export async function removeOwnVolumes(deps: Pick<SpaceDeps, 'runtime'>, spaceId: string) {
  const labelled = await deps.runtime.listVolumes({ [LABELS.space]: spaceId });
  await Promise.all(labelled.filter((v) => isOwnVolume(v, spaceId)).map((v) => deps.runtime.removeVolume(v)));
}
