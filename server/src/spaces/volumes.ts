import { LABELS, type SpaceDeps } from './deps.js';

const SPACE_ID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

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
  await Promise.all(wanted.filter((v) => !existing.includes(v)).map((v) => checkMountable(deps, spaceId, v)));
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

/**
 * A space mounts only volumes Knot made for spaces of this installation: its own, or a shared one.
 * Docker hands out any existing volume by name, so without this a template could mount another
 * space's home (`home_<its id>`), Knot's own database volume in a compose setup, or any other
 * volume on the engine. A name carrying another space's id is refused even before that volume
 * exists, or a template could make it first and share it with the space that later owns it.
 * `existing` volumes (labelled with this space already) are not asked about again.
 */
async function checkMountable(deps: Pick<SpaceDeps, 'runtime' | 'instanceId'>, spaceId: string, name: string) {
  const foreignId = (name.match(SPACE_ID) ?? []).find((id) => id.toLowerCase() !== spaceId.toLowerCase());
  if (foreignId) throw new Error(`the volume "${name}" names another space (${foreignId}); a space mounts only its own volumes and shared ones`);
  const found = await deps.runtime.inspectVolume(name);
  if (!found) return;
  const ours = found.labels[LABELS.managed] === 'true' && found.labels[LABELS.instance] === deps.instanceId;
  const fits = isOwnVolume(name, spaceId) ? found.labels[LABELS.space] === spaceId : true;
  if (!ours || !fits) {
    throw new Error(
      `the volume "${name}" exists on the Docker engine but Knot did not make it for ${isOwnVolume(name, spaceId) ? 'this space' : 'spaces'}; ` +
        'a space mounts only volumes Knot made (pick another name, or an Admin mounts a host path)',
    );
  }
}
