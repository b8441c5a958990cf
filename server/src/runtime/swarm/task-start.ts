// When a service's one task is running. The node's own engine says so first: its container's
// 'start' event arrives 40–90 ms before the manager's task list shows `running` (measured), and a
// start waits on exactly that. The manager is still asked (less often) for what only it knows: a
// task rejected or failed before any container existed, and as the fallback if the node's event
// stream is not there.
import { RuntimeError } from '../errors.js';
import type { Connection } from '../connection.js';
import type { Runtime } from '../runtime.js';
import { TERMINAL_STATES, currentTask } from './tasks.js';

/** Swarm's label on a task's container naming its service. */
export const SERVICE_NAME_LABEL = 'com.docker.swarm.service.name';
const TASK_POLL_MS = 25;
const TASK_START_TIMEOUT_MS = 120_000;
/** How long a start waits for the node's event stream before relying on the manager alone. */
const EVENTS_READY_MS = 2_000;

export interface TaskStart {
  /** Resolves once the node's event stream is open (or after EVENTS_READY_MS): create the service then. */
  ready: Promise<void>;
  /** The task's container id once it runs; rejects when the task ends without running. */
  running(): Promise<string>;
  close(): void;
}

/** Watches for `service`'s task to run on the node whose engine is `engine`. Open it before creating the service. */
export function watchTaskStart(manager: Connection, engine: Runtime, service: string): TaskStart {
  let closed = false;
  let started!: (containerId: string) => void;
  const onNode = new Promise<string>((resolve) => (started = resolve));
  const events = engine.watchEvents(
    (e) => {
      if (e.action === 'start') started(e.containerId);
    },
    { labels: { [SERVICE_NAME_LABEL]: service } },
  );
  const ready = Promise.race([events.ready, new Promise<void>((r) => setTimeout(r, EVENTS_READY_MS).unref())]);

  const fromManager = async (): Promise<string> => {
    const deadline = Date.now() + TASK_START_TIMEOUT_MS;
    for (;;) {
      if (closed) return new Promise<never>(() => {}); // settled by the node's event
      const task = await currentTask(manager, service);
      if (task?.state === 'running' && task.containerId) return task.containerId;
      if (task && TERMINAL_STATES.has(task.state)) {
        throw new RuntimeError(`container ${service} could not be started: ${task.error || `its task ended ${task.state}`}`, 'start-failed');
      }
      if (Date.now() > deadline) throw new RuntimeError(`container ${service} did not start within ${TASK_START_TIMEOUT_MS / 1000} s (task ${task?.state ?? 'not created'})`, 'start-failed');
      await new Promise((r) => setTimeout(r, TASK_POLL_MS));
    }
  };

  return {
    ready,
    running: () => Promise.race([onNode, fromManager()]),
    close() {
      closed = true;
      events.close();
    },
  };
}
