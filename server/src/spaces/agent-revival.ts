/**
 * Brings back the agent Knot injected into a running Docker space when it dies (killed by the
 * user, the OOM killer, a crash), instead of at the next start: until then the space has no icons,
 * no port links and no agent terminal.
 *
 * The gateway calls `lost` whenever an agent's connection on this replica drops. After a short
 * wait the agent is started again only if the space is RUNNING, its container runs and carries
 * the injected-agent label (a template that runs its own agent is the template's business), and
 * no agent process runs in it any more: a connection lost while the agent lives (a network blip)
 * is the agent's own to re-establish. A revived agent that dies within a minute counts as the
 * next try, each waiting twice as long; after `agentRestartLimit` tries Knot stops and says so on
 * the space (its notice, shown while it runs) until the space is started again. One that dies
 * before it connects drops no connection, so each start is checked once more a little later.
 */
import { AGENT_LOG_FILE, isInjectedAgent, prepareAgent } from './agent-injection.js';
import { LABELS, type SpaceDeps } from './deps.js';
import { findSpace, publishSpace, updateWhile } from './store.js';

/** A revived agent that ran this long was fine: its next death starts counting afresh. */
const STABLE_MS = 60_000;
/** The longest wait between two tries. */
const MAX_DELAY_MS = 60_000;
/** How soon after a start the agent must still run (a crash at start drops no connection). */
const CHECK_AFTER_MS = 5_000;

interface Tries {
  /** The container they were for: a new start of the space (a new container) starts afresh. */
  containerId: string;
  /** Starts in a row, each followed by a death within STABLE_MS. */
  count: number;
  lastAt: number;
  gaveUp: boolean;
}

export class AgentRevival {
  private tries = new Map<string, Tries>();
  private timers = new Map<string, NodeJS.Timeout>();
  private pending = new Set<Promise<unknown>>();
  private disposed = false;

  constructor(private readonly deps: SpaceDeps) {}

  /** The space's agent connection dropped on this replica. */
  lost(spaceId: string): void {
    if (this.disposed || this.timers.has(spaceId)) return;
    let tries = this.tries.get(spaceId);
    if (tries && Date.now() - tries.lastAt > STABLE_MS && !tries.gaveUp) {
      this.tries.delete(spaceId);
      tries = undefined;
    }
    // Given up: looked at only to notice a new container (the space was started again).
    const delay = tries?.gaveUp
      ? this.deps.config.agentRestartBackoffMs
      : Math.min(this.deps.config.agentRestartBackoffMs * 2 ** (tries?.count ?? 0), MAX_DELAY_MS);
    this.after(spaceId, delay, () => this.revive(spaceId));
  }

  /** Server shutdown: nothing more is started; a start under way is awaited. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private after(spaceId: string, ms: number, run: () => Promise<void>) {
    const timer = setTimeout(() => {
      this.timers.delete(spaceId);
      if (this.disposed) return;
      const job = run().catch((err) => this.deps.log.warn({ spaceId, err }, 'could not bring back the Knot agent of a running space'));
      this.pending.add(job);
      void job.finally(() => this.pending.delete(job));
    }, ms);
    timer.unref();
    this.timers.set(spaceId, timer);
  }

  private async revive(spaceId: string): Promise<void> {
    const { db, log } = this.deps;
    const space = await findSpace(db, spaceId);
    if (!space || space.status !== 'RUNNING' || !space.containerId) {
      this.tries.delete(spaceId);
      return;
    }
    const runtime = this.deps.runtime.onNode(space.node);
    const container = await runtime.inspectContainer(space.containerId);
    if (!container?.running || container.labels[LABELS.agent] !== 'injected') return;
    if ((await runtime.runningExecs(container.id)).some(isInjectedAgent)) return;

    const known = this.tries.get(spaceId);
    const tries = known?.containerId === container.id ? known : { containerId: container.id, count: 0, lastAt: 0, gaveUp: false };
    if (tries.gaveUp) return;
    if (tries.count >= this.deps.config.agentRestartLimit) {
      tries.gaveUp = true;
      this.tries.set(spaceId, tries);
      log.warn({ spaceId, tries: tries.count }, 'the Knot agent of a running space keeps dying; not starting it again until the space restarts');
      const notice =
        `Knot's agent in this space stopped ${tries.count + 1} times in a row, so Knot no longer starts it again: ` +
        `the service icons and port links are missing until the space is restarted. Its log is ${AGENT_LOG_FILE} in the space.`;
      const row = await updateWhile(db, spaceId, 'RUNNING', { error: notice });
      if (row) await publishSpace(this.deps.pubsub, row, 'SERVICES');
      return;
    }
    tries.count += 1;
    tries.lastAt = Date.now();
    this.tries.set(spaceId, tries);
    const agent = await prepareAgent({ ...this.deps, runtime }, container.image);
    await agent.start(container.id);
    log.info({ spaceId, try: tries.count }, 'the Knot agent of a running space had stopped; started it again');
    this.after(spaceId, CHECK_AFTER_MS, async () => {
      const now = await runtime.runningExecs(container.id).catch(() => null);
      if (now && !now.some(isInjectedAgent)) this.lost(spaceId);
    });
  }
}
