// Translates Knot's plain ContainerSpec into a Swarm service: one task, never restarted by the
// swarm (Knot decides restarts), pinned to one node so the space's volumes are where it runs.
import { envList } from '../container-spec.js';
import type { ContainerSpec } from '../runtime.js';

/** What the service needs beyond the container: where it runs and which network keeps it apart. */
export interface Placement {
  nodeId: string;
  /** The spaces' isolating swarm bridge (spaces-network.ts), or the network the job names. */
  network?: string;
}

export function toServiceSpec(spec: ContainerSpec, placement: Placement): Record<string, unknown> {
  const ports = (spec.ports ?? []).map((p) => ({
    Protocol: p.protocol ?? 'tcp',
    TargetPort: p.containerPort,
    ...(p.hostPort ? { PublishedPort: p.hostPort } : {}),
    // Host mode: the port opens on the space's node, as it does on the single engine; ingress
    // (the routing mesh) would open it on every node of the swarm.
    PublishMode: 'host',
  }));
  return {
    Name: spec.name,
    Labels: spec.labels ?? {},
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        ...(spec.cmd ? { Command: spec.cmd } : {}),
        Env: envList(spec.env),
        // On the container too: the node's engine reports its events with these labels.
        Labels: spec.labels ?? {},
        Hostname: spec.hostname,
        // Same reason as on one engine: without an init, `sleep` as PID 1 ignores SIGTERM.
        Init: true,
        Mounts: (spec.mounts ?? []).map((m) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly ?? false })),
        CapabilityAdd: spec.capAdd,
        CapabilityDrop: spec.capDrop,
        ...(spec.dns?.length ? { DNSConfig: { Nameservers: spec.dns } } : {}),
        // Swarm writes "IP hostname"; Docker's host-gateway alias is not resolved for services.
        Hosts: (spec.extraHosts ?? []).filter((h) => !h.endsWith(':host-gateway')).map((h) => {
          const i = h.lastIndexOf(':');
          return `${h.slice(i + 1)} ${h.slice(0, i)}`;
        }),
        ...(spec.pidsLimit ? { PidsLimit: spec.pidsLimit } : {}),
      },
      Resources: {
        Limits: {
          ...(spec.memoryBytes ? { MemoryBytes: spec.memoryBytes } : {}),
          ...(spec.nanoCpus ? { NanoCPUs: spec.nanoCpus } : {}),
        },
      },
      RestartPolicy: { Condition: 'none' },
      Placement: { Constraints: [`node.id == ${placement.nodeId}`] },
      ...(placement.network ? { Networks: [{ Target: placement.network }] } : {}),
    },
    Mode: { Replicated: { Replicas: 1 } },
    // No virtual IP: it would need IPVS on every node, and a space is one task, reached by its own name.
    EndpointSpec: { Mode: 'dnsrr', ...(ports.length ? { Ports: ports } : {}) },
  };
}

/** Keys a swarm service cannot honour; refused at start rather than silently dropped. */
export function unsupportedOnSwarm(spec: ContainerSpec): string | null {
  if (spec.privileged) return '"privileged" (Swarm services cannot run privileged containers)';
  if (spec.devices?.length) return '"devices" (Swarm services cannot map host devices)';
  return null;
}
