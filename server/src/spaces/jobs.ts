import type { SpaceDeps } from './deps.js';

/** Tracks the background jobs (start, stop, restart) so shutdown and tests can wait for them. */
export class SpaceJobs {
  private running = new Set<Promise<unknown>>();
  constructor(private deps: SpaceDeps) {}

  run(job: (deps: SpaceDeps) => Promise<unknown>): void {
    const promise = job(this.deps)
      .catch((err) => this.deps.log.error({ err }, 'space job failed'))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }
}
