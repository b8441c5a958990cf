import type { KnotApi } from './api.js';
import { SPACES, type Space } from './documents.js';
import { CliError, EXIT } from './errors.js';

export async function listSpaces(api: KnotApi): Promise<Space[]> {
  return (await api.request(SPACES)).spaces;
}

/** By name first, then by an additional name, then by id; names are case-insensitive as on the server. */
export async function findSpace(api: KnotApi, nameOrId: string): Promise<Space> {
  const spaces = await listSpaces(api);
  const wanted = nameOrId.toLowerCase();
  const space =
    spaces.find((s) => s.name.toLowerCase() === wanted) ??
    spaces.find((s) => s.altNames.some((n) => n.toLowerCase() === wanted)) ??
    spaces.find((s) => s.id === nameOrId);
  if (!space) {
    const known = spaces.map((s) => s.name).join(', ') || 'none';
    throw new CliError(`You have no space named "${nameOrId}" (your spaces: ${known}).`, EXIT.failed);
  }
  return space;
}
