// Services and their one task, as the manager reports them.
import { swarmApi } from './loose-api.js';
import type { Connection } from '../connection.js';
import { statusOf } from '../errors.js';

export interface ServiceView {
  id: string;
  name: string;
  image: string;
  labels: Record<string, string>;
  createdAt: Date;
  /** The overlay network the service's task joins, if any. */
  networks: string[];
}

export interface TaskView {
  id: string;
  serviceId: string;
  nodeId: string;
  /** Swarm's task state: new, pending, assigned, accepted, preparing, starting, running, complete, failed, shutdown, rejected, orphaned, remove. */
  state: string;
  desiredState: string;
  error: string;
  containerId: string | null;
  exitCode: number | null;
  createdAt: string;
}

interface RawService {
  ID: string;
  CreatedAt?: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { ContainerSpec?: { Image?: string }; Networks?: { Target?: string }[] };
  };
}

interface RawTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
}

export const TERMINAL_STATES = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

function toService(raw: RawService): ServiceView {
  return {
    id: raw.ID,
    name: raw.Spec?.Name ?? raw.ID,
    image: raw.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '',
    labels: raw.Spec?.Labels ?? {},
    createdAt: raw.CreatedAt ? new Date(raw.CreatedAt) : new Date(),
    networks: (raw.Spec?.TaskTemplate?.Networks ?? []).map((n) => n.Target ?? '').filter(Boolean),
  };
}

function toTask(raw: RawTask): TaskView {
  const status = raw.Status ?? {};
  return {
    id: raw.ID,
    serviceId: raw.ServiceID,
    nodeId: raw.NodeID ?? '',
    state: status.State ?? 'new',
    desiredState: raw.DesiredState ?? '',
    error: status.Err ?? '',
    containerId: status.ContainerStatus?.ContainerID || null,
    exitCode: status.ContainerStatus?.ExitCode ?? null,
    createdAt: raw.CreatedAt ?? '',
  };
}

export async function inspectService(conn: Connection, idOrName: string): Promise<ServiceView | null> {
  try {
    const raw = await conn.call('inspect service', (signal) => swarmApi(conn.docker).getService(idOrName).inspect({ abortSignal: signal } ));
    return toService(raw as RawService);
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

export async function listServices(conn: Connection, labels: Record<string, string> = {}): Promise<ServiceView[]> {
  const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) };
  const raw = await conn.call('list services', (signal) => swarmApi(conn.docker).listServices({ filters: JSON.stringify(filters), abortSignal: signal } ));
  return (raw as RawService[]).map(toService);
}

export async function listTasks(conn: Connection, filters: Record<string, string[]> = {}): Promise<TaskView[]> {
  const raw = await conn.call('list tasks', (signal) => swarmApi(conn.docker).listTasks({ filters: JSON.stringify(filters), abortSignal: signal } ));
  return (raw as RawTask[]).map(toTask);
}

/** The service's newest task (it has one; older ones linger as history until the service goes). */
export async function currentTask(conn: Connection, serviceId: string): Promise<TaskView | null> {
  const tasks = await listTasks(conn, { service: [serviceId] });
  return tasks.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0] ?? null;
}
