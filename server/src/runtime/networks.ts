// Bridge networks Knot manages for its spaces, looked up by what they stand for (see ensureNetwork).
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { Connection } from './connection.js';
import { RuntimeError, statusOf } from './errors.js';
import type { NetworkSpec } from './runtime.js';

/** Docker's bridge option that, when "false", drops traffic between containers on the network (needs dockerd's iptables). */
export const ICC_OPTION = 'com.docker.network.bridge.enable_icc';

type NetworkInfo = Docker.NetworkInspectInfo;

/** Marks the networks Knot made for a name (their own names carry a suffix, see ensureNetwork). */
const NAME_LABEL = 'knot.network-name';

/**
 * The networks that stand for `name`, oldest first: one an operator made under exactly that name
 * comes first, then those Knot made for it.
 */
async function networksNamed(conn: Connection, name: string): Promise<NetworkInfo[]> {
  const docker = conn.docker;
  const [byName, byLabel] = await Promise.all([
    // The name filter matches substrings; only exact names count.
    conn.call('list networks', (signal) => docker.listNetworks({ filters: JSON.stringify({ name: [name] }), abortSignal: signal }) as Promise<NetworkInfo[]>),
    conn.call('list networks', (signal) => docker.listNetworks({ filters: JSON.stringify({ label: [`${NAME_LABEL}=${name}`] }), abortSignal: signal }) as Promise<NetworkInfo[]>),
  ]);
  const oldestFirst = (a: NetworkInfo, b: NetworkInfo) => a.Created.localeCompare(b.Created) || a.Id.localeCompare(b.Id);
  return [...byName.filter((n) => n.Name === name).sort(oldestFirst), ...byLabel.filter((n) => n.Name !== name).sort(oldestFirst)];
}

/** Refuses a network that would not keep its containers apart as asked (e.g. made by hand). */
function checkIsolation(spec: NetworkSpec, net: NetworkInfo) {
  if (spec.interContainer) return;
  // IPv6 is refused too: whether Docker isolates it depends on its experimental ip6tables setting.
  if (net.Driver !== 'bridge' || net.Options?.[ICC_OPTION] !== 'false' || net.EnableIPv6) {
    throw new RuntimeError(
      `network ${spec.name} lets its containers reach each other; remove it (Knot recreates it as a bridge with ${ICC_OPTION}=false and no IPv6)`,
      'create-failed',
    );
  }
}

/**
 * Docker does not keep two clients creating at once (several servers, or test files starting on
 * a fresh engine) from making the same name twice, and then no container can join that name, not
 * even by id ("network … is ambiguous"). So Knot's network gets a unique name (`<name>-<suffix>`)
 * and a label naming what it stands for; everyone uses the oldest, and a younger one left by a
 * race is removed once nothing uses it.
 */
async function settleDuplicates(conn: Connection, found: NetworkInfo[]) {
  await Promise.all(
    found.slice(1).filter((net) => net.Labels?.[NAME_LABEL]).map((net) =>
      conn.call('remove network', (signal) => conn.docker.getNetwork(net.Id).remove({ abortSignal: signal })).catch(() => {}),
    ),
  );
}

/** Starts racing in one process share one lookup-or-create. */
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
  let found = await networksNamed(conn, spec.name);
  if (!found.length) {
    await conn.call('create network', (signal) =>
      conn.docker.createNetwork({
        Name: `${spec.name}-${randomBytes(4).toString('hex')}`,
        Driver: 'bridge',
        Labels: { ...spec.labels, [NAME_LABEL]: spec.name },
        Options: { [ICC_OPTION]: String(spec.interContainer) },
        abortSignal: signal,
      }),
    );
    found = await networksNamed(conn, spec.name);
  }
  const [network] = found;
  if (!network) throw new RuntimeError(`network ${spec.name} could not be created`, 'create-failed');
  if (found.length > 1) await settleDuplicates(conn, found);
  checkIsolation(spec, network);
  return network.Id;
}

export async function removeNetwork(conn: Connection, name: string): Promise<void> {
  for (const net of await networksNamed(conn, name)) {
    await conn.call('remove network', (signal) => conn.docker.getNetwork(net.Id).remove({ abortSignal: signal })).catch((err) => {
      if (statusOf(err) !== 404) throw err;
    });
  }
}
