import type { PullProgress } from './runtime.js';

type Pull = (ref: string, onProgress: PullProgress) => Promise<void>;

interface InFlight {
  done: Promise<void>;
  listeners: Set<PullProgress>;
  last?: [number, string];
}

/**
 * One engine pull per image at a time in this process, and none for an image the engine has: a start (or a template save) that needs an
 * image already being pulled waits on that pull and follows its progress from where it is, rather
 * than asking the engine again (the engine would fetch every manifest twice and report two pulls).
 */
export function sharedPulls(pull: Pull, isPresent: (ref: string) => Promise<boolean>): (ref: string, onProgress?: PullProgress) => Promise<void> {
  const inFlight = new Map<string, InFlight>();
  return (ref, onProgress = () => {}) => {
    let entry = inFlight.get(ref);
    if (!entry) {
      const started: InFlight = { done: Promise.resolve(), listeners: new Set() };
      const report: PullProgress = (percent, status) => {
        started.last = [percent, status];
        for (const listener of started.listeners) listener(percent, status);
      };
      // A caller that found the image missing just before another pull of it ended would pull it
      // again; asking first, inside the shared step, closes that gap.
      started.done = isPresent(ref)
        .then((present) => (present ? report(100, `${ref} is present`) : pull(ref, report)))
        .finally(() => inFlight.delete(ref));
      inFlight.set(ref, started);
      entry = started;
    } else if (entry.last) {
      onProgress(...entry.last);
    }
    const joined = entry;
    joined.listeners.add(onProgress);
    return joined.done.finally(() => joined.listeners.delete(onProgress));
  };
}
