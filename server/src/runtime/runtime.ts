// The container runtime as the rest of Knot sees it: plain data in, plain data out,
// one method per verb. Only docker-runtime.ts knows that Docker (and dockerode) is behind it.
import type { Readable, Writable } from 'node:stream';

export type Labels = Record<string, string>;

export interface MountSpec {
  /** 'volume': a named Docker volume (created on first use); 'bind': a host path. */
  type: 'volume' | 'bind';
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface PortSpec {
  containerPort: number;
  /** Omitted or 0: the engine picks a free host port. */
  hostPort?: number;
  hostIp?: string;
  protocol?: 'tcp' | 'udp';
}

export interface DeviceSpec {
  hostPath: string;
  containerPath?: string;
  /** cgroup permissions, default 'rwm'. */
  permissions?: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** Undefined keeps the image's default command. */
  cmd?: string[];
  env?: Record<string, string> | string[];
  labels?: Labels;
  mounts?: MountSpec[];
  ports?: PortSpec[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  networkMode?: string;
  hostname?: string;
  devices?: DeviceSpec[];
  dns?: string[];
  memoryBytes?: number;
  nanoCpus?: number;
  /** "name:ip" entries, as in /etc/hosts. */
  extraHosts?: string[];
  /** Most processes the container may run at once (a fork bomb stops there). */
  pidsLimit?: number;
}

export interface NetworkSpec {
  name: string;
  labels?: Labels;
  /** false: containers on the network cannot open connections to each other (only to the host and beyond). */
  interContainer: boolean;
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  running: boolean;
  /** Docker's state: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  /** Exit code of the last run; null while it never ran or still runs. */
  exitCode: number | null;
  oomKilled: boolean;
  /** HostConfig.Memory: the memory limit it runs under, null when it has none. */
  memoryLimitBytes: number | null;
  /** Why the engine could not run it, if it says so. */
  error: string;
  labels: Labels;
  env: Record<string, string>;
  /** On a swarm: the hostname of the node it runs on. */
  node?: string;
  /** On a swarm: its node is down (or its engine does not answer), so nothing is known of it but that. */
  lostNode?: string;
  /** Present when the image (or container) has a HEALTHCHECK. */
  health?: {
    /** Docker's: starting, healthy, unhealthy. */
    status: string;
    failingStreak: number;
    /** Why the last run failed, when it did. */
    lastFailure: string | null;
  };
}

export interface ContainerSummary {
  id: string;
  name: string;
  image: string;
  running: boolean;
  state: string;
  labels: Labels;
  /** When the engine created it (to the second). */
  createdAt: Date;
}

export interface VolumeSummary {
  name: string;
  labels: Labels;
  /** When the engine created it (to the second). */
  createdAt: Date;
}

export type ContainerAction =
  | 'create' | 'start' | 'die' | 'stop' | 'kill' | 'oom' | 'destroy' | 'restart'
  | 'pause' | 'unpause' | 'rename' | 'health_status' | (string & {});

export interface ContainerEvent {
  containerId: string;
  name: string;
  image: string;
  /** Docker's action without its detail ("exec_start: sh" → "exec_start"). */
  action: ContainerAction;
  /** Present on 'die'. */
  exitCode?: number;
  /** What follows the action ("health_status: unhealthy" → "unhealthy"). */
  detail?: string;
  labels: Labels;
  /** Engine time in nanoseconds since the epoch; used to resume after a reconnect. */
  timeNano: bigint;
}

export interface WatchOptions {
  /** Only containers carrying all these labels. */
  labels?: Labels;
  /** The stream broke (engine restarted or unreachable); a reconnect is scheduled. */
  onError?: (err: Error) => void;
  /** The stream is back after an onError; events missed meanwhile are replayed. */
  onReconnect?: () => void;
}

export interface EventWatch {
  /** Resolves once the first connection is established. */
  ready: Promise<void>;
  close(): void;
}

export interface ExecOptions {
  cmd: string[];
  env?: Record<string, string> | string[];
  tty?: boolean;
  user?: string;
  workingDir?: string;
}

export interface ExecSession {
  stdin: Writable;
  /** With a tty: everything the terminal shows. Without: the process's stdout. */
  output: Readable;
  /** Without a tty: the process's stderr. With a tty it stays empty (the tty merges them). */
  stderr: Readable;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves when the process has exited. */
  exitCode(): Promise<number>;
  /** Drops the connection; the process sees its tty hang up or its stdin close. */
  close(): void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A volume that holds files Knot ships (e.g. the agent's runtime), filled once and then mounted read-only. */
export interface VolumeFill {
  name: string;
  labels?: Labels;
  /**
   * Added to the helper container's labels (beside FILL_HELPER_LABEL), so that the helper of a
   * server killed mid-fill can be found and removed by whoever owns it.
   */
  helperLabels?: Labels;
  /** Any image the engine has: files reach a volume only through a container, created from it and never started. */
  image: string;
  /** A path in the archive, written last: while it exists, the volume is complete and is left as it is. */
  marker: string;
  /** A tar stream of the files, made only when the volume lacks them. */
  archive: () => Readable;
}

/** On the never-started helper container of a volume fill: the volume it fills. */
export const FILL_HELPER_LABEL = 'knot.fill';
/** On a fill helper: the replica (server process) whose copy it is; once that replica is gone, so is the copy. */
export const FILL_OWNER_LABEL = 'knot.fill-owner';
/**
 * A fill helper lives while its copy runs (at most FILL_COPY_TIMEOUT_MS); one older than this
 * belongs to a server that was killed mid-fill, whatever replica made it.
 */
export const FILL_COPY_TIMEOUT_MS = 300_000;
export const FILL_HELPER_MAX_AGE_SECONDS = (2 * FILL_COPY_TIMEOUT_MS) / 1000;

export type PullProgress = (percent: number, status: string) => void;

/** A 'die' event's detail when the container did not exit but its node went down (swarm). */
export const LOST_NODE_DETAIL = 'node-lost';

export interface SpacePlacement {
  /** The node the space's volumes are on (it ran there before), or null for a first start. */
  pinned: string | null;
  /** The template's constraints in Swarm's syntax (`node.hostname == build-1`), for a first start. */
  constraints: string[];
}

export interface Runtime {
  /** Throws RuntimeUnavailableError when the engine cannot be reached. */
  ping(): Promise<void>;

  /**
   * Where a space starts: on one engine, null (there is only the one); on a swarm, the hostname of
   * its pinned node, or of the node picked for a first start. Throws when no node can take it.
   */
  placeSpace(request: SpacePlacement): Promise<string | null>;
  /** The runtime whose images, volumes and new containers are on that node; itself for null or one engine. */
  onNode(node: string | null): Runtime;

  hasImage(ref: string): Promise<boolean>;
  /** Pulls a missing image (one present is left as it is); concurrent callers share one pull. */
  pullImage(ref: string, onProgress?: PullProgress): Promise<void>;
  /** Untags/removes a local image; a missing image is fine. */
  removeImage(ref: string): Promise<void>;

  createVolume(name: string, labels?: Labels): Promise<void>;
  /** A missing volume is fine. */
  removeVolume(name: string): Promise<void>;
  listVolumes(labels?: Labels): Promise<string[]>;
  /** Like listVolumes, with each volume's labels and creation time. */
  listVolumeSummaries(labels?: Labels): Promise<VolumeSummary[]>;
  /** One volume by its exact name, or null when the engine has none of that name. */
  inspectVolume(name: string): Promise<VolumeSummary | null>;

  /**
   * Creates the bridge network if it is missing and returns its id. One that exists under the name
   * but lets containers talk when `interContainer` is false is refused, not used.
   */
  ensureNetwork(spec: NetworkSpec): Promise<string>;
  /** Removes every network of that name; a missing one is fine. */
  removeNetwork(name: string): Promise<void>;

  /** Creates and starts; if the start fails, the created container is removed. Returns the id. */
  runContainer(spec: ContainerSpec): Promise<string>;
  /** Stops (gracefully for timeoutSeconds, then killed) and removes. Missing or stopped is fine. */
  stopAndRemoveContainer(idOrName: string, opts?: { timeoutSeconds?: number }): Promise<void>;
  /** Null when there is no such container. */
  inspectContainer(idOrName: string): Promise<ContainerInfo | null>;
  /** Running and stopped containers carrying all these labels. */
  listContainers(labels?: Labels): Promise<ContainerSummary[]>;
  /** The last lines the container wrote (stdout and stderr), e.g. to explain why it died. */
  containerLogs(idOrName: string, tail?: number): Promise<string>;

  watchEvents(onEvent: (e: ContainerEvent) => void, opts?: WatchOptions): EventWatch;

  exec(containerId: string, opts: ExecOptions): Promise<ExecSession>;
  execCollect(containerId: string, cmd: string[]): Promise<ExecResult>;
  /** Starts a process in a running container and returns once the engine started it; nobody waits for it. */
  execDetached(containerId: string, opts: ExecOptions): Promise<void>;
  /** The commands of the exec'd processes that still run in the container (e.g. to tell whether a detached daemon died). */
  runningExecs(containerId: string): Promise<string[][]>;

  /** Creates the volume if it is missing and copies the archive in unless its marker is there already. */
  fillVolume(spec: VolumeFill): Promise<'present' | 'filled'>;

  /** Ends event watches and exec sessions still open. */
  close(): void;
}
