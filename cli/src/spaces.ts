import type { KnotApi } from './api.js';
import { ME, SPACES, type Space } from './documents.js';
import { CliError, EXIT } from './errors.js';

export async function listSpaces(api: KnotApi): Promise<Space[]> {
  return (await api.request(SPACES)).spaces;
}

/**
 * By name first, then by an additional name, then by id; names are case-insensitive as on the
 * server. A space someone shared with you is also `<owner>/<name>`; a bare name that is both yours
 * and a shared one's means yours.
 */
export async function findSpace(api: KnotApi, nameOrId: string): Promise<Space> {
  const spaces = await listSpaces(api);
  const slash = nameOrId.indexOf('/');
  const owner = slash > 0 ? nameOrId.slice(0, slash).toLowerCase() : null;
  const wanted = (owner ? nameOrId.slice(slash + 1) : nameOrId).toLowerCase();
  const candidates = owner ? spaces.filter((s) => s.owner.username.toLowerCase() === owner) : spaces;
  const named = candidates.filter((s) => s.name.toLowerCase() === wanted);
  const space =
    (named.length > 1 ? await ownFirst(api, named) : named[0]) ??
    candidates.find((s) => s.altNames.some((n) => n.toLowerCase() === wanted)) ??
    spaces.find((s) => s.id === nameOrId);
  if (!space) {
    const known = spaces.map((s) => s.name).join(', ') || 'none';
    throw new CliError(`You have no space named "${nameOrId}" (your spaces: ${known}).`, EXIT.failed);
  }
  return space;
}

/** Of spaces with one name (yours and some shared with you), yours. */
async function ownFirst(api: KnotApi, named: Space[]): Promise<Space | undefined> {
  const me = (await api.request(ME)).me?.username.toLowerCase();
  return named.find((s) => s.owner.username.toLowerCase() === me) ?? named[0];
}
