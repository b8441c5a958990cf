// The Runtime on a Docker Swarm (KNOT_RUNTIME=swarm). A space's container is a service with one
// task, pinned to one node. The manager (DOCKER_HOST) owns services, tasks and nodes; each node's
// own engine (KNOT_SWARM_ENGINES) holds its images and volumes and runs exec. docs/scale-out.md.
import { swarmApi } from './loose-api.js';
import { Connection, DEFAULT_DOCKER_HOST, type ConnectionOptions } from '../connection.js';
import { RuntimeError, RuntimeUnavailableError, engineMessage, statusOf } from '../errors.js';
import { FILL_HELPER_LABEL } from '../runtime.js';
import type {
  ContainerInfo, ContainerSpec, ContainerSummary, EventWatch, ExecOptions, ExecSession, Labels, NetworkSpec, PullProgress, Runtime,
  SpacePlacement, VolumeFill, VolumeSummary,
} from '../runtime.js';
import { constraintProblem } from './constraints.js';
import { managerAccess, nodeEngineAccess, type EngineSecurity } from './engine-access.js';
import { START_NODES_MAX_AGE_MS, SwarmNodes, type SwarmNode } from './nodes.js';
import { NodeRuntime } from './node-runtime.js';
import { toServiceSpec, unsupportedOnSwarm } from './service-spec.js';
import { SpacesNetworks } from './spaces-network.js';
import { watchTaskStart } from './task-start.js';
import { currentTask, inspectService, listServices, listTasks, type TaskView } from './tasks.js';
import { watchSwarm } from './watch.js';

export interface SwarmRuntimeOptions extends ConnectionOptions, EngineSecurity {
  /** Each node's engine by its hostname. */
  engines: Record<string, string>;
}

/** A container's id as an engine lists it (a swarm's service and task ids are not hex). */
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** Refuses, before connecting to anything, an engine that would be reached over the network without TLS. */
export function createSwarmRuntime(opts: SwarmRuntimeOptions): Runtime {
  const { engines, certPath, insecure, ...connection } = opts;
  const nodes = nodeEngineAccess(engines, { certPath, insecure });
  const endpoint = opts.dockerHost || process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST;
  const manager = new Connection({ ...connection, ...managerAccess(endpoint, opts.tls, { insecure }) });
  return new SwarmRuntime(manager, new SwarmNodes(manager, nodes));
}

export class SwarmRuntime implements Runtime {
  private readonly perNode = new Map<string, NodeRuntime>();
  private readonly open = new Set<{ close(): void }>();
  private readonly spacesNetworks: SpacesNetworks;
  /** The isolating networks ensureNetwork answered, by id: a service joining one needs its node's half first. */
  private readonly isolating = new Map<string, { name: string; labels: Labels }>();

  constructor(
    readonly manager: Connection,
    readonly nodes: SwarmNodes,
  ) {
    this.spacesNetworks = new SpacesNetworks(manager, (hostname) => nodes.connection(hostname));
  }

  async ping(): Promise<void> {
    const docker = this.manager.docker as unknown as { ping(opts: { abortSignal: AbortSignal }): Promise<unknown> };
    await this.manager.call('ping', (signal) => docker.ping({ abortSignal: signal }), { timeoutMs: 5_000 });
  }

  async placeSpace(request: SpacePlacement): Promise<string> {
    for (const c of request.constraints) {
      const problem = constraintProblem(c);
      if (problem) throw new RuntimeError(`the template's constraint ${problem}`, 'start-failed');
    }
    // A pinned start only needs its node's state; a first start also counts each node's spaces,
    // asked alongside the node list (which place() then reuses).
    const [counts] = await Promise.all([
      request.pinned ? new Map<string, number>() : this.spacesPerNode(),
      this.nodes.list(START_NODES_MAX_AGE_MS),
    ]);
    const node = await this.nodes.place(request.pinned, request.constraints, (id) => counts.get(id) ?? 0);
    return node.hostname;
  }

  onNode(node: string | null): Runtime {
    if (node === null) return this;
    let scoped = this.perNode.get(node);
    if (!scoped) this.perNode.set(node, (scoped = new NodeRuntime(this, node, this.nodes.engine(node))));
    return scoped;
  }

  private async spacesPerNode(): Promise<Map<string, number>> {
    const tasks = await listTasks(this.manager, { 'desired-state': ['running'] });
    const counts = new Map<string, number>();
    for (const t of tasks) counts.set(t.nodeId, (counts.get(t.nodeId) ?? 0) + 1);
    return counts;
  }

  // --- images, volumes: on every node Knot has an engine for (a space's own go through onNode) ---

  private async everyEngine<T>(fn: (engine: Runtime, hostname: string) => Promise<T>): Promise<T[]> {
    return Promise.all(this.nodes.allEngines().map(([hostname, engine]) => fn(engine, hostname)));
  }

  async hasImage(ref: string): Promise<boolean> {
    return (await this.everyEngine((e) => e.hasImage(ref))).every(Boolean);
  }

  /** Pulls on every node lacking it (any may take a space); the progress is the nodes' average. */
  async pullImage(ref: string, onProgress?: PullProgress): Promise<void> {
    const engines = this.nodes.allEngines();
    const percents = engines.map(() => 0);
    await Promise.all(
      engines.map(([hostname, engine], i) =>
        engine.pullImage(ref, (percent, status) => {
          percents[i] = percent;
          onProgress?.(percents.reduce((a, b) => a + b, 0) / percents.length, `${hostname}: ${status}`);
        }),
      ),
    );
  }

  async removeImage(ref: string): Promise<void> {
    await this.everyEngine((e) => e.removeImage(ref));
  }

  async createVolume(name: string): Promise<void> {
    throw new RuntimeError(`volume ${name} must be made on the node of its space`, 'create-failed');
  }

  async removeVolume(name: string): Promise<void> {
    await this.everyEngine((e) => e.removeVolume(name));
  }

  async listVolumes(labels?: Labels): Promise<string[]> {
    return [...new Set((await this.listVolumeSummaries(labels)).map((v) => v.name))];
  }

  async listVolumeSummaries(labels?: Labels): Promise<VolumeSummary[]> {
    return (await this.everyEngine((e) => e.listVolumeSummaries(labels))).flat();
  }

  async inspectVolume(name: string): Promise<VolumeSummary | null> {
    return (await this.everyEngine((e) => e.inspectVolume(name))).find((v) => v !== null) ?? null;
  }

  async fillVolume(spec: VolumeFill): Promise<'present' | 'filled'> {
    const outcomes = await this.everyEngine((e) => e.fillVolume(spec));
    return outcomes.includes('filled') ? 'filled' : 'present';
  }

  // --- networks ---

  /**
   * An isolated network is a swarm-scoped bridge with inter-container traffic off on every node
   * (spaces-network.ts); one that lets its members talk is an attachable overlay.
   */
  async ensureNetwork(spec: NetworkSpec): Promise<string> {
    if (!spec.interContainer) {
      const labels = spec.labels ?? {};
      const id = await this.spacesNetworks.swarmNetwork(spec.name);
      this.isolating.set(id, { name: spec.name, labels });
      return id;
    }
    const found = (await this.manager.call('list networks', (signal) =>
      swarmApi(this.manager.docker).listNetworks({ filters: JSON.stringify({ name: [spec.name] }), abortSignal: signal } ),
    ));
    const exact = found.find((n) => n.Name === spec.name);
    if (exact) return exact.Id;
    const made = await this.manager.call('create network', (signal) =>
      swarmApi(this.manager.docker).createNetwork({ Name: spec.name, Driver: 'overlay', Attachable: true, Labels: spec.labels ?? {}, abortSignal: signal } ),
    );
    return made.id;
  }

  async removeNetwork(name: string): Promise<void> {
    await this.manager.call('remove network', (signal) => this.manager.docker.getNetwork(name).remove({ abortSignal: signal })).catch((err) => {
      if (statusOf(err) !== 404) throw err;
    });
  }

  // --- services ---

  async runContainer(spec: ContainerSpec): Promise<string> {
    return this.onNode(await this.placeSpace({ pinned: null, constraints: [] })).runContainer(spec);
  }

  /** Creates the service on that node and waits for its task to run; a task that fails takes its service with it. */
  async runService(spec: ContainerSpec, hostname: string): Promise<string> {
    const unsupported = unsupportedOnSwarm(spec);
    if (unsupported) throw new RuntimeError(`container ${spec.name} could not be started: ${unsupported}`, 'start-failed');
    const isolating = spec.networkMode ? this.isolating.get(spec.networkMode) : undefined;
    const taskStart = watchTaskStart(this.manager, this.nodes.engine(hostname), spec.name);
    try {
      const [nodes] = await Promise.all([
        this.nodes.list(START_NODES_MAX_AGE_MS),
        isolating && this.spacesNetworks.onNode(hostname, isolating.name, isolating.labels),
        taskStart.ready,
      ]);
      const node = nodes.find((n) => n.hostname === hostname);
      if (!node || node.state !== 'ready') throw new RuntimeError(`container ${spec.name} could not be started: node ${hostname} is down`, 'start-failed');
      try {
        await this.manager.call('create service', (signal) =>
          swarmApi(this.manager.docker).createService({ ...toServiceSpec(spec, { nodeId: node.id, network: spec.networkMode }), abortSignal: signal } ),
        );
      } catch (err) {
        if (statusOf(err) === 409) throw new RuntimeError(`a container named ${spec.name} already exists`, 'name-conflict', { cause: err });
        if (statusOf(err) === undefined) throw err;
        this.spacesNetworks.forget();
        throw new RuntimeError(`container ${spec.name} could not be created: ${engineMessage(err)}`, 'create-failed', { cause: err });
      }
      try {
        return await taskStart.running();
      } catch (err) {
        this.spacesNetworks.forget();
        await this.stopAndRemoveContainer(spec.name, { timeoutSeconds: 0 }).catch(() => {});
        throw err;
      }
    } finally {
      taskStart.close();
    }
  }

  /** The service behind a service name or id, or behind one of its tasks' container ids. */
  private async resolve(idOrName: string): Promise<{ serviceId: string; name: string; labels: Labels; image: string; task: TaskView | null } | null> {
    const service = await inspectService(this.manager, idOrName);
    if (service) return { serviceId: service.id, name: service.name, labels: service.labels, image: service.image, task: await currentTask(this.manager, service.id) };
    const task = (await listTasks(this.manager)).find((t) => t.containerId === idOrName);
    if (!task) return null;
    const owner = await inspectService(this.manager, task.serviceId);
    if (!owner) return null;
    return { serviceId: owner.id, name: owner.name, labels: owner.labels, image: owner.image, task };
  }

  /** The engine of the node a task is on, and that node; the node is null when the swarm no longer lists it. */
  private async nodeOf(task: TaskView): Promise<{ node: SwarmNode | null; engine: Runtime | null }> {
    const node = (await this.nodes.byId(task.nodeId)) ?? null;
    if (!node) return { node, engine: null };
    try {
      return { node, engine: this.nodes.engine(node.hostname) };
    } catch {
      return { node, engine: null };
    }
  }

  async stopAndRemoveContainer(idOrName: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    const found = await this.resolve(idOrName);
    if (!found) {
      // Not a space's service or task: a container id from a node's own engine (a fill helper).
      if (CONTAINER_ID.test(idOrName)) await this.everyEngine((engine) => engine.stopAndRemoveContainer(idOrName, opts).catch((err) => {
        if (!(err instanceof RuntimeUnavailableError)) throw err;
      }));
      return;
    }
    // Stopped on its node first, with the grace period Knot gives; then the service goes. A node
    // that is down cannot be asked: removing the service is all there is to do.
    if (found.task?.containerId) {
      const { node, engine } = await this.nodeOf(found.task);
      if (engine && node?.state === 'ready') {
        await engine.stopAndRemoveContainer(found.task.containerId, opts).catch((err) => {
          if (!(err instanceof RuntimeUnavailableError)) throw err;
        });
      }
    }
    await this.manager.call('remove service', (signal) => swarmApi(this.manager.docker).getService(found.serviceId).remove({ abortSignal: signal } )).catch((err) => {
      if (statusOf(err) !== 404) throw err;
    });
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo | null> {
    const found = await this.resolve(idOrName);
    if (!found?.task) return null;
    const task = found.task;
    const { node, engine } = await this.nodeOf(task);
    const hostname = node?.hostname ?? task.nodeId;
    const base: ContainerInfo = {
      id: task.containerId ?? found.serviceId,
      name: found.name,
      image: found.image,
      running: task.state === 'running',
      state: task.state,
      exitCode: task.exitCode,
      oomKilled: false,
      memoryLimitBytes: null,
      error: task.error,
      labels: found.labels,
      env: {},
      node: hostname,
    };
    const lost = { ...base, running: false, state: 'node-down', exitCode: null, error: `node ${hostname} is down`, lostNode: hostname };
    if (!node || node.state !== 'ready') return task.state === 'running' || task.state === 'starting' ? lost : base;
    if (!engine || !task.containerId) return base;
    try {
      const onNode = await engine.inspectContainer(task.containerId);
      return onNode ? { ...onNode, name: found.name, node: hostname } : base;
    } catch (err) {
      // Its engine does not answer: for the space, the node is gone (the manager notices later).
      if (err instanceof RuntimeUnavailableError) return lost;
      throw err;
    }
  }

  /** The spaces' services, and the volume-fill helpers on the nodes' own engines (the manager does not see those). */
  async listContainers(labels?: Labels): Promise<ContainerSummary[]> {
    const [services, tasks, helpers] = await Promise.all([listServices(this.manager, labels), listTasks(this.manager), this.fillHelpers(labels)]);
    return [
      ...services.map((s) => {
        const task = tasks.filter((t) => t.serviceId === s.id).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
        return { id: s.id, name: s.name, image: s.image, running: task?.state === 'running', state: task?.state ?? 'new', labels: s.labels, createdAt: s.createdAt };
      }),
      ...helpers,
    ];
  }

  /**
   * Fill helpers are plain containers on a node (volume-fill.ts); a server killed mid-copy leaves
   * one for the garbage collector. A node whose engine does not answer is skipped: it is down.
   */
  private async fillHelpers(labels?: Labels): Promise<ContainerSummary[]> {
    const perNode = await this.everyEngine((engine) =>
      engine.listContainers(labels).then(
        (found) => found.filter((c) => c.labels[FILL_HELPER_LABEL] !== undefined),
        (err) => {
          if (err instanceof RuntimeUnavailableError) return [];
          throw err;
        },
      ),
    );
    return perNode.flat();
  }

  async containerLogs(idOrName: string, tail?: number): Promise<string> {
    const found = await this.resolve(idOrName);
    const { engine } = found?.task ? await this.nodeOf(found.task) : { engine: null };
    if (!found?.task?.containerId || !engine) throw new RuntimeError(`container ${idOrName} does not exist`, 'not-found');
    return engine.containerLogs(found.task.containerId, tail);
  }

  watchEvents(onEvent: Parameters<Runtime['watchEvents']>[0], opts?: Parameters<Runtime['watchEvents']>[1]): EventWatch {
    const watch = watchSwarm(this, onEvent, opts);
    this.open.add(watch);
    return { ready: watch.ready, close: () => (this.open.delete(watch), watch.close()) };
  }

  /** The engine of the node a container runs on. */
  async engineOf(containerId: string): Promise<Runtime> {
    const task = (await listTasks(this.manager)).find((t) => t.containerId === containerId);
    const engine = task && (await this.nodeOf(task)).engine;
    if (!engine) throw new RuntimeError(`container ${containerId} is on no node Knot has an engine for`, 'not-found');
    return engine;
  }

  async exec(containerId: string, opts: ExecOptions): Promise<ExecSession> {
    return (await this.engineOf(containerId)).exec(containerId, opts);
  }

  async execCollect(containerId: string, cmd: string[]) {
    return (await this.engineOf(containerId)).execCollect(containerId, cmd);
  }

  async execDetached(containerId: string, opts: ExecOptions): Promise<void> {
    return (await this.engineOf(containerId)).execDetached(containerId, opts);
  }

  async runningExecs(containerId: string): Promise<string[][]> {
    return (await this.engineOf(containerId)).runningExecs(containerId);
  }

  close(): void {
    for (const handle of this.open) handle.close();
    this.open.clear();
    this.nodes.close();
    this.manager.close();
  }
}
