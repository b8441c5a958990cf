import type { KnotApi } from './api.js';
import { CliError, EXIT } from './errors.js';

export type SpaceStatus = 'STOPPED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'DELETING' | 'FAILED';

export interface SpacePort {
  port: number;
  name: string;
  protocol: 'HTTP' | 'HTTPS' | 'TCP';
  url: string | null;
}

export interface Space {
  id: string;
  name: string;
  altNames: string[];
  status: SpaceStatus;
  error: string | null;
  pullProgress: number | null;
  updateAvailable: boolean;
  template: { name: string };
  services: { ssh: boolean; ports: SpacePort[] };
}

export const SPACE_FIELDS = `id name altNames status error pullProgress updateAvailable template { name } services { ssh ports { port name protocol url } }`;

export interface SpaceChange {
  kind: string;
  spaceId: string;
  space: Space | null;
}

export async function listSpaces(api: KnotApi): Promise<Space[]> {
  return (await api.request<{ spaces: Space[] }>(`{ spaces { ${SPACE_FIELDS} } }`)).spaces;
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
