// The few swarm calls whose @types/dockerode signatures lack the abort signal or the swarm fields
// Knot reads; typed here once, loosely, instead of casting at every call.
import type Docker from 'dockerode';

type Options = Record<string, unknown>;

export interface SwarmApi {
  listNodes(opts: Options): Promise<unknown[]>;
  listServices(opts: Options): Promise<unknown[]>;
  listTasks(opts: Options): Promise<unknown[]>;
  listNetworks(opts: Options): Promise<{ Id: string; Name: string }[]>;
  createNetwork(opts: Options): Promise<{ id: string }>;
  createService(opts: Options): Promise<{ id: string }>;
  getService(id: string): { inspect(opts: Options): Promise<unknown>; remove(opts: Options): Promise<unknown> };
}

export const swarmApi = (docker: Docker) => docker as unknown as SwarmApi;
