// The swarm seen from one node: a space's images, volumes and agent package are made on the node
// it is placed on (through that node's engine), and its service is pinned there.
import { RuntimeUnavailableError } from '../errors.js';
import type {
  ContainerSpec, ExecOptions, Labels, NetworkSpec, PullProgress, Runtime, SpacePlacement, VolumeFill,
} from '../runtime.js';
import type { SwarmRuntime } from './swarm-runtime.js';
import { SERVICE_NAME_LABEL } from './task-start.js';

export class NodeRuntime implements Runtime {
  constructor(
    private readonly swarm: SwarmRuntime,
    readonly hostname: string,
    private readonly engine: Runtime,
  ) {}

  ping() { return this.swarm.ping(); }
  placeSpace(request: SpacePlacement) { return this.swarm.placeSpace(request); }
  onNode(node: string | null) { return this.swarm.onNode(node); }

  hasImage(ref: string) { return this.named(() => this.engine.hasImage(ref)); }
  pullImage(ref: string, onProgress?: PullProgress) { return this.named(() => this.engine.pullImage(ref, onProgress)); }
  removeImage(ref: string) { return this.named(() => this.engine.removeImage(ref)); }

  createVolume(name: string, labels?: Labels) { return this.named(() => this.engine.createVolume(name, labels)); }
  removeVolume(name: string) { return this.named(() => this.engine.removeVolume(name)); }
  listVolumes(labels?: Labels) { return this.named(() => this.engine.listVolumes(labels)); }
  listVolumeSummaries(labels?: Labels) { return this.named(() => this.engine.listVolumeSummaries(labels)); }
  inspectVolume(name: string) { return this.named(() => this.engine.inspectVolume(name)); }
  fillVolume(spec: VolumeFill) { return this.named(() => this.engine.fillVolume(spec)); }

  ensureNetwork(spec: NetworkSpec) { return this.swarm.ensureNetwork(spec); }
  removeNetwork(name: string) { return this.swarm.removeNetwork(name); }

  runContainer(spec: ContainerSpec) { return this.swarm.runService(spec, this.hostname); }
  stopAndRemoveContainer(idOrName: string, opts?: { timeoutSeconds?: number }) { return this.swarm.stopAndRemoveContainer(idOrName, opts); }
  /**
   * A container of this node is asked of the node's engine first: it knows a container the moment
   * it starts, while the manager's task list shows it a little later (a start returns as soon as
   * the node reports it, see task-start.ts). Anything else, or a node that does not answer, is
   * the swarm's view (which also tells a node that is down).
   */
  async inspectContainer(idOrName: string) {
    const here = await this.engine.inspectContainer(idOrName).catch(() => null);
    if (!here?.running) return this.swarm.inspectContainer(idOrName);
    return { ...here, name: here.labels[SERVICE_NAME_LABEL] ?? here.name, node: this.hostname };
  }
  listContainers(labels?: Labels) { return this.swarm.listContainers(labels); }
  containerLogs(idOrName: string, tail?: number) { return this.swarm.containerLogs(idOrName, tail); }
  watchEvents(...args: Parameters<Runtime['watchEvents']>) { return this.swarm.watchEvents(...args); }

  exec(containerId: string, opts: ExecOptions) { return this.named(() => this.engine.exec(containerId, opts)); }
  execCollect(containerId: string, cmd: string[]) { return this.named(() => this.engine.execCollect(containerId, cmd)); }
  execDetached(containerId: string, opts: ExecOptions) { return this.named(() => this.engine.execDetached(containerId, opts)); }
  runningExecs(containerId: string) { return this.named(() => this.engine.runningExecs(containerId)); }

  /** An engine that does not answer is, for its spaces, a node that is down: the error says which. */
  private async named<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof RuntimeUnavailableError)) throw err;
      throw new RuntimeUnavailableError(`node ${this.hostname} is down: ${err.message}`, { cause: err });
    }
  }

  /** The swarm runtime closes the engines. */
  close(): void {}
}
