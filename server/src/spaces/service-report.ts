import type { ServiceReport } from '../../../protocol/service-report.js';
import type { Config } from '../config.js';

/**
 * What an agent last reported as answering inside a space. The agent gateway keeps it on the space
 * row (`services`, with `agent_lease_until`), so every replica's subscribers read the same live
 * set; it is cleared when the agent disconnects or falls silent.
 */
export type { ServiceReport };

/** The live reports of the agents connected to this replica (streams reach only those). */
export interface ServiceReports {
  get(spaceId: string): ServiceReport | null;
}

export const noReports: ServiceReports = { get: () => null };

/** The row's report while its agent's lease holds; null once it lapsed (the sweeper clears it soon after). */
export function liveReport(space: { services: ServiceReport | null; agentLeaseUntil: Date | null }, now = new Date()): ServiceReport | null {
  if (!space.services || !space.agentLeaseUntil || space.agentLeaseUntil <= now) return null;
  return space.services;
}

/**
 * Where the browser opens a space's HTTP(S) port: `<user>--<space>--<port>.<domain>` under
 * KNOT_WILDCARD_DOMAIN, else a path under the server that the port proxy serves.
 */
export function portUrl(config: Pick<Config, 'url' | 'wildcardDomain'>, owner: { username: string }, space: { id: string; name: string }, port: number): string {
  if (config.wildcardDomain) {
    const domain = config.wildcardDomain.replace(/^\*\./, '');
    const scheme = new URL(config.url).protocol;
    return `${scheme}//${owner.username}--${space.name}--${port}.${domain}/`.toLowerCase();
  }
  return `${config.url}/spaces/${space.id}/ports/${port}/`;
}
