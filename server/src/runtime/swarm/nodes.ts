// The swarm's nodes as Knot uses them: the manager says which exist and whether they are up;
// each node's own engine (KNOT_SWARM_ENGINES) holds what the manager cannot reach: its images,
// its volumes, its containers' processes (exec).
import { swarmApi } from './loose-api.js';
import { Connection } from '../connection.js';
import { createDockerRuntime } from '../docker-runtime.js';
import { RuntimeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { satisfies, type NodeFacts } from './constraints.js';
import type { EngineAccess } from './engine-access.js';

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

/** How old a node list a start may reuse: its placement and its service creation share one answer. */
export const START_NODES_MAX_AGE_MS = 1_000;

export class SwarmNodes {
  private readonly engines = new Map<string, Runtime>();
  /** Raw connections to the nodes' engines, for the few calls the Runtime interface has no words for. */
  private readonly connections = new Map<string, Connection>();
  private latest: { at: number; nodes: Promise<SwarmNode[]> } | undefined;

  constructor(
    private readonly manager: Connection,
    private readonly engineHosts: Record<string, EngineAccess>,
  ) {
    for (const [hostname, access] of Object.entries(engineHosts)) this.engines.set(hostname, createDockerRuntime(access));
  }

  /**
   * The manager's nodes. `maxAgeMs` > 0 accepts an answer asked for at most that long ago (or
   * still on its way): the node watch asks every 2 s and fails the spaces of a node that goes down,
   * so a start need not ask twice within a second.
   */
  async list(maxAgeMs = 0): Promise<SwarmNode[]> {
    const latest = this.latest;
    if (latest && maxAgeMs > 0 && Date.now() - latest.at <= maxAgeMs) return latest.nodes;
    const nodes = this.manager
      .call('list nodes', (signal) => swarmApi(this.manager.docker).listNodes({ abortSignal: signal }))
      .then((raw) => (raw as unknown[]).map(toNode));
    const entry = { at: Date.now(), nodes };
    this.latest = entry;
    nodes.catch(() => {
      if (this.latest === entry) this.latest = undefined;
    });
    return nodes;
  }

  /** The node's engine as a bare connection (its config-only network, see spaces-network.ts). */
  connection(hostname: string): Connection {
    this.engine(hostname); // a node missing from KNOT_SWARM_ENGINES throws here, and says so
    let conn = this.connections.get(hostname);
    if (!conn) this.connections.set(hostname, (conn = new Connection(this.engineHosts[hostname])));
    return conn;
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
    const nodes = await this.list(START_NODES_MAX_AGE_MS);
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
    for (const conn of this.connections.values()) conn.close();
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
