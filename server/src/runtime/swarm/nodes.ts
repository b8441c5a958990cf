// The swarm's nodes as Knot uses them: the manager says which exist and whether they are up;
// each node's own engine (KNOT_SWARM_ENGINES) holds what the manager cannot reach: its images,
// its volumes, its containers' processes (exec).
import { swarmApi } from './loose-api.js';
import type { Connection } from '../connection.js';
import { createDockerRuntime } from '../docker-runtime.js';
import { RuntimeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { satisfies, type NodeFacts } from './constraints.js';

export interface SwarmNode extends NodeFacts {
  /** The manager's view: 'ready', 'down', 'unknown', 'disconnected'. */
  state: string;
  /** 'active', 'pause', 'drain': only active nodes take new spaces. */
  availability: string;
}

/** Parses `build-1=tcp://10.0.0.5:2375,build-2=unix:///run/b2.sock` (hostname=DOCKER_HOST pairs). */
export function parseEngines(text: string | undefined): Record<string, string> {
  const engines: Record<string, string> = {};
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new RuntimeError(`KNOT_SWARM_ENGINES entry "${entry}" is not hostname=DOCKER_HOST`, 'failed');
    engines[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim();
  }
  return engines;
}

export class SwarmNodes {
  private readonly engines = new Map<string, Runtime>();

  constructor(
    private readonly manager: Connection,
    engineHosts: Record<string, string>,
  ) {
    for (const [hostname, host] of Object.entries(engineHosts)) this.engines.set(hostname, createDockerRuntime({ dockerHost: host }));
  }

  async list(): Promise<SwarmNode[]> {
    const nodes = (await this.manager.call('list nodes', (signal) => swarmApi(this.manager.docker).listNodes({ abortSignal: signal }))) as unknown[];
    return nodes.map(toNode);
  }

  async byId(id: string): Promise<SwarmNode | undefined> {
    return (await this.list()).find((n) => n.id === id);
  }

  /** The node's own engine; a node Knot was not given an engine for cannot hold spaces. */
  engine(hostname: string): Runtime {
    const engine = this.engines.get(hostname);
    if (!engine) {
      throw new RuntimeError(`node ${hostname} has no engine in KNOT_SWARM_ENGINES, so Knot cannot keep its volumes or open terminals there`, 'failed');
    }
    return engine;
  }

  allEngines(): [string, Runtime][] {
    return [...this.engines];
  }

  /**
   * Where a space starts: the node it was pinned to (its volumes are there), or for a first start
   * the active, ready node with an engine that satisfies the constraints and runs the fewest spaces.
   */
  async place(pinned: string | null, constraints: string[], spacesOn: (nodeId: string) => number): Promise<SwarmNode> {
    const nodes = await this.list();
    if (pinned) {
      const node = nodes.find((n) => n.hostname === pinned);
      if (!node) throw new RuntimeError(`node ${pinned}, which holds the space's volumes, is no longer in the swarm`, 'start-failed');
      if (node.state !== 'ready') throw new RuntimeError(`node ${pinned} is down, and the space's volumes are on it`, 'start-failed');
      return node;
    }
    const fit = nodes.filter((n) => n.state === 'ready' && n.availability === 'active' && this.engines.has(n.hostname) && satisfies(n, constraints));
    if (!fit.length) {
      const asked = constraints.length ? ` satisfying ${constraints.join(', ')}` : '';
      throw new RuntimeError(`no ready node${asked} can take the space (nodes Knot can use: ${[...this.engines.keys()].join(', ') || 'none'})`, 'start-failed');
    }
    return fit.sort((a, b) => spacesOn(a.id) - spacesOn(b.id) || a.hostname.localeCompare(b.hostname))[0]!;
  }

  close(): void {
    for (const engine of this.engines.values()) engine.close();
  }
}

function toNode(info: unknown): SwarmNode {
  const raw = info as unknown as {
    ID: string;
    Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
    Description?: { Hostname?: string; Platform?: { OS?: string; Architecture?: string }; Engine?: { Labels?: Record<string, string> } };
    Status?: { State?: string };
  };
  return {
    id: raw.ID,
    hostname: raw.Description?.Hostname ?? raw.ID,
    role: raw.Spec?.Role === 'manager' ? 'manager' : 'worker',
    labels: raw.Spec?.Labels ?? {},
    engineLabels: raw.Description?.Engine?.Labels ?? {},
    platform: { os: raw.Description?.Platform?.OS ?? '', arch: raw.Description?.Platform?.Architecture ?? '' },
    state: raw.Status?.State ?? 'unknown',
    availability: raw.Spec?.Availability ?? 'active',
  };
}
