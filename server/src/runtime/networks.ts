// Bridge networks Knot manages for its spaces. Docker lets two networks share a name, so a
// name is looked up by listing, and several servers racing to create it settle on the oldest.
import type Docker from 'dockerode';
import type { Connection } from './connection.js';
import { RuntimeError, statusOf } from './errors.js';
import type { NetworkSpec } from './runtime.js';

/** Docker's bridge option that, when "false", drops traffic between containers on the network (needs dockerd's iptables). */
export const ICC_OPTION = 'com.docker.network.bridge.enable_icc';

type NetworkInfo = Docker.NetworkInspectInfo;

async function networksNamed(conn: Connection, name: string): Promise<NetworkInfo[]> {
  const docker = conn.docker;
  // The name filter matches substrings; only exact names count.
  const found: NetworkInfo[] = await conn.call('list networks', (signal) =>
    docker.listNetworks({ filters: JSON.stringify({ name: [name] }), abortSignal: signal }),
  );
  return found
    .filter((n) => n.Name === name)
    .sort((a, b) => a.Created.localeCompare(b.Created) || a.Id.localeCompare(b.Id));
}

/** Refuses a network that would not keep its containers apart as asked (e.g. made by hand). */
function checkIsolation(spec: NetworkSpec, net: NetworkInfo) {
  if (spec.interContainer) return;
  if (net.Driver !== 'bridge' || net.Options?.[ICC_OPTION] !== 'false') {
    throw new RuntimeError(
      `network ${spec.name} lets its containers reach each other; remove it (Knot recreates it with ${ICC_OPTION}=false) or give it that option`,
      'create-failed',
    );
  }
}

/**
 * Starts racing in one process share one lookup-or-create, so they cannot make two networks of
 * one name (Docker allows that, and then refuses to start a container on "an ambiguous name").
 */
const inFlight = new WeakMap<Connection, Map<string, Promise<string>>>();

export function ensureNetwork(conn: Connection, spec: NetworkSpec): Promise<string> {
  let pending = inFlight.get(conn);
  if (!pending) inFlight.set(conn, (pending = new Map()));
  const running = pending.get(spec.name);
  if (running) return running;
  const made = lookUpOrCreate(conn, spec).finally(() => pending.delete(spec.name));
  pending.set(spec.name, made);
  return made;
}

async function lookUpOrCreate(conn: Connection, spec: NetworkSpec): Promise<string> {
  const [existing] = await networksNamed(conn, spec.name);
  if (existing) {
    checkIsolation(spec, existing);
    return existing.Id;
  }
  try {
    await conn.call('create network', (signal) =>
      conn.docker.createNetwork({
        Name: spec.name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: spec.labels ?? {},
        Options: { [ICC_OPTION]: String(spec.interContainer) },
        abortSignal: signal,
      }),
    );
  } catch (err) {
    // 409: another server made it meanwhile; the lookup below finds it.
    if (statusOf(err) !== 409) throw err;
  }
  const [made, ...duplicates] = await networksNamed(conn, spec.name);
  if (!made) throw new RuntimeError(`network ${spec.name} could not be created`, 'create-failed');
  // Another server created one at the same moment: everyone settles on the oldest, and the
  // newer ones go before any container joins them (one in use already is left; its remover wins).
  for (const extra of duplicates) {
    await conn.call('remove network', (signal) => conn.docker.getNetwork(extra.Id).remove({ abortSignal: signal })).catch(() => {});
  }
  checkIsolation(spec, made);
  return made.Id;
}

export async function removeNetwork(conn: Connection, name: string): Promise<void> {
  for (const net of await networksNamed(conn, name)) {
    await conn.call('remove network', (signal) => conn.docker.getNetwork(net.Id).remove({ abortSignal: signal })).catch((err) => {
      if (statusOf(err) !== 404) throw err;
    });
  }
}
