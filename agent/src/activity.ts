import { readFile } from 'node:fs/promises';
import type { BusyService } from '../../protocol/agent-wire.js';
import type { AgentConfig } from './config.js';

/** The kernel's socket tables; IPv6 holds the IPv4-mapped connections of dual-stack servers too. */
const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];
/** `st` column value of a connected socket (include/net/tcp_states.h). */
const ESTABLISHED = '01';

/**
 * Local ports of the space's established TCP connections, read from /proc/net/tcp{,6}: a row is
 * `sl local_address rem_address st …` with addresses as HEX_IP:HEX_PORT. A listening socket is
 * state 0A, so only a connected client counts: a logged-in SSH session, a code-server or desktop
 * tab left open. Traffic through Knot is counted by the server already; this catches the quiet ones.
 */
export function establishedLocalPorts(table: string): Set<number> {
  const ports = new Set<number>();
  for (const line of table.split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== ESTABLISHED || !local) continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

/** Which of the space's services someone is connected to now (empty when none, or /proc cannot be read). */
export async function busyServices(config: Pick<AgentConfig, 'sshPort' | 'codeServerPort' | 'vncHttpPort'>): Promise<BusyService[]> {
  const watched: [BusyService, number | null][] = [
    ['ssh', config.sshPort],
    ['code-server', config.codeServerPort],
    ['desktop', config.vncHttpPort],
  ];
  if (!watched.some(([, port]) => port)) return [];
  const tables = await Promise.all(TABLES.map((path) => readFile(path, 'utf8').catch(() => '')));
  const connected = new Set(tables.flatMap((t) => [...establishedLocalPorts(t)]));
  return watched.filter(([, port]) => port && connected.has(port)).map(([name]) => name);
}
