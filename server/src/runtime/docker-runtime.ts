// The Runtime on a Docker engine. Docker's quirks stay in here: 304 from stopping a stopped
// container, 404 from removing a removed one, 409 while a removal is under way.
import type { Readable } from 'node:stream';
import { Connection, type ConnectionOptions } from './connection.js';
import { executableOf, missingExecutable } from './command-check.js';
import { envList, envRecord, labelFilter, toCreateOptions } from './container-spec.js';
import { RuntimeError, engineMessage, isConnectionError, statusOf } from './errors.js';
import { watchContainerEvents } from './events.js';
import { collectExec, runningExecs, startDetached, startExec } from './exec.js';
import { ensureNetwork, removeNetwork } from './networks.js';
import { PullProgress, type PullMessage } from './pull-progress.js';
import { sharedPulls } from './shared-pulls.js';
import { followProgress, splitLogs } from './streams.js';
import { fillVolume } from './volume-fill.js';
import type {
  ContainerInfo, ContainerSpec, ContainerSummary, EventWatch, ExecOptions, ExecSession, Labels, NetworkSpec, Runtime, VolumeFill, VolumeSummary,
} from './runtime.js';

export type DockerRuntimeOptions = ConnectionOptions;

const PING_TIMEOUT_MS = 5_000;
// Resolving a manifest can take a while on a slow registry before the engine answers at all.
const PULL_TIMEOUT_MS = 120_000;

export function createDockerRuntime(opts: DockerRuntimeOptions = {}): Runtime {
  return new DockerRuntime(new Connection(opts));
}

/** Rethrows unless the engine answered with one of the given statuses. */
function unless(...statuses: number[]) {
  return (err: unknown) => {
    if (!statuses.includes(statusOf(err) ?? -1)) throw err;
  };
}

class DockerRuntime implements Runtime {
  private readonly open = new Set<{ close(): void }>();

  constructor(private readonly conn: Connection) {}

  private get docker() {
    return this.conn.docker;
  }

  async ping(): Promise<void> {
    // @types/dockerode does not know that ping takes options (and so an abort signal).
    const docker = this.docker as unknown as { ping(opts: { abortSignal: AbortSignal }): Promise<unknown> };
    try {
      await this.conn.call('ping', (signal) => docker.ping({ abortSignal: signal }), { timeoutMs: PING_TIMEOUT_MS });
    } catch (err) {
      const status = statusOf(err);
      if (status === undefined) throw err;
      // Something answered, but not as an engine would (a proxy, another service on the port).
      const detail = engineMessage(err);
      throw this.conn.unavailable(new Error(`it answered HTTP ${status}${detail ? ` (${detail})` : ''}, not like a Docker engine`));
    }
  }

  /** One engine: everything is on it, and a template's constraints have nothing to choose between. */
  async placeSpace(): Promise<string | null> {
    return null;
  }

  onNode(): Runtime {
    return this;
  }

  async hasImage(ref: string): Promise<boolean> {
    try {
      await this.conn.call('inspect image', () => this.docker.getImage(ref).inspect());
      return true;
    } catch (err) {
      unless(404)(err);
      return false;
    }
  }

  /** Shared: callers asking for an image already being pulled wait on that pull (shared-pulls.ts). */
  readonly pullImage = sharedPulls((ref, onProgress) => this.pullFromEngine(ref, onProgress), (ref) => this.hasImage(ref));

  private async pullFromEngine(ref: string, onProgress: (percent: number, status: string) => void): Promise<void> {
    const progress = new PullProgress(onProgress);
    let failure: string | undefined;
    try {
      // The engine answers 200 and streams; most failures arrive as an `error` line, not a status.
      const stream = (await this.conn.call(
        'pull image',
        (signal) => this.docker.createImage({ fromImage: ref, abortSignal: signal }),
        { timeoutMs: PULL_TIMEOUT_MS },
      )) as Readable;
      await followProgress<PullMessage>(this.docker.modem, stream, (msg) => {
        if (msg.error) failure = msg.errorDetail?.message ?? msg.error;
        else progress.update(msg);
      });
    } catch (err) {
      if (isConnectionError(err)) throw this.conn.unavailable(err);
      failure = engineMessage(err);
    }
    if (failure !== undefined) throw new RuntimeError(`image ${ref} could not be pulled: ${failure}`, 'image-pull-failed');
    progress.finish(`Pulled ${ref}`);
  }

  async removeImage(ref: string): Promise<void> {
    await this.conn.call('remove image', (signal) => this.docker.getImage(ref).remove({ abortSignal: signal })).catch(unless(404));
  }

  async createVolume(name: string, labels: Labels = {}): Promise<void> {
    await this.conn.call('create volume', (signal) =>
      this.docker.createVolume({ Name: name, Labels: labels, abortSignal: signal }),
    );
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.conn.call('remove volume', (signal) => this.docker.getVolume(name).remove({ abortSignal: signal }));
    } catch (err) {
      if (statusOf(err) === 404) return;
      if (statusOf(err) === 409) throw new RuntimeError(`volume ${name} is in use by a container`, 'in-use', { cause: err });
      throw err;
    }
  }

  async listVolumes(labels?: Labels): Promise<string[]> {
    return (await this.listVolumeSummaries(labels)).map((v) => v.name);
  }

  async listVolumeSummaries(labels?: Labels): Promise<VolumeSummary[]> {
    const res = await this.conn.call('list volumes', (signal) =>
      this.docker.listVolumes({ filters: JSON.stringify(labelFilter(labels)), abortSignal: signal }),
    );
    // @types/dockerode does not list CreatedAt, which engines have sent since API 1.24. Without it,
    // "now": a volume of unknown age is taken for a young one, never for a forgotten one.
    return (res.Volumes ?? []).map((v) => {
      const createdAt = (v as { CreatedAt?: string }).CreatedAt;
      return { name: v.Name, labels: v.Labels ?? {}, createdAt: createdAt ? new Date(createdAt) : new Date() };
    });
  }

  async inspectVolume(name: string): Promise<VolumeSummary | null> {
    try {
      const v = await this.conn.call('inspect volume', (signal) => this.docker.getVolume(name).inspect({ abortSignal: signal }));
      const createdAt = (v as { CreatedAt?: string }).CreatedAt;
      return { name: v.Name, labels: v.Labels ?? {}, createdAt: createdAt ? new Date(createdAt) : new Date() };
    } catch (err) {
      unless(404)(err);
      return null;
    }
  }

  ensureNetwork(spec: NetworkSpec): Promise<string> {
    return ensureNetwork(this.conn, spec);
  }

  removeNetwork(name: string): Promise<void> {
    return removeNetwork(this.conn, name);
  }

  async runContainer(spec: ContainerSpec): Promise<string> {
    // Read alongside the create, for the command check; not worth failing over.
    const image = this.conn
      .call('inspect image', () => this.docker.getImage(spec.image).inspect())
      .then((info) => info.Config, () => undefined);
    const id = await this.createContainer(spec);
    try {
      const config = await image;
      const target = config && executableOf(spec.cmd, envList(spec.env), config);
      const missing = target && (await missingExecutable(this.docker.getContainer(id), target, config.WorkingDir || '/'));
      if (missing) throw new RuntimeError(`container ${spec.name} could not be started: ${missing}`, 'start-failed');
      await this.conn.call('start container', (signal) => this.docker.getContainer(id).start({ abortSignal: signal }));
      return id;
    } catch (err) {
      // Leave nothing half-made behind; if even that fails, the start error is the one to report.
      await this.conn
        .call('remove container', (signal) => this.docker.getContainer(id).remove({ force: true, abortSignal: signal }))
        .catch(() => {});
      if (err instanceof RuntimeError || statusOf(err) === undefined) throw err;
      throw new RuntimeError(`container ${spec.name} could not be started: ${engineMessage(err)}`, 'start-failed', { cause: err });
    }
  }

  private async createContainer(spec: ContainerSpec): Promise<string> {
    try {
      const created = await this.conn.call('create container', (signal) =>
        this.docker.createContainer({ ...toCreateOptions(spec), abortSignal: signal }),
      );
      return created.id;
    } catch (err) {
      if (statusOf(err) === 409) {
        throw new RuntimeError(`a container named ${spec.name} already exists`, 'name-conflict', { cause: err });
      }
      if (statusOf(err) === undefined) throw err;
      throw new RuntimeError(`container ${spec.name} could not be created: ${engineMessage(err)}`, 'create-failed', { cause: err });
    }
  }

  async stopAndRemoveContainer(idOrName: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    const t = opts.timeoutSeconds ?? 10;
    const container = this.docker.getContainer(idOrName);
    // 304: already stopped. 404: already gone. Both are where we want to be.
    await this.conn
      .call('stop container', (signal) => container.stop({ t, abortSignal: signal }), { timeoutMs: (t + 30) * 1000 })
      .catch(unless(304, 404));
    // force: it may have been restarted in between. 409: another removal is already under way.
    await this.conn
      .call('remove container', (signal) => container.remove({ force: true, abortSignal: signal }))
      .catch(unless(404, 409));
  }

  async inspectContainer(idOrName: string): Promise<ContainerInfo | null> {
    try {
      const info = await this.conn.call('inspect container', (signal) =>
        this.docker.getContainer(idOrName).inspect({ abortSignal: signal }),
      );
      const ranOnce = !info.State.Running && info.State.Status !== 'created';
      return {
        id: info.Id,
        name: info.Name.replace(/^\//, ''),
        image: info.Config.Image,
        running: info.State.Running,
        state: info.State.Status,
        exitCode: ranOnce ? info.State.ExitCode : null,
        oomKilled: info.State.OOMKilled,
        memoryLimitBytes: info.HostConfig.Memory || null,
        error: (info.State as { Error?: string }).Error ?? '',
        labels: info.Config.Labels ?? {},
        env: envRecord(info.Config.Env),
        ...(info.State.Health ? { health: imageHealth(info.State.Health as DockerHealth) } : {}),
      };
    } catch (err) {
      unless(404)(err);
      return null;
    }
  }

  async listContainers(labels?: Labels): Promise<ContainerSummary[]> {
    const list = await this.conn.call('list containers', (signal) =>
      this.docker.listContainers({ all: true, filters: JSON.stringify(labelFilter(labels)), abortSignal: signal }),
    );
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      image: c.Image,
      running: c.State === 'running',
      state: c.State,
      labels: c.Labels ?? {},
      createdAt: new Date(c.Created * 1000),
    }));
  }

  async containerLogs(idOrName: string, tail = 50): Promise<string> {
    try {
      const buf = (await this.conn.call('container logs', (signal) =>
        this.docker.getContainer(idOrName).logs({ stdout: true, stderr: true, tail, follow: false, abortSignal: signal }),
      )) as unknown as Buffer;
      const { stdout, stderr } = await splitLogs(this.docker.modem, Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
      return stdout + stderr;
    } catch (err) {
      if (statusOf(err) === 404) throw new RuntimeError(`container ${idOrName} does not exist`, 'not-found', { cause: err });
      throw err;
    }
  }

  watchEvents(onEvent: Parameters<Runtime['watchEvents']>[0], opts?: Parameters<Runtime['watchEvents']>[1]): EventWatch {
    const watch = watchContainerEvents(this.conn, onEvent, opts);
    return this.track(watch);
  }

  async exec(containerId: string, opts: ExecOptions): Promise<ExecSession> {
    const session = await startExec(this.conn, containerId, opts);
    this.open.add(session);
    session.stdin.once('close', () => this.open.delete(session));
    return session;
  }

  execCollect(containerId: string, cmd: string[]) {
    return collectExec(this.conn, containerId, cmd);
  }

  execDetached(containerId: string, opts: ExecOptions): Promise<void> {
    return startDetached(this.conn, containerId, opts);
  }

  runningExecs(containerId: string): Promise<string[][]> {
    return runningExecs(this.conn, containerId);
  }

  fillVolume(spec: VolumeFill): Promise<'present' | 'filled'> {
    return fillVolume(this.conn, spec);
  }

  close(): void {
    for (const handle of this.open) handle.close();
    this.open.clear();
    this.conn.close();
  }

  private track(watch: EventWatch): EventWatch {
    this.open.add(watch);
    return {
      ready: watch.ready,
      close: () => {
        this.open.delete(watch);
        watch.close();
      },
    };
  }
}

interface DockerHealth {
  Status?: string;
  FailingStreak?: number;
  Log?: { ExitCode?: number; Output?: string }[] | null;
}

/** The image's HEALTHCHECK as the engine last ran it. */
function imageHealth(health: DockerHealth): NonNullable<ContainerInfo['health']> {
  const last = health.Log?.at(-1);
  const output = last?.Output?.trim().split('\n').filter(Boolean).pop()?.trim() ?? '';
  return {
    status: health.Status ?? 'none',
    failingStreak: health.FailingStreak ?? 0,
    lastFailure: last && last.ExitCode !== 0 ? `the image's HEALTHCHECK exited with code ${last.ExitCode ?? 'unknown'}${output ? `: ${output.slice(0, 300)}` : ''}` : null,
  };
}
