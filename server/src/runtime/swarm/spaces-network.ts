// The network that keeps spaces apart on a swarm, as the single engine's does: a bridge on each
// node with inter-container traffic off. Swarm makes one from two halves: a swarm-scoped bridge
// network on the manager (what a service names), and on each node a config-only network holding
// the bridge's options (`com.docker.network.bridge.enable_icc=false`), from which the node builds
// its local bridge when a task first joins. Nothing is made or torn down per space or per start:
// joining a local bridge costs what a plain `docker service create` pays on the node's default
// bridge, where an overlay of the space's own cost about a second at every start (measured, see
// docs/scale-out.md).
import type { Connection } from '../connection.js';
import { RuntimeError, statusOf } from '../errors.js';
import { ICC_OPTION } from '../networks.js';
import type { Labels } from '../runtime.js';
import { swarmApi } from './loose-api.js';

interface NetworkView {
  Id: string;
  Name: string;
  Driver?: string;
  Scope?: string;
  Created?: string;
  EnableIPv6?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string };
  Options?: Record<string, string>;
}

/** The config-only network on each node that the swarm network `name` is built from. */
export const nodeConfigName = (name: string) => `${name}-node`;

async function exactlyNamed(conn: Connection, name: string): Promise<NetworkView[]> {
  const found = (await conn.call('list networks', (signal) =>
    swarmApi(conn.docker).listNetworks({ filters: JSON.stringify({ name: [name] }), abortSignal: signal }),
  )) as NetworkView[];
  // The name filter matches substrings; only the exact name counts. Oldest first.
  return found.filter((n) => n.Name === name).sort((a, b) => (a.Created ?? '').localeCompare(b.Created ?? '') || a.Id.localeCompare(b.Id));
}

export class SpacesNetworks {
  /** The swarm network's id by name, made or found once per process. */
  private readonly swarmWide = new Map<string, Promise<string>>();
  /** Each node's config-only half, by hostname and name, made or found once per process. */
  private readonly perNode = new Map<string, Promise<void>>();

  constructor(
    private readonly manager: Connection,
    private readonly nodeConnection: (hostname: string) => Connection,
  ) {}

  /** The id of the swarm network a space joins to be kept apart from every other space. */
  swarmNetwork(name: string): Promise<string> {
    return this.once(this.swarmWide, name, () => this.lookUpOrCreateSwarm(name));
  }

  /** Makes sure `hostname` holds the bridge's options before a task there joins `name`. */
  onNode(hostname: string, name: string, labels: Labels): Promise<void> {
    return this.once(this.perNode, `${hostname}\0${name}`, () => this.lookUpOrCreateOnNode(hostname, nodeConfigName(name), labels));
  }

  /** After a failed start: what was found may have been removed by hand, so the next start looks again. */
  forget(): void {
    this.swarmWide.clear();
    this.perNode.clear();
  }

  /** One lookup per key at a time and, once it succeeded, none again; a failure is not kept. */
  private once<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
    const known = cache.get(key);
    if (known) return known;
    const made = make();
    cache.set(key, made);
    made.catch(() => cache.delete(key));
    return made;
  }

  private async lookUpOrCreateSwarm(name: string): Promise<string> {
    const existing = (await exactlyNamed(this.manager, name))[0];
    if (existing) return this.checkedSwarm(existing, name);
    try {
      const made = await this.manager.call('create network', (signal) =>
        swarmApi(this.manager.docker).createNetwork({
          Name: name,
          Driver: 'bridge',
          Scope: 'swarm',
          ConfigFrom: { Network: nodeConfigName(name) },
          // No labels here: Docker refuses any of its own settings on a network built from a
          // config network; the nodes' halves carry Knot's labels, and the node copies them.
          abortSignal: signal,
        }),
      );
      return made.id;
    } catch (err) {
      // Another replica made it first: the manager keeps swarm network names unique.
      if (statusOf(err) !== 409) throw err;
      const raced = (await exactlyNamed(this.manager, name))[0];
      if (!raced) throw err;
      return this.checkedSwarm(raced, name);
    }
  }

  /** Refuses a network of that name that is not built from the nodes' isolating options. */
  private checkedSwarm(net: NetworkView, name: string): string {
    if (net.Driver !== 'bridge' || net.Scope !== 'swarm' || net.ConfigFrom?.Network !== nodeConfigName(name)) {
      throw new RuntimeError(
        `network ${name} is not the swarm bridge Knot keeps spaces apart with; remove it (Knot recreates it as a swarm-scoped bridge built from ${nodeConfigName(name)})`,
        'create-failed',
      );
    }
    return net.Id;
  }

  private async lookUpOrCreateOnNode(hostname: string, config: string, labels: Labels): Promise<void> {
    const conn = this.nodeConnection(hostname);
    let found = await exactlyNamed(conn, config);
    if (!found.length) {
      await conn.call('create network', (signal) =>
        swarmApi(conn.docker).createNetwork({
          Name: config,
          ConfigOnly: true,
          Options: { [ICC_OPTION]: 'false' },
          Labels: labels,
          abortSignal: signal,
        }),
      );
      found = await exactlyNamed(conn, config);
    }
    const [oldest, ...younger] = found;
    if (!oldest) throw new RuntimeError(`network ${config} could not be created on node ${hostname}`, 'create-failed');
    // A node's engine does not keep two replicas from making the same local name at once: the
    // oldest is kept, a younger one (unused: nothing joins a config-only network) goes.
    await Promise.all(
      younger.map((n) => conn.call('remove network', (signal) => conn.docker.getNetwork(n.Id).remove({ abortSignal: signal })).catch(() => {})),
    );
    if (!oldest.ConfigOnly || oldest.Options?.[ICC_OPTION] !== 'false' || oldest.EnableIPv6) {
      throw new RuntimeError(
        `network ${config} on node ${hostname} would let spaces reach each other; remove it (Knot recreates it config-only with ${ICC_OPTION}=false and no IPv6)`,
        'create-failed',
      );
    }
  }
}
