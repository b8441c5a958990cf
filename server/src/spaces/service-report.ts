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
 * Where the browser opens a space's HTTP(S) port, code-server or desktop: a host of its own,
 * `<user>--<space>--<port|code-server|desktop>.<domain>` under KNOT_WILDCARD_DOMAIN (same scheme
 * and port as KNOT_URL: one listener serves both), else a path under Knot's own origin.
 */
export function spaceServiceUrl(
  config: Pick<Config, 'url' | 'wildcardDomain'>,
  owner: { username: string },
  space: { id: string; name: string },
  service: number | 'code-server' | 'desktop',
): string {
  if (config.wildcardDomain) {
    const domain = config.wildcardDomain.replace(/^\*\./, '').replace(/\.$/, '');
    const knot = new URL(config.url);
    const port = knot.port ? `:${knot.port}` : '';
    return `${knot.protocol}//${`${owner.username}--${space.name}--${service}.${domain}`.toLowerCase()}${port}/`;
  }
  const path = typeof service === 'number' ? `ports/${service}` : service;
  return `${config.url}/spaces/${space.id}/${path}/`;
}

export function portUrl(config: Pick<Config, 'url' | 'wildcardDomain'>, owner: { username: string }, space: { id: string; name: string }, port: number): string {
  return spaceServiceUrl(config, owner, space, port);
}
