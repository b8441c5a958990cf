// Translates Knot's plain ContainerSpec into the engine's create-container body.
import type Docker from 'dockerode';
import type { ContainerSpec } from './runtime.js';

export function envList(env: Record<string, string> | string[] | undefined): string[] {
  if (!env) return [];
  return Array.isArray(env) ? env : Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

export function envRecord(list: string[] | null | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of list ?? []) {
    const eq = entry.indexOf('=');
    if (eq < 0) env[entry] = '';
    else env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

export function labelFilter(labels: Record<string, string> | undefined): { label: string[] } {
  return { label: Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`) };
}

export function toCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const exposedPorts: Record<string, object> = {};
  const portBindings: Record<string, { HostIp?: string; HostPort: string }[]> = {};
  for (const p of spec.ports ?? []) {
    const key = `${p.containerPort}/${p.protocol ?? 'tcp'}`;
    exposedPorts[key] = {};
    (portBindings[key] ??= []).push({
      ...(p.hostIp ? { HostIp: p.hostIp } : {}),
      HostPort: p.hostPort ? String(p.hostPort) : '',
    });
  }

  return {
    name: spec.name,
    Image: spec.image,
    Cmd: spec.cmd,
    Env: envList(spec.env),
    Labels: spec.labels ?? {},
    Hostname: spec.hostname,
    ExposedPorts: exposedPorts,
    HostConfig: {
      // Without an init as PID 1, a process like `sleep` ignores SIGTERM and every stop
      // waits out the whole grace period before the engine kills it.
      Init: true,
      Mounts: (spec.mounts ?? []).map((m) => ({
        Type: m.type,
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly ?? false,
      })),
      PortBindings: portBindings,
      CapAdd: spec.capAdd,
      CapDrop: spec.capDrop,
      Privileged: spec.privileged ?? false,
      NetworkMode: spec.networkMode,
      Devices: (spec.devices ?? []).map((d) => ({
        PathOnHost: d.hostPath,
        PathInContainer: d.containerPath ?? d.hostPath,
        CgroupPermissions: d.permissions ?? 'rwm',
      })),
      Dns: spec.dns,
      Memory: spec.memoryBytes,
      // Memory plus swap equal to memory: no swap on top, so `memory: 2g` is 2 GiB, not 2 GiB
      // of RAM and as much again of swap (Docker's default), and going over it is an OOM kill.
      MemorySwap: spec.memoryBytes,
      NanoCpus: spec.nanoCpus,
      ExtraHosts: spec.extraHosts,
      PidsLimit: spec.pidsLimit,
    },
  };
}
