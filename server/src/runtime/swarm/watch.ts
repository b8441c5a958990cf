// Truth from the swarm: each node's engine reports its containers' deaths (as on one engine), and
// the manager's view of the nodes reports what no engine can, a node gone. A space whose node is
// down, or whose node's engine stops answering, gets a 'die' of its container with the node named.
import type { ContainerEvent, EventWatch, Runtime, WatchOptions } from '../runtime.js';
import { RuntimeUnavailableError } from '../errors.js';
import type { SwarmRuntime } from './swarm-runtime.js';
import { listServices, listTasks } from './tasks.js';
import { LOST_NODE_DETAIL } from '../runtime.js';

const NODE_POLL_MS = 2_000;
const READY_WAIT_MS = 5_000;

export function watchSwarm(swarm: SwarmRuntime, onEvent: (e: ContainerEvent) => void, opts: WatchOptions = {}): EventWatch {
  let closed = false;
  const reported = new Set<string>();
  const down = new Set<string>();

  const nodeWatches = swarm.nodes.allEngines().map(([hostname, engine]: [string, Runtime]) =>
    engine.watchEvents(onEvent, {
      labels: opts.labels,
      onError: (err) => {
        opts.onError?.(err);
        // An engine that stops answering may be a node that died: look now, not at the next poll.
        void lostNode(hostname);
      },
      onReconnect: () => {
        down.delete(hostname);
        opts.onReconnect?.();
      },
    }),
  );

  /** Reports a 'die' for each Knot container that was running on the node. */
  const lostNode = async (hostname: string) => {
    if (closed) return;
    try {
      const nodes = await swarm.nodes.list();
      const node = nodes.find((n) => n.hostname === hostname);
      if (!node) return;
      const [tasks, services] = await Promise.all([
        listTasks(swarm.manager, { node: [node.id], 'desired-state': ['running'] }),
        listServices(swarm.manager, opts.labels),
      ]);
      for (const task of tasks) {
        const service = services.find((s) => s.id === task.serviceId);
        if (!service || !task.containerId || reported.has(task.containerId)) continue;
        const info = await swarm.inspectContainer(task.containerId).catch((err) => {
          if (err instanceof RuntimeUnavailableError) return null;
          throw err;
        });
        if (!info?.lostNode) continue;
        reported.add(task.containerId);
        onEvent({
          containerId: task.containerId,
          name: service.name,
          image: service.image,
          action: 'die',
          detail: LOST_NODE_DETAIL,
          labels: service.labels,
          timeNano: BigInt(Date.now()) * 1_000_000n,
        });
      }
    } catch (err) {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  };

  const poll = async () => {
    if (closed) return;
    try {
      for (const node of await swarm.nodes.list()) {
        if (node.state === 'ready') down.delete(node.hostname);
        else if (!down.has(node.hostname)) {
          down.add(node.hostname);
          await lostNode(node.hostname);
        }
      }
    } catch {
      // The manager's own unavailability is reported by the next command that needs it.
    }
    if (!closed) timer = setTimeout(() => void poll(), NODE_POLL_MS);
  };
  let timer = setTimeout(() => void poll(), NODE_POLL_MS);

  const timeout = (ready: Promise<void>) => Promise.race([ready, new Promise<void>((r) => setTimeout(r, READY_WAIT_MS).unref())]);
  return {
    // A node down at boot must not keep the server from starting.
    ready: Promise.all(nodeWatches.map((w) => timeout(w.ready))).then(() => {}),
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of nodeWatches) w.close();
    },
  };
}
